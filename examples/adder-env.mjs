// A complete environment of one's own for Evolver (docs/custom-environment.md): the user asks for the sum of two
// numbers; the agent may call the `add` tool, then answers with the number alone. Every step reports a reward (was
// it right?), so the rule judge can attribute steps. Use it with env: { type: module, path: examples/adder-env.mjs }.
const tools = [{ type: "function", function: { name: "add", description: "Adds two integers.",
  parameters: { type: "object", properties: { a: { type: "integer" }, b: { type: "integer" } }, required: ["a", "b"] } } }];

export default function createAdder(options = {}) {
  const { max = 9, ...unknown } = options;
  if (!Number.isInteger(max) || max < 2 || max > 99) throw new Error(`max must be a whole number from 2 to 99, got ${max}`);
  if (Object.keys(unknown).length > 0) throw new Error(`unknown options: ${Object.keys(unknown).join(", ")}`);
  const tasks = { train: [], val: [], test: [] };
  for (let a = 1; a <= max; a++) for (let b = 1; b <= max; b++) tasks[["test", "val"][(7 * a + b) % 5] ?? "train"].push(`add-${a}-${b}`);
  return {
    name: "adder",
    listTasks: async (split) => tasks[split],
    profile: async () => ({ name: "adder", description: "Sums of two numbers", entities: [{ name: "number", operations: [{ name: "add" }] }] }),
    capabilities: async () => ({ stepRewards: true }),
    async create(taskId) {
      const [a, b] = (/^add-(\d+)-(\d+)$/.exec(taskId) ?? []).slice(1).map(Number);
      if (!(a <= max && b <= max)) throw new Error(`adder has no task '${taskId}'`);
      let answer;
      return {
        taskId,
        initial: { messages: [{ role: "user", content: `What is ${a} + ${b}? Reply with the number alone.` }], tools },
        async step(action) {
          const calls = action.tool_calls ?? [];
          if (calls.length === 0) {
            answer = action.content.trim();
            return { observations: [], done: true, reward: answer === String(a + b) ? 1 : 0 };
          }
          let right = true;
          const observations = calls.map((call) => {
            let args;
            try { args = JSON.parse(call.function.arguments || "{}"); } catch { args = undefined; }
            const ok = call.function.name === "add" && Number.isInteger(args?.a) && Number.isInteger(args?.b);
            right &&= ok && args.a + args.b === a + b;
            const content = ok ? String(args.a + args.b) : `Error: call add with integer arguments a and b`;
            return { role: "tool", tool_call_id: call.id, name: call.function.name, content };
          });
          return { observations, done: false, reward: right ? 1 : 0 };
        },
        evaluate: async () => ({ score: answer === String(a + b) ? 1 : 0, success: answer === String(a + b), details: {} }),
        release: async () => {},
      };
    },
  };
}
