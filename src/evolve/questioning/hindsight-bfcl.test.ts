// Hindsight synthesis on each of BFCL's eight classes, with an explorer that plays training entries' ground-truth
// calls: every class yields accepted tasks, every accepted task replays to success in a fresh instance, and every
// request is written from the class's templates (never the fallback description).
import { test } from "node:test";
import assert from "node:assert/strict";
import { BfclEnvironment } from "../../env/index.js";
import { BFCL_OPERATION_TEMPLATES } from "../../env/bfcl/profile-templates.js";
import { hindsightSynthesizer, replaySolution, synthesizeTasks } from "./index.js";
import { groundTruthCalls, playingExplorer } from "./test-support/playing-explorer.js";

test("hindsight on every BFCL class: accepted tasks, requests from the templates, each replays to success", { timeout: 600_000 }, async () => {
  const env = new BfclEnvironment({ categories: ["base"] });
  const profile = await env.profile();
  const calls = await groundTruthCalls(env);
  const accepted: Record<string, number> = {};
  for (const entity of profile.entities) {
    const report = await synthesizeTasks({
      env, profile, explorer: { kind: "chat", provider: playingExplorer(calls) }, synthesizer: hindsightSynthesizer(),
      entities: [entity.name], perEntity: 6, maxSteps: 5, temperature: 1, seed: 17, round: entity.name, heldOut: [], concurrency: 4,
    });
    const tasks = report.candidates.filter((c) => c.status === "accepted");
    accepted[entity.name] = tasks.length;
    for (const task of tasks) {
      assert.deepEqual(await replaySolution(env, task.id, task.spec), { ok: true }, `${entity.name}: ${task.id}`);
      task.spec.solution.forEach((turn, i) => {
        // The first action's template, filled: the request starts with it (placeholders replaced by the values).
        const first = turn[0];
        assert.ok("name" in first && Object.hasOwn(BFCL_OPERATION_TEMPLATES, first.name));
        const opening = BFCL_OPERATION_TEMPLATES[first.name].split("{")[0].replace(/\.$/, "");
        assert.ok(task.spec.turns[i].startsWith(opening), `${entity.name}: '${task.spec.turns[i]}' is not written from the template of ${first.name}`);
        assert.doesNotMatch(task.spec.turns[i], /\{\w+\}/);
      });
    }
  }
  for (const entity of profile.entities) assert.ok(accepted[entity.name] >= 1, `no accepted task for ${entity.name}: ${JSON.stringify(accepted)}`);
});
