// The CLI round trip: `evolver env replay` on BFCL's own vector lines writes the same bytes back, and on question
// entries writes the vectors of their ground truth; bad input gets a message naming the file and line.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { replayVectorFile, resolveBfclDataDir } from "../env/index.js";
import { envReplayCommand } from "./env-replay.js";

const data = resolveBfclDataDir();
const ids = ["multi_turn_base_2", "multi_turn_base_6", "multi_turn_base_0", "multi_turn_base_14"];

function linesWithIds(path: string): string[] {
  const lines = readFileSync(path, "utf8").split("\n");
  return ids.map((id) => lines.find((line) => line.startsWith(`{"id":"${id}",`) || line.startsWith(`{"id": "${id}",`))!);
}

function evolver(...args: string[]) {
  return spawnSync(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], { encoding: "utf8" });
}

test("env replay reproduces vector lines byte for byte, from vectors and from question entries", () => {
  const dir = mkdtempSync(join(tmpdir(), "evolver-replay-"));
  const vectors = linesWithIds(join(data, "vectors", "multi_turn_base.vectors.jsonl"));
  writeFileSync(join(dir, "in.jsonl"), vectors.join("\n") + "\n");
  const fromVectors = evolver("env", "replay", "--env", "bfcl-v3", "--vectors", join(dir, "in.jsonl"), "--out", join(dir, "out.jsonl"), "--check");
  assert.equal(fromVectors.status, 0, fromVectors.stdout + fromVectors.stderr);
  assert.match(fromVectors.stdout, /replayed 4 entries/);
  assert.equal(readFileSync(join(dir, "out.jsonl"), "utf8"), vectors.join("\n") + "\n");

  writeFileSync(join(dir, "questions.jsonl"), linesWithIds(join(data, "BFCL_v3_multi_turn_base.json")).join("\n") + "\n");
  const fromQuestions = evolver("env", "replay", "--vectors", join(dir, "questions.jsonl"), "--out", join(dir, "out2.jsonl"));
  assert.equal(fromQuestions.status, 0, fromQuestions.stderr);
  assert.equal(readFileSync(join(dir, "out2.jsonl"), "utf8"), vectors.join("\n") + "\n");
});

test("env replay names the file and line of bad input, without a stack trace", () => {
  const dir = mkdtempSync(join(tmpdir(), "evolver-replay-"));
  writeFileSync(join(dir, "bad.jsonl"), '{"id": "multi_turn_base_1", "involved_classes": [], "initial_config": {}}\n{oops\n');
  const bad = evolver("env", "replay", "--vectors", join(dir, "bad.jsonl"), "--out", join(dir, "o.jsonl"));
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /bad\.jsonl:2: invalid JSON/);
  assert.doesNotMatch(bad.stderr, /\n\s+at /);
});

test("env replay: a missing input file and missing options are named errors (in-process)", async () => {
  const dir = mkdtempSync(join(tmpdir(), "evolver-replay-"));
  assert.throws(() => replayVectorFile(join(dir, "nope.jsonl"), join(dir, "o.jsonl")), /cannot read .*nope\.jsonl/);
  await assert.rejects(envReplayCommand.run(["--vectors", join(dir, "x.jsonl")]), /--vectors and --out are required/);
  await assert.rejects(envReplayCommand.run(["--env", "key-chain", "--vectors", "a", "--out", "b"]), /supports --env bfcl-v3 only/);
});
