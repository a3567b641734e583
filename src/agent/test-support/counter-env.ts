// A small tool environment for agent tests: the task "reach N" is solved by calling add(k) until the counter is
// N, then finish(). It records every action it receives, so tests can check what reached the environment.
import type { ChatMessage, ToolSchema } from "../../core/messages.js";
import type { EnvInstance, Environment, EnvProfile, Evaluation, Split, StepResult } from "../../env/index.js";

const tools: ToolSchema[] = [
  { type: "function", function: { name: "add", description: "Add k to the counter.", parameters: { type: "object", properties: { k: { type: "integer" } }, required: ["k"] } } },
  { type: "function", function: { name: "finish", description: "Say you are done.", parameters: { type: "object", properties: {} } } },
];

export class CounterEnvironment implements Environment {
  readonly name = "counter";
  readonly actions: ChatMessage[] = [];
  created = 0;
  released = 0;

  constructor(private readonly taskCount = 10) {}

  async listTasks(split: Split): Promise<string[]> {
    return Array.from({ length: this.taskCount }, (_, i) => `${split}-reach-${i + 1}`);
  }

  async profile(): Promise<EnvProfile> {
    return { name: this.name, description: "a counter", entities: [], taskPreferences: { numEntities: 1, numOperations: 1, relationDifficulty: 1, notes: "" } };
  }

  async create(taskId: string, params?: Record<string, unknown>): Promise<EnvInstance> {
    const target = typeof params?.target === "number" ? params.target : Number(/reach-(\d+)$/.exec(taskId)?.[1] ?? NaN);
    if (!Number.isFinite(target)) throw new Error(`no task '${taskId}'`);
    this.created += 1;
    let counter = 0;
    let finished = false;
    const env = this;
    return {
      taskId,
      initial: {
        messages: [
          { role: "system", content: "You operate a counter." },
          { role: "user", content: `Make the counter reach ${target}, then call finish.` },
        ],
        tools,
        info: { category: target % 2 === 0 ? "even" : "odd", target },
      },
      async step(action: ChatMessage): Promise<StepResult> {
        env.actions.push(action);
        const observations: ChatMessage[] = [];
        for (const call of action.tool_calls ?? []) {
          const args = JSON.parse(call.function.arguments || "{}") as { k?: number };
          if (call.function.name === "add") counter += args.k ?? 0;
          if (call.function.name === "finish") finished = true;
          observations.push({ role: "tool", tool_call_id: call.id, name: call.function.name, content: `counter=${counter}` });
        }
        if (!action.tool_calls?.length) observations.push({ role: "user", content: "Please use the tools." });
        return { observations, done: finished, info: {} };
      },
      async evaluate(): Promise<Evaluation> {
        const success = finished && counter === target;
        return { score: success ? 1 : 0, success, details: { turns: [{ passed: counter === target }, { passed: finished }] } };
      },
      async release() {
        env.released += 1;
      },
    };
  }
}
