// The TypeScript client against the real Python trainer, started by LocalTrainer on a tiny random model.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { EvolverError } from "../core/errors.js";
import { writeTinyModel } from "../llm/index.js";
import { buildDatum } from "./datums.js";
import { LocalTrainer } from "./local-trainer.js";
import type { TinkerClient } from "./tinker-client.js";

const dir = mkdtempSync(join(tmpdir(), "evolver-tinker-client-"));
let trainer: LocalTrainer;
let client: TinkerClient;
let onRestart: ((restarts: number) => void) | undefined;
const sequence = Array.from({ length: 24 }, (_, i) => 40 + ((i * 7) % 50));
const memorize = buildDatum({ tokens: sequence, lossMask: sequence.map((_, i) => (i === 0 ? 0 : 1)) });

before(async () => {
  writeTinyModel(join(dir, "tiny"), { formats: ["hf"], seed: 1 });
  trainer = await LocalTrainer.start({ baseModel: join(dir, "tiny"), checkpointDir: join(dir, "checkpoints"), threads: 1,
    onRestart: (n) => onRestart?.(n) });
  client = await trainer.connect({ heartbeatMs: 0 });
});

after(async () => {
  client?.close();
  await trainer?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function codeOf(error: unknown): string | undefined {
  return EvolverError.isInstance(error) ? error.code : undefined;
}

test("the trainer starts with OpenMP's idle threads passive (spinning ones take the cores the client needs)", { skip: !existsSync("/proc/self/environ") }, () => {
  const environment = readFileSync(`/proc/${trainer.pid}/environ`, "utf8").split("\0");
  assert.ok(environment.includes(`OMP_WAIT_POLICY=${process.env.OMP_WAIT_POLICY ?? "PASSIVE"}`), environment.filter((e) => e.startsWith("OMP")).join(" "));
});

test("the trainer reports its device, dtype and OpenBLAS kernels, which are not the fallback on a CPU with AVX2", () => {
  assert.equal(trainer.device, "cpu");
  assert.equal(trainer.dtype, "float32");
  const flags = existsSync("/proc/cpuinfo") ? (/^flags\s*:(.*)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1].split(/\s+/) ?? []) : [];
  // "" where torch uses another BLAS; OpenBLAS's fallback for a CPU its table lacks is "Prescott" (SSE3)
  if (trainer.blas && flags.includes("avx2") && flags.includes("fma")) assert.notEqual(trainer.blas, "Prescott");
});

test("capabilities name the served model", async () => {
  const capabilities = await client.capabilities();
  assert.equal(capabilities.supported_models[0].model_name, "tiny");
});

test("forward_backward and optim_step lower the loss of a memorized sequence", async () => {
  const training = await client.createTrainingClient({ baseModel: "tiny", loraRank: 0 });
  const losses: number[] = [];
  for (let step = 0; step < 12; step++) {
    const result = await training.forwardBackward([memorize], "cross_entropy");
    assert.equal(result.lossFnOutputs[0].logprobs.length, sequence.length - 1);
    losses.push(result.metrics["loss:sum"]);
    const { metrics } = await training.optimStep({ learning_rate: 1e-2 });
    assert.ok(metrics["grad_norm:mean"] > 0);
  }
  assert.ok(losses.at(-1)! < 0.5 * losses[0], `loss went ${losses[0]} -> ${losses.at(-1)}`);
  const info = await training.getInfo();
  assert.equal(info.is_lora, false);
});

test("sampler weights: seeded samples repeat, and their logprobs are what forward gives", async () => {
  const training = await client.createTrainingClient({ baseModel: "tiny", loraRank: 4, seed: 1 });
  await training.forwardBackward([memorize], "cross_entropy");
  await training.optimStep({ learning_rate: 1e-2 });
  const sampler = await training.saveWeightsForSampler("after-one-step");
  assert.match(sampler.source, /^tinker:\/\/model_[0-9a-f]+\/sampler_weights\/after-one-step$/);
  const request = { promptTokens: [40, 47, 54], maxTokens: 8, temperature: 0.8, seed: 11 };
  const first = await sampler.sample(request);
  assert.deepEqual(await sampler.sample(request), first);
  const many = await sampler.sampleMany({ ...request, numSamples: 3 });
  // sample i uses seed + i: the same tokens; the logprobs come from a forward over three rows instead of one, and
  // matrix products of another shape may round differently (seen: 1e-6 apart on one machine, equal on another)
  assert.deepEqual(many.sequences[0].tokens, first.tokens);
  assert.equal(many.sequences[0].stopReason, first.stopReason);
  many.sequences[0].logprobs.forEach((logprob, i) => assert.ok(Math.abs(logprob - first.logprobs[i]) < 1e-5, `token ${i}: ${logprob} vs ${first.logprobs[i]}`));
  assert.equal(many.sequences.length, 3);
  const tokens = [...request.promptTokens, ...first.tokens];
  const forward = await training.forward([buildDatum({ tokens, lossMask: tokens.map(() => 0) })]);
  const learner = forward.lossFnOutputs[0].logprobs.slice(request.promptTokens.length - 1);
  first.logprobs.forEach((logprob, i) => assert.ok(Math.abs(logprob - learner[i]) < 1e-4, `token ${i}: ${logprob} vs ${learner[i]}`));
  const stopped = await sampler.sample({ ...request, stopTokens: [first.tokens[1]] });
  assert.equal(stopped.stopReason, "stop");
  assert.equal(stopped.tokens.at(-1), first.tokens[1]);
});

test("evolver_ppo on its own fresh samples: the importance ratio is exactly 1, so the loss is -mean(A)", async () => {
  const training = await client.createTrainingClient({ baseModel: "tiny", loraRank: 4, seed: 3 });
  await training.forwardBackward([memorize], "cross_entropy");
  await training.optimStep({ learning_rate: 1e-2 });
  const sampler = await training.saveWeightsForSampler("on-policy");
  const prompt = [40, 47, 54];
  // sampled at temperature 0.7: the logprobs are still the model's own (temperature 1), as the learner computes them
  const { sequences } = await sampler.sampleMany({ promptTokens: prompt, maxTokens: 8, temperature: 0.7, seed: 5, numSamples: 2 });
  const datums = sequences.map((sample, i) => {
    const tokens = [...prompt, ...sample.tokens];
    return buildDatum({
      tokens,
      lossMask: tokens.map((_, j) => (j < prompt.length ? 0 : 1)),
      advantages: i === 0 ? 1 : -0.5,
      samplerLogprobs: [...prompt.map(() => 0), ...sample.logprobs],
      refLogprobs: [...prompt.map(() => 0), ...sample.logprobs], // reference = policy: the KL is 0
      experienceGuided: i === 0,
    });
  });
  const result = await training.forwardBackward(datums, "evolver_ppo", {
    clip_low: 0.2, clip_high: 0.28, clip_high_boost: 0.4, dual_clip_c: 3, kl_beta: 0.1, aggregation: "seq-mean-token-mean",
  });
  // seq-mean-token-mean of -A * 1: (-1 + 0.5) / 2
  assert.ok(Math.abs(result.metrics["loss:sum"] - -0.25) < 1e-5, `loss ${result.metrics["loss:sum"]}`);
  assert.ok(Math.abs(result.metrics["kl:sum"]) < 1e-6);
  assert.equal(result.metrics["clip_fraction:mean"], 0);
  assert.equal(result.lossFnOutputs[0].elementwise_loss.length, prompt.length + sequences[0].tokens.length - 1);
});

test("bad requests and failed requests surface as typed errors", async () => {
  const training = await client.createTrainingClient({ baseModel: "tiny", loraRank: 4 });
  await assert.rejects(training.forwardBackward([memorize], "ppo"), (e) => codeOf(e) === "TRAINER_BAD_REQUEST" && /logprobs/.test((e as Error).message));
  await assert.rejects(training.optimStep({ learning_rate: -1 }), (e) => codeOf(e) === "TRAINER_BAD_REQUEST");
  await assert.rejects(training.loadWeights(`tinker://${training.modelId}/weights/never-saved`), (e) => codeOf(e) === "TRAINER_REQUEST_FAILED");
  await assert.rejects(client.createTrainingClient({ baseModel: "Qwen/Qwen3-8B" }), (e) => codeOf(e) === "TRAINER_BAD_REQUEST");
  await assert.rejects(training.recover(), (e) => codeOf(e) === "TRAINER_NO_CHECKPOINT");
});

test("after a crash the launcher restarts the trainer and the client recovers its last state", async () => {
  const training = await client.createTrainingClient({ baseModel: "tiny", loraRank: 4, seed: 2 });
  for (let step = 0; step < 2; step++) {
    await training.forwardBackward([memorize], "cross_entropy");
    await training.optimStep({ learning_rate: 1e-2 });
  }
  await training.saveWeights("before-crash");
  const before = (await training.forward([memorize])).metrics["loss:sum"];
  const oldModel = training.modelId;
  const restarted = new Promise<number>((resolve) => (onRestart = resolve));
  process.kill(trainer.pid!, "SIGKILL");
  assert.equal(await restarted, 1);
  await assert.rejects(training.forward([memorize]), (e) => codeOf(e) === "TRAINER_BAD_REQUEST"); // the model is gone
  await training.recover();
  assert.notEqual(training.modelId, oldModel);
  const after = (await training.forward([memorize])).metrics["loss:sum"];
  assert.ok(Math.abs(after - before) < 1e-4, `${before} vs ${after}`);
});
