import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readJsonl, Trajectory } from "../agent/index.js";
import { KeyChainEnvironment } from "../env/index.js";
import { commands } from "./commands.js";
import { runCli } from "./run-cli.js";

/** An OpenAI-compatible server that opens key-chain locks right, except digit 3. */
async function keyChainServer(env: KeyChainEnvironment) {
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      const { messages } = JSON.parse(body) as { messages: { content: string }[] };
      const digit = Number(messages.at(-1)!.content);
      const letter = digit === 3 ? "z" : env.secret[digit];
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({
        id: "c", object: "chat.completion", created: 0, model: "test",
        choices: [{ index: 0, finish_reason: "stop", message: { role: "assistant", content: letter } }],
        usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 },
      }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1` };
}

test("evolver eval: table on the terminal, JSON report and trajectories on disk, same seed same tasks", async (t) => {
  const envOptions = { length: 2, symbols: 4, seed: 3 };
  const { server, baseUrl } = await keyChainServer(new KeyChainEnvironment(envOptions));
  const dir = mkdtempSync(join(tmpdir(), "evolver-eval-cli-"));
  const printed: string[] = [];
  t.mock.method(console, "log", (text: string) => printed.push(text));
  t.mock.method(process.stderr, "write", () => true);
  try {
    const args = (out: string) => [
      "eval", "--env", "key-chain", "--env-options", JSON.stringify(envOptions), "--model", "openai:test", "--base-url", baseUrl,
      "--split", "train", "--k", "2", "--tasks", "6", "--seed", "4", "--concurrency", "4", "--out", out, "--trajectories", join(dir, "t.jsonl"),
    ];
    assert.equal(await runCli(args(join(dir, "a.json")), commands), 0);
    assert.equal(await runCli(args(join(dir, "b.json")), commands), 0);
    const a = JSON.parse(readFileSync(join(dir, "a.json"), "utf8"));
    const b = JSON.parse(readFileSync(join(dir, "b.json"), "utf8"));
    assert.deepEqual(a.tasks.map((x: { taskId: string }) => x.taskId), b.tasks.map((x: { taskId: string }) => x.taskId));
    // A task succeeds iff it has no digit 3; the policy is deterministic, so avg@2 = best@2 = that share.
    const clean = a.tasks.filter((x: { taskId: string }) => !x.taskId.includes("3")).length;
    assert.equal(a.overall.avgAtK, clean / 6);
    assert.equal(a.overall.bestAtK, clean / 6);
    assert.equal(a.model, "openai:test");
    assert.match(printed.join("\n"), /key-chain train \| openai:test \| k=2 seed=4\ncategory[\s\S]*overall +6 +12 /);
    let lines = 0;
    for await (const trajectory of readJsonl(join(dir, "t.jsonl"), Trajectory)) lines += trajectory.steps.length > 0 ? 1 : 0;
    assert.equal(lines, 12); // the second run rewrote the file
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("evolver eval: missing options and a bad model spec are clear errors, not stack traces", async (t) => {
  const errors: string[] = [];
  t.mock.method(console, "error", (text: string) => errors.push(text));
  assert.equal(await runCli(["eval", "--env", "key-chain"], commands), 2);
  assert.match(errors.at(-1)!, /--env and --model are required/);
  assert.equal(await runCli(["eval", "--env", "key-chain", "--model", "gpt-4o"], commands), 1);
  assert.match(errors.at(-1)!, /unknown model spec 'gpt-4o'/);
  assert.equal(await runCli(["eval", "--env", "key-chain", "--model", "openai:x", "--split", "dev"], commands), 2);
  assert.match(errors.at(-1)!, /--split must be one of train, val, test/);
  // a relative model path is read from the working directory (not node-llama-cpp's models folder), and named when missing
  assert.equal(await runCli(["eval", "--env", "key-chain", "--model", "models/none.gguf"], commands), 1);
  assert.equal(errors.at(-1)!, `evolver eval: LLM_MODEL_NOT_FOUND: no model file at ${join(process.cwd(), "models/none.gguf")}`);
});
