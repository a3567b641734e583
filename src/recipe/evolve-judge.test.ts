// The LLM judge inside a real evolve run: the embedded tiny GGUF model judges every step through structured output
// (a JSON-schema grammar), and every trajectory ends with stored verdicts — "ok" ones with one verdict per step, or
// a failure that is counted and falls back to GRPO without stopping the run.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeTinyModel } from "../llm/index.js";
import { RunStore } from "../store/index.js";
import { parseConfig } from "./config.js";
import { runEvolve } from "./evolve.js";

test("evolve with an LLM judge: every train trajectory gets stored verdicts from the judge model", async () => {
  const dir = mkdtempSync(join(tmpdir(), "evolver-judge-"));
  const model = writeTinyModel(join(dir, "model"));
  const config = parseConfig({
    run: { name: "judge", store: join(dir, "runs.db"), output_dir: join(dir, "runs") },
    env: { type: "key-chain", options: { length: 2, symbols: 4 } },
    policy: { base_model: model.hfDir },
    trainer: { kind: "local", device: "cpu" },
    rollout: { group_size: 2, tasks_per_iteration: 2, max_steps: 2, max_tokens_per_step: 1 },
    attribution: { judge: "llm", judge_model: model.ggufPath },
    schedule: { iterations: 1, eval_every: 0 },
  });
  const lines: string[] = [];
  const result = await runEvolve({ config, log: (line) => lines.push(line) });

  const store = new RunStore(join(dir, "runs.db"));
  try {
    const trajectories = store.listTrajectories(result.runId, 0, "train");
    assert.equal(trajectories.length, 4);
    for (const trajectory of trajectories) {
      const verdicts = store.getVerdicts(trajectory.id);
      assert.ok(verdicts, `no verdicts for ${trajectory.id}`);
      assert.match(verdicts.judge, /tiny|model\.gguf|embedded/);
      const judgment = verdicts.verdicts as { status: string; verdicts: { label: string }[] };
      if (judgment.status === "ok") {
        assert.equal(judgment.verdicts.length, trajectory.steps.length);
        for (const v of judgment.verdicts) assert.ok(v.label === "GOOD" || v.label === "BAD");
      }
    }
    const metrics = Object.fromEntries(store.listMetrics(result.runId).map((m) => [m.name, m.value]));
    const ok = trajectories.filter((t) => (store.getVerdicts(t.id)!.verdicts as { status: string }).status === "ok").length;
    assert.equal(metrics["attribution/judged"], ok);
    assert.equal(metrics["attribution/fallbacks"], trajectories.length - ok);
    // the share of sequences whose group told nothing apart: with no entropy or KL term they are the ones left out
    const share = metrics["train/zero_advantage_share"]!;
    assert.ok(share >= 0 && share <= 1, `zero-advantage share ${share}`);
    assert.equal(metrics["train/datums"] === 0, share === 1);
    // Where the iteration's time went: each stage's seconds, which together stay within the iteration's.
    const stages = ["time/questioning", "time/rollout", "time/attribution", "time/train", "time/checkpoint"];
    for (const stage of stages) assert.ok((metrics[stage] ?? -1) >= 0, `${stage} recorded`);
    assert.ok(metrics["time/attribution"]! > 0 && metrics["time/rollout"]! > 0);
    assert.ok(stages.reduce((sum, stage) => sum + metrics[stage]!, 0) <= metrics["train/seconds"]!);
    assert.equal(store.getRun(result.runId).status, "done");
  } finally {
    store.close();
  }
});

test("evolve: an LLM judge without a model is refused with the config's other problems, before anything runs", () => {
  assert.throws(
    () => parseConfig({ env: { type: "key-chain" }, policy: { base_model: "none" }, attribution: { judge: "llm" } }),
    /attribution\.judge_model: judge llm needs judge_model, e.g\. openai:gpt-4o-mini or a \.gguf path/,
  );
});
