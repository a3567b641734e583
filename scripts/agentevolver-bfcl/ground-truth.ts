// Ground-truth BFCL episodes through Evolver's RemoteEnvironment against AgentEvolver's own env_service (BFCL):
// each turn's reference calls (BFCL's possible_answer) written as Qwen <tool_call> text, then a text reply that ends
// the turn. Usage: node --import tsx scripts/agentevolver-bfcl/ground-truth.ts URL GORILLA_CHECKOUT [N_PER_SPLIT]
import { readFileSync } from "node:fs";
import { parseBfclCallsAsJson, RemoteEnvironment } from "../../src/env/index.js";

const url = process.argv[2] ?? "http://127.0.0.1:8093";
const gorilla = process.argv[3] ?? "../gorilla";
const perSplit = Number(process.argv[4] ?? 5);
const answers = new Map<string, string[][]>(
  readFileSync(`${gorilla}/berkeley-function-call-leaderboard/bfcl_eval/data/possible_answer/BFCL_v4_multi_turn_base.json`, "utf8")
    .trim().split("\n").map((line) => JSON.parse(line)).map((entry) => [entry.id, entry.ground_truth]),
);
const env = new RemoteEnvironment({ url, envType: "bfcl" });
console.log(`action_format=${env.actionFormat}; offered splits: ${(await env.offeredSplits()).join(", ")}`);
try {
  await env.listTasks("test");
  console.log("split test: read as the service's val");
} catch (error) {
  console.log(`split test: ${(error as Error).message}`);
}
const unmapped = new RemoteEnvironment({ url, envType: "bfcl", splits: { test: "test" } });
await unmapped.listTasks("test").catch((error) => console.log(`split test unmapped: ${error.code}: ${error.message}`));
// The same calls the way Evolver sent them before (in tool_calls, content empty): the service never runs them.
{
  const taskId = (await env.listTasks("train"))[0];
  const instance = await env.create(taskId);
  for (const turn of answers.get(taskId)!) {
    const calls = parseBfclCallsAsJson(`[${turn.join(", ")}]`).map((c, i) => ({ id: `call_${i}`, type: "function" as const, function: c }));
    await instance.step({ role: "assistant", content: "", tool_calls: calls });
    await instance.step({ role: "assistant", content: "Done." });
  }
  console.log(`${taskId} with the calls in tool_calls only: score ${(await instance.evaluate()).score}`);
  await instance.release();
}
let perfect = 0;
let total = 0;
for (const split of ["train", "test"] as const) {
  const tasks = (await env.listTasks(split)).slice(0, perSplit);
  for (const taskId of tasks) {
    const instance = await env.create(taskId);
    let steps = 0;
    let reward: number | undefined;
    try {
      for (const turn of answers.get(taskId)!) {
        // A turn without reference calls is answered in text only (an empty action would end it, and "Done." the next).
        if (turn.length > 0) {
          const calls = parseBfclCallsAsJson(`[${turn.join(", ")}]`);
          const text = calls.map((c) => `<tool_call>\n{"name": "${c.name}", "arguments": ${c.arguments}}\n</tool_call>`).join("\n");
          const afterCalls = await instance.step({ role: "assistant", content: text });
          steps += 1;
          if (steps === 1) console.log(`  first observation: ${JSON.stringify(afterCalls.observations).slice(0, 160)}…`);
        }
        const done = await instance.step({ role: "assistant", content: "Done." });
        steps += 1;
        reward = done.reward;
      }
      const evaluation = await instance.evaluate();
      console.log(`${split} ${taskId}: ${steps} steps, final step reward ${reward}, evaluate score ${evaluation.score}`);
      total += 1;
      if (evaluation.score === 1) perfect += 1;
    } finally {
      await instance.release();
    }
  }
}
console.log(`ground truth as text: ${perfect} of ${total} episodes score 1`);
await env.close();
