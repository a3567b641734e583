// BFCL end to end through `evolver eval` with the tiny model, as a new user would try it. In a 2,048-token context
// (the old default) every BFCL prompt overflows: the command says so, counts the rollouts as errored (not failed)
// and exits non-zero. With the tiny model's own context (its default context length holds every BFCL prompt) every
// rollout completes: the random model scores about 0, but nothing errors. The model path is relative to the
// working directory.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { readJsonl, rolloutError, Trajectory } from "../agent/index.js";
import { writeTinyModel } from "../llm/index.js";
import { repoRoot, runEvolverCli } from "./test-support/spawn-cli.js";

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), "evolver-eval-bfcl-"));
});
after(() => rmSync(dir, { recursive: true, force: true }));

test("evolver eval --env bfcl-v3 with the tiny model: overflow is an error that says why; its own context runs every rollout", { timeout: 600_000 }, async () => {
  const gguf = writeTinyModel(join(dir, "model"), { formats: ["gguf"] }).ggufPath!;
  // the CLI runs in the repository root: a relative path is read from there, not from node-llama-cpp's models folder
  const model = relative(repoRoot, gguf);
  const args = (out: string) => ["eval", "--env", "bfcl-v3", "--model", model, "--split", "test", "--tasks", "2", "--k", "1", "--max-steps", "2", "--max-tokens", "4", "--concurrency", "2", "--out", join(dir, out)];
  const [small, own] = await Promise.all([
    runEvolverCli([...args("small.json"), "--context-size", "2048"]),
    runEvolverCli([...args("own.json"), "--trajectories", join(dir, "own.jsonl")]),
  ]);

  assert.equal(small.code, 1, small.stderr);
  assert.match(small.stderr, /^evolver eval: EVAL_ALL_ERRORED: every rollout errored \(2 of 2\); the first: model call 0 failed: LLM_CONTEXT_OVERFLOW: \d{1,2},\d{3}-token prompt in a 2,048-token context$/m);
  assert.match(small.stdout, /\noverall +2 +2 +0\.0% +0\.0% +0\.000 +- +0 +2\n/, "the table counts them as errored, not failed");
  const smallReport = JSON.parse(readFileSync(join(dir, "small.json"), "utf8"));
  assert.deepEqual([smallReport.overall.errored, smallReport.overall.failed], [2, 0]);
  assert.match(smallReport.firstError, /LLM_CONTEXT_OVERFLOW/);

  assert.equal(own.code, 0, own.stderr);
  const report = JSON.parse(readFileSync(join(dir, "own.json"), "utf8"));
  assert.deepEqual([report.overall.rollouts, report.overall.errored], [2, 0]);
  assert.equal(report.firstError, undefined);
  const trajectories: Trajectory[] = [];
  for await (const t of readJsonl(join(dir, "own.jsonl"), Trajectory)) trajectories.push(t);
  assert.equal(trajectories.length, 2);
  for (const t of trajectories) {
    assert.equal(rolloutError(t), undefined, t.error);
    assert.ok(t.steps.length >= 1, "the model acted");
    assert.ok(t.metrics.promptTokens > 2048, `a BFCL prompt (${t.metrics.promptTokens} tokens) in the model's own context`);
  }
});
