// The client against the real local trainer in both wire formats: protobuf where the SDK uses it ("auto") and JSON
// only ("json") give the same samples, logprobs, losses and parameter updates. A recording fetch shows which format
// each request and answer actually took, so that "auto" cannot silently be JSON.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { writeTinyModel } from "../llm/index.js";
import { buildDatum } from "./datums.js";
import { evolverPpoLossFnConfig } from "./loss-request.js";
import { LocalTrainer } from "./local-trainer.js";
import type { TinkerClient, TrainingClient } from "./tinker-client.js";

const dir = mkdtempSync(join(tmpdir(), "evolver-tinker-wire-"));
let trainer: LocalTrainer;
const clients: Record<"auto" | "json", TinkerClient> = {} as never;
const traffic: Record<"auto" | "json", { path: string; sent: string; got: string }[]> = { auto: [], json: [] };

function recording(log: { path: string; sent: string; got: string }[]): typeof fetch {
  return async (input, init) => {
    const response = await fetch(input, init);
    const headers = new Headers(init?.headers);
    log.push({ path: String(input).split("/api/v1/")[1], sent: headers.get("content-type") ?? "", got: response.headers.get("content-type") ?? "" });
    return response;
  };
}

const sequences = [
  Array.from({ length: 20 }, (_, i) => 30 + ((i * 11) % 60)),
  Array.from({ length: 9 }, (_, i) => 5 + i * 3),
];
const datums = sequences.map((tokens) => buildDatum({ tokens, lossMask: tokens.map((_, i) => (i < 3 ? 0 : 1)) }));

before(async () => {
  writeTinyModel(join(dir, "tiny"), { formats: ["hf"], seed: 2 });
  trainer = await LocalTrainer.start({ baseModel: join(dir, "tiny"), checkpointDir: join(dir, "checkpoints"), threads: 1 });
  for (const wire of ["auto", "json"] as const) {
    clients[wire] = await trainer.connect({ heartbeatMs: 0, wire, fetch: recording(traffic[wire]) });
  }
});

after(async () => {
  for (const client of Object.values(clients)) client?.close();
  await trainer?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const PROTO = "application/x-protobuf";

test("the local trainer's client/config turns protobuf forward_backward and forward on for 'auto' only", () => {
  assert.deepEqual(clients.auto.wire, { protoResults: true, protoRequests: true, forwardViaForwardBackward: true });
  assert.deepEqual(clients.json.wire, { protoResults: false, protoRequests: false, forwardViaForwardBackward: false });
});

test("seeded samples with prompt logprobs: the same tokens and logprobs as protobuf and as JSON", async () => {
  const results = [];
  for (const wire of ["auto", "json"] as const) {
    const sampler = await clients[wire].createSamplingClient({ baseModel: "tiny" });
    const before = traffic[wire].length;
    results.push(await sampler.sampleMany({ promptTokens: [1, 2, 3, 4], maxTokens: 6, seed: 5, numSamples: 3, promptLogprobs: true }));
    const answers = traffic[wire].slice(before).filter((t) => t.path === "retrieve_future").map((t) => t.got);
    assert.ok(answers.at(-1)!.includes(wire === "auto" ? PROTO : "application/json"), `${wire}: ${answers}`);
  }
  assert.deepEqual(results[0], results[1]);
  assert.equal(results[0].sequences.length, 3);
  assert.equal(results[0].promptLogprobs?.[0], null);
  assert.ok(results[0].sequences.every((s) => s.logprobs.length === s.tokens.length && s.logprobs.every((l) => l <= 0)));
});

async function trainTwice(training: TrainingClient) {
  const forward = await training.forward(datums, "cross_entropy");
  const step = await training.forwardBackward(datums, "cross_entropy");
  await training.optimStep({ learning_rate: 5e-3 });
  const after = await training.forward(datums, "cross_entropy");
  const sampler = await training.saveWeightsForSampler("after");
  const sample = await sampler.sampleMany({ promptTokens: sequences[1].slice(0, 4), maxTokens: 5, seed: 9, numSamples: 2 });
  const strip = (r: { lossFnOutputs: Record<string, number[]>[]; metrics: Record<string, number> }) => ({
    outputs: r.lossFnOutputs,
    loss: r.metrics["loss:sum"],
  });
  return { forward: strip(forward), step: strip(step), after: strip(after), sample };
}

test("forward, forward_backward and the update they make: identical in protobuf and in JSON", async () => {
  const runs = [];
  for (const wire of ["auto", "json"] as const) {
    const before = traffic[wire].length;
    const training = await clients[wire].createTrainingClient({ baseModel: "tiny", loraRank: 4, seed: 3 });
    runs.push(await trainTwice(training));
    const posts = traffic[wire].slice(before).filter((t) => t.path.startsWith("forward"));
    // "auto": forward (twice) and forward_backward all go to forward_backward as protobuf; "json": as JSON to each path
    assert.deepEqual(
      posts.map((t) => `${t.path} ${t.sent}`),
      wire === "auto"
        ? [`forward_backward ${PROTO}`, `forward_backward ${PROTO}`, `forward_backward ${PROTO}`]
        : ["forward application/json", "forward_backward application/json", "forward application/json"],
    );
  }
  assert.deepEqual(runs[0], runs[1]);
  assert.notDeepEqual(runs[0].forward.outputs, runs[0].after.outputs, "the update changed the model");
  assert.ok(runs[0].after.loss < runs[0].forward.loss);
  assert.equal(runs[0].step.outputs[1].logprobs.length, sequences[1].length - 1);
});

test("evolver_ppo's config has strings, which protobuf cannot carry: it goes as JSON even in 'auto'", async () => {
  const training = await clients.auto.createTrainingClient({ baseModel: "tiny", loraRank: 4, seed: 3 });
  const ppo = sequences.map((tokens) =>
    buildDatum({ tokens, lossMask: tokens.map((_, i) => (i < 3 ? 0 : 1)), advantages: 1, samplerLogprobs: tokens.map(() => -4) }),
  );
  const before = traffic.auto.length;
  const result = await training.forwardBackward(ppo, "evolver_ppo", evolverPpoLossFnConfig({} as never));
  assert.ok(Number.isFinite(result.metrics["loss:sum"]));
  const post = traffic.auto.slice(before).find((t) => t.path === "forward_backward");
  assert.equal(post?.sent, "application/json");
  // the result was still asked for, and came, as protobuf
  assert.ok(traffic.auto.slice(before).some((t) => t.path === "retrieve_future" && t.got.includes(PROTO)));
});
