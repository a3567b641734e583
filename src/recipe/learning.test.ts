// The evolve loop learns: on a small key-chain (4 digits, chains of 3, 6 of them held out) a tiny Qwen2 model
// initialised at random and trained from scratch on the CPU with ADCA-GRPO (the quick start's settings) goes from
// answering nothing right to opening about half the locks of held-out chains in 30 iterations (the full key-chain
// reaches 1.0 in 45-65: bench/learning.ts). Everything is seeded (model, task sampling, rollouts), so the rise is
// much the same run after run, though not bit for bit: batched sampling's logprobs carry float noise from whatever
// shares the batch, and long runs part (docs/training.md).
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { writeTinyModel } from "../llm/index.js";
import { parseConfig } from "./config.js";
import { runEvolve } from "./evolve.js";

const ITERATIONS = 30;
const dir = mkdtempSync(join(tmpdir(), "evolver-learning-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("evolve: held-out score rises clearly from the untrained policy's (ADCA-GRPO, tiny model from scratch)", async () => {
  writeTinyModel(join(dir, "tiny"), { formats: ["hf"], seed: 0 });
  const config = parseConfig({
    run: { name: "learning", seed: 0, store: join(dir, "runs.db"), output_dir: join(dir, "runs") },
    env: { type: "key-chain", options: { length: 3, symbols: 4, repeat: 6 } },
    policy: { base_model: join(dir, "tiny") },
    trainer: { kind: "local", device: "cpu", lora_rank: 0 },
    optimizer: { learning_rate: 1e-3, grad_clip_norm: 1.0, mini_batches: 2 },
    rollout: { group_size: 8, tasks_per_iteration: 8, max_steps: 3, max_tokens_per_step: 1, concurrency: 32 },
    attribution: { enabled: true, judge: "rule", alpha: 0.5 },
    loss: { entropy_coeff: 0.1 },
    schedule: { iterations: ITERATIONS, eval_every: ITERATIONS, eval_tasks: 16, eval_k: 1, eval_temperature: 0 },
  });
  const result = await runEvolve({ config, log: () => undefined });
  console.log(`held-out evaluations: ${JSON.stringify(result.evaluations)}`);
  const before = result.evaluations.find((e) => e.iteration === -1)!;
  const after_ = result.evaluations.find((e) => e.iteration === ITERATIONS - 1)!;
  assert.ok(before.score <= 0.25, `the untrained policy already scores ${before.score}`);
  // a byte-level model starts at 0 (it answers no letter at all); 0.4 is well past guessing one of 4 letters at chance
  assert.ok(after_.score >= 0.4, JSON.stringify(result.evaluations));
  assert.ok(after_.success > before.success, JSON.stringify(result.evaluations));
});
