// evolver tasks: synthesize with the embedded tiny GGUF as explorer and synthesizer (its output is garbage under the
// JSON-schema grammar: every proposal is dropped, counted, and the command still succeeds); list, show and export
// of a pool, BFCL's own line format read back through BFCL's checker.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import type { ChatMessage } from "../core/messages.js";
import { BfclEnvironment, gradeBfclEntry, parseBfclCall, type BfclQuestionEntry } from "../env/index.js";
import { parsePythonJson } from "../env/bfcl/python/json.js";
import { hindsightSynthesizer, synthesizeTasks } from "../evolve/questioning/index.js";
import { ScriptedProvider, writeTinyModel } from "../llm/index.js";
import { RunStore, TaskPool } from "../store/index.js";
import { repoRoot, runEvolverCli } from "./test-support/spawn-cli.js";

let dir: string;
before(() => (dir = mkdtempSync(join(tmpdir(), "evolver-tasks-cli-"))));
after(() => rmSync(dir, { recursive: true, force: true }));

test("evolver tasks synthesize: the tiny GGUF explores BFCL and proposes under a JSON grammar; garbage is dropped and counted", { timeout: 600_000 }, async () => {
  const gguf = relative(repoRoot, writeTinyModel(join(dir, "model"), { formats: ["gguf"] }).ggufPath!);
  const store = join(dir, "tiny.db");
  const result = await runEvolverCli([
    "tasks", "synthesize", "--env", "bfcl-v3", "--env-options", JSON.stringify({ categories: ["base"] }), "--entities", "MathAPI",
    "--explorer", gguf, "--synthesizer", "llm", "--n", "2", "--max-steps", "2", "--max-tokens", "8", "--store", store, "--embedder", "none", "--json",
  ]);
  assert.equal(result.code, 0, result.stderr);
  const report = JSON.parse(result.stdout);
  assert.equal(report.counts.explored, 2);
  assert.equal(report.counts.accepted, 0);
  const dropped = Object.values(report.counts.dropped as Record<string, number>).reduce((a, b) => a + b, 0);
  const rejected = Object.values(report.counts.rejected as Record<string, number>).reduce((a, b) => a + b, 0);
  // Every exploration's answer is accounted for: dropped before verification, or proposed and then rejected.
  assert.ok(dropped + report.counts.proposed >= 2 - report.counts.exploreErrors, JSON.stringify(report.counts));
  assert.equal(rejected, report.counts.proposed);
  const list = await runEvolverCli(["tasks", "list", "--store", store, "--pool", "bfcl-v3", "--status", "accepted"]);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /0 task\(s\) in pool 'bfcl-v3'/);
});

test("evolver tasks list|show|export: a pool's tasks, and BFCL's own format that BFCL's checker passes with its ground truth", { timeout: 600_000 }, async () => {
  const env = new BfclEnvironment({ categories: ["base"] });
  const call = (id: string, name: string, args: Record<string, unknown>): ChatMessage => ({ role: "assistant", content: "", tool_calls: [{ id, type: "function", function: { name, arguments: JSON.stringify(args) } }] });
  const script = [call("1", "mkdir", { dir_name: "exported" }), call("2", "cd", { folder: "exported" }), call("3", "touch", { file_name: "a.txt" }), { role: "assistant", content: "ok" } as ChatMessage];
  const explorer = new ScriptedProvider([(r) => script[Math.min(r.messages.filter((m) => m.role === "assistant").length, 3)]], { loop: true });
  const report = await synthesizeTasks({
    env, profile: await env.profile(), explorer: { kind: "chat", provider: explorer }, synthesizer: hindsightSynthesizer(),
    entities: ["GorillaFileSystem"], perEntity: 2, maxSteps: 5, temperature: 1, seed: 5, round: "p/r1", heldOut: [],
  });
  assert.ok(report.counts.accepted >= 1);
  const storePath = join(dir, "pool.db");
  const store = new RunStore(storePath);
  new TaskPool(store.db).saveRound("files", "r1", report);
  store.close();

  const list = await runEvolverCli(["tasks", "list", "--store", storePath]);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, new RegExp(`${report.candidates.length} task\\(s\\) in pool 'files'`));
  const id = report.candidates.find((c) => c.status === "accepted")!.id;
  const show = await runEvolverCli(["tasks", "show", id, "--store", storePath]);
  assert.equal(show.code, 0, show.stderr);
  const shown = JSON.parse(show.stdout);
  assert.equal(shown.status, "accepted");
  assert.equal(shown.exploration.entity, "GorillaFileSystem");

  const out = join(dir, "bfcl");
  const exported = await runEvolverCli(["tasks", "export", "--store", storePath, "--format", "bfcl", "--out", out]);
  assert.equal(exported.code, 0, exported.stderr);
  const questions = readFileSync(join(out, "BFCL_v3_multi_turn_synthetic.json"), "utf8").trim().split("\n").map((l) => parsePythonJson(l) as unknown as BfclQuestionEntry);
  const answers = readFileSync(join(out, "possible_answer", "BFCL_v3_multi_turn_synthetic.json"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { id: string; ground_truth: string[][] });
  assert.equal(questions.length, report.counts.accepted);
  for (const [i, entry] of questions.entries()) {
    assert.deepEqual(Object.keys(entry), ["id", "question", "initial_config", "path", "involved_classes"]);
    assert.equal(answers[i].id, entry.id);
    // BFCL's checker, given the ground truth as the model's answer, passes every turn.
    const grade = gradeBfclEntry({ entry, groundTruth: answers[i].ground_truth, modelTurns: answers[i].ground_truth.map((turn) => [turn.map((c) => parseBfclCall(c))]) });
    assert.equal(grade.success, true, JSON.stringify(grade.turns));
  }
  const jsonl = join(dir, "tasks.jsonl");
  assert.equal((await runEvolverCli(["tasks", "export", "--store", storePath, "--out", jsonl])).code, 0);
  assert.equal(readFileSync(jsonl, "utf8").trim().split("\n").length, report.counts.accepted);
  const bad = await runEvolverCli(["tasks", "list", "--store", storePath, "--pool", "nope"]);
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /no task pool 'nope'; pools: files/);
});
