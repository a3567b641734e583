// evolver env profile with the embedded tiny GGUF under the profile's JSON-schema grammar: its random-weight output is
// never a usable profile, so every attempt is refused and counted, the command fails with PROFILE_DRAFT_INVALID
// naming the last problem, and no file is written for the user to mistake for a draft. And with an OpenAI-compatible
// server that answers a usable draft (a stand-in over HTTP): the YAML is written, with its review header, and loads.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { loadProfile } from "../evolve/questioning/index.js";
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

test("evolver env profile: a usable draft from an OpenAI-compatible server is written for review and loads as a profile", { timeout: 120_000 }, async () => {
  const draft = {
    name: "bfcl", description: "Files.",
    entities: [{ name: "GorillaFileSystem", description: "A folder tree.", attributes: [], operations: [{ name: "mkdir", description: "make a folder", template: "Make a folder called {dir_name}." }] }],
    taskPreferences: { numEntities: 1, numOperations: 1, relationDifficulty: 1, notes: "" },
  };
  const bodies: { response_format?: { json_schema?: { name?: string } } }[] = [];
  const server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    bodies.push(JSON.parse(Buffer.concat(chunks).toString()));
    response.writeHead(200, { "content-type": "application/json" });
    response.end(JSON.stringify({
      id: "c", object: "chat.completion", created: 0, model: "drafter",
      choices: [{ index: 0, message: { role: "assistant", content: JSON.stringify(draft) }, finish_reason: "stop", logprobs: null }],
      usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
    }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const out = join(dir, "drafted.yaml");
    const result = await runEvolverCli([
      "env", "profile", "--env", "bfcl-v3", "--env-options", JSON.stringify({ categories: ["base"] }), "--tasks", "4",
      "--model", "openai:drafter", "--base-url", `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, "--out", out,
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /drafted\.yaml: 1 entities, 1 operations \(1 with a template\), \d+ of \d+ functions not covered; 1 attempt\(s\), 0 invalid/);
    assert.equal(bodies[0].response_format?.json_schema?.name, "env_profile");
    assert.match(readFileSync(out, "utf8"), /^# Drafted by openai:drafter from the \d+ functions of bfcl-v3: review it before use\.\n# Give it to a run with questioning\.profile/);
    assert.deepEqual(loadProfile(out).entities[0].operations, [{ name: "mkdir", description: "make a folder", template: "Make a folder called {dir_name}." }]);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
