// evolver env profile with the embedded tiny GGUF under the profile's JSON-schema grammar: its random-weight output is
// never a usable profile, so every attempt is refused and counted, the command fails with PROFILE_DRAFT_INVALID
// naming the last problem, and no file is written for the user to mistake for a draft.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { writeTinyModel } from "../llm/index.js";
import { repoRoot, runEvolverCli } from "./test-support/spawn-cli.js";

let dir: string;
before(() => (dir = mkdtempSync(join(tmpdir(), "evolver-env-profile-"))));
after(() => rmSync(dir, { recursive: true, force: true }));

test("evolver env profile: the tiny GGUF's drafts are refused cleanly and counted; no file is written", { timeout: 600_000 }, async () => {
  const gguf = relative(repoRoot, writeTinyModel(join(dir, "model"), { formats: ["gguf"] }).ggufPath!);
  const out = join(dir, "profile.yaml");
  const result = await runEvolverCli([
    "env", "profile", "--env", "bfcl-v3", "--env-options", JSON.stringify({ categories: ["base"] }), "--tasks", "4",
    "--model", gguf, "--out", out, "--attempts", "2", "--max-tokens", "96", "--seed", "1",
  ]);
  assert.equal(result.code, 1, result.stdout + result.stderr);
  assert.match(result.stderr, /drafting a profile of bfcl-v3 from \d+ function\(s\) with embedded:/);
  assert.match(result.stderr, /evolver env profile: PROFILE_DRAFT_INVALID: embedded:\S+ gave no usable profile in 2 attempt\(s\) \(2 invalid, 0 failed call\(s\)\); last: /);
  assert.doesNotMatch(result.stderr, /\n\s+at /, "no stack trace");
  assert.equal(existsSync(out), false);
});

test("evolver env profile: missing options are a usage error", async () => {
  const result = await runEvolverCli(["env", "profile", "--env", "bfcl-v3"]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /--env, --model and --out are required/);
});
