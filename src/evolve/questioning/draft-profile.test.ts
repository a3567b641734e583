// Drafting a profile with an LLM (scripted here: it must say specific things): an invalid draft is shown back with
// what was wrong and the retry is kept; a draft that never fits is refused by name, with counts; the kept draft, as a
// YAML file, drives a hindsight round whose requests come from its templates.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EvolverError } from "../../core/errors.js";
import { BfclEnvironment } from "../../env/index.js";
import { ScriptedProvider } from "../../llm/index.js";
import { draftProfile, environmentTools, hindsightSynthesizer, loadProfile, profileToYaml, replaySolution, synthesizeTasks } from "./index.js";
import { fileSystemExplorer } from "./test-support/file-system-explorer.js";

const preferences = { numEntities: 1, numOperations: 2, relationDifficulty: 1, notes: "" };
const operation = (name: string, template = "") => ({ name, description: `does ${name}`, template });

const invalidDraft = {
  name: "bfcl",
  description: "Files and maths.",
  entities: [
    { name: "Files", description: "", attributes: [], operations: [operation("ls"), operation("make_coffee")] },
    { name: "MathAPI", description: "", attributes: [], operations: [operation("add", "Add {x} and {z}.")] },
  ],
  taskPreferences: preferences,
};

const validDraft = {
  name: "bfcl",
  description: "A file system and a calculator.",
  entities: [
    {
      name: "GorillaFileSystem",
      description: "A folder tree with files.",
      attributes: [{ name: "current_dir", description: "the folder commands run in" }],
      operations: [operation("ls", "What is in this folder?"), operation("mkdir", "Make a folder called {dir_name}."), operation("cd", "Open {folder}.")],
    },
    { name: "MathAPI", description: "Arithmetic.", attributes: [], operations: [operation("add", "Add {a} and {b}.")] },
  ],
  taskPreferences: preferences,
};

test("draft profile (scripted): an invalid draft is shown back with its problems; the retry is kept and drives a hindsight round", { timeout: 300_000 }, async () => {
  const env = new BfclEnvironment({ categories: ["base"] });
  const tools = await environmentTools(env);
  assert.equal(tools.length, 129, "the union of the eight classes' functions over the sampled training tasks");
  const provider = new ScriptedProvider([JSON.stringify(invalidDraft), `\`\`\`json\n${JSON.stringify(validDraft)}\n\`\`\``]);
  const drafted = await draftProfile({ env, provider, tools });
  assert.deepEqual([drafted.attempts, drafted.invalid, drafted.failedCalls], [2, 1, 0]);
  assert.deepEqual(drafted.profile.entities.map((e) => [e.name, e.operations.map((op) => op.name)]), [["GorillaFileSystem", ["ls", "mkdir", "cd"]], ["MathAPI", ["add"]]]);
  assert.deepEqual(drafted.profile.entities[0].attributes, { current_dir: "the folder commands run in" });
  assert.equal(drafted.uncovered.length, 129 - 4);
  // What the model was asked: every function with its parameters, the environment's own entity names, the schema.
  const [first, retry] = provider.requests;
  assert.match(first.messages[1].content, /- mkdir\(dir_name: string\): .*Tool description: /);
  assert.match(first.messages[1].content, /GorillaFileSystem, MathAPI, MessageAPI, TwitterAPI, TicketAPI, TradingBot, TravelAPI, VehicleControlAPI/);
  assert.equal(first.jsonSchema?.name, "env_profile");
  // The retry shows every problem of the first draft.
  const feedback = retry.messages.at(-1)!.content;
  assert.match(feedback, /entity 'Files' is not one the environment knows/);
  assert.match(feedback, /operation 'make_coffee' of entity 'Files' is not one of the environment's functions/);
  assert.match(feedback, /the template of 'add' names \{z\}, which is not one of its parameters \(a, b\)/);

  // The file the user reviews, given to a round: hindsight writes requests from the drafted templates.
  const dir = mkdtempSync(join(tmpdir(), "evolver-draft-"));
  try {
    const path = join(dir, "profile.yaml");
    writeFileSync(path, profileToYaml(drafted.profile));
    const profile = loadProfile(path);
    assert.deepEqual(profile, drafted.profile);
    const report = await synthesizeTasks({
      env, profile, explorer: { kind: "chat", provider: fileSystemExplorer() }, synthesizer: hindsightSynthesizer(),
      entities: ["GorillaFileSystem"], perEntity: 1, maxSteps: 6, temperature: 1, seed: 3, round: "r0", heldOut: [],
    });
    const accepted = report.candidates.filter((c) => c.status === "accepted");
    assert.equal(accepted.length, 1);
    assert.deepEqual(accepted[0].spec.turns, ["What is in this folder?", "Make a folder called 'synthetic_notes'."]);
    assert.deepEqual(await replaySolution(env, accepted[0].id, accepted[0].spec), { ok: true });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("draft profile (scripted): no usable draft in the attempts is PROFILE_DRAFT_INVALID naming the last problem, with counts", async () => {
  const env = new BfclEnvironment({ categories: ["base"] });
  const tools = await environmentTools(env, 4);
  const provider = new ScriptedProvider(["Here is your profile: entities are files.", JSON.stringify({ ...validDraft, entities: [] }), "{\"name\": 3}"]);
  await assert.rejects(draftProfile({ env, provider, tools }), (error: EvolverError) => {
    assert.equal(error.code, "PROFILE_DRAFT_INVALID");
    assert.match(error.message, /^scripted gave no usable profile in 3 attempt\(s\) \(3 invalid, 0 failed call\(s\)\); last: the drafted profile does not match the schema/);
    assert.deepEqual(error.details, { attempts: 3, invalid: 3, failedCalls: 0, last: "LLM_BAD_JSON" });
    return true;
  });
  // The second answer was JSON of the shape, but with no entity: named in the third request's feedback.
  assert.match(provider.requests[2].messages.at(-1)!.content, /no entity/);
});
