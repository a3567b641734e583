// The client against the real local trainer in both wire formats: protobuf where the SDK uses it ("auto") and JSON
// only ("json") give the same samples, logprobs, losses and parameter updates. A recording fetch shows which format
// each request and answer actually took, so that "auto" cannot silently be JSON.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { writeTinyModel } from "../llm/index.js";
import { buildDatum } from "./datums.js";
import { evolverPpoLossFnConfig } from "./loss-request.js";
import { sharedHttpFetch } from "../core/http-fetch.js";
import { LocalTrainer } from "./local-trainer.js";
import { TinkerClient, type TrainingClient } from "./tinker-client.js";
import { loadTinkerProto } from "./tinker-proto.js";
import { zstdDecompress } from "./zstd.js";

const dir = mkdtempSync(join(tmpdir(), "evolver-tinker-wire-"));
let trainer: LocalTrainer;
const clients: Record<"auto" | "json", TinkerClient> = {} as never;
const traffic: Record<"auto" | "json", { path: string; sent: string; got: string }[]> = { auto: [], json: [] };

/** The client's own transport (bytes bodies included), recording each exchange's formats. `noWait` drops the samples'
 *  Prefer: wait, so that their results come from retrieve_future, where "auto" asks for protobuf. */
function recording(log: { path: string; sent: string; got: string }[], noWait = false): typeof fetch {
  return async (input, init) => {
    const headers = new Headers(init?.headers);
    if (noWait) headers.delete("prefer");
    const response = await sharedHttpFetch.fetch(input, { ...init, headers });
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
    // one asample per call (sampleBatch off): this file is about the protocol's own wire, as the SDK speaks it
    clients[wire] = await trainer.connect({ heartbeatMs: 0, wire, sampleBatch: false, fetch: recording(traffic[wire], wire === "auto") });
  }
});

after(async () => {
  for (const client of Object.values(clients)) client?.close();
  await trainer?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const PROTO = "application/x-protobuf";

test("the local trainer's client/config turns protobuf forward_backward and forward on for 'auto' only", () => {
  assert.deepEqual(clients.auto.wire, { protoResults: true, protoRequests: true, forwardViaForwardBackward: true, compress: false });
  assert.deepEqual(clients.json.wire, { protoResults: false, protoRequests: false, forwardViaForwardBackward: false, compress: false });
});

test("seeded samples with prompt logprobs: the same tokens and logprobs as protobuf and as JSON", async () => {
  const results = [];
  for (const wire of ["auto", "json"] as const) {
    const sampler = await clients[wire].createSamplingClient({ baseModel: "tiny" });
    const before = traffic[wire].length;
    results.push(await sampler.sampleMany({ promptTokens: [1, 2, 3, 4], maxTokens: 6, seed: 5, numSamples: 3, promptLogprobs: true }));
    // "auto" (Prefer: wait dropped): the result comes from retrieve_future as protobuf; "json": with the asample
    // itself (the trainer applied Prefer: wait), in one round trip
    const exchanges = traffic[wire].slice(before).map((t) => `${t.path} ${t.got}`);
    assert.deepEqual(exchanges, wire === "auto" ? [`asample application/json`, `retrieve_future ${PROTO}`] : ["asample application/json"]);
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

test("a server that says proto_compress_fwdbwd gets zstd protobuf; one that answers JSON to Accept: protobuf is read", async () => {
  // a scripted server as hosted Tinker's flags would have it, but answering every result as JSON (as SkyRL does)
  const proto = await loadTinkerProto();
  const seen: { path: string; encoding?: string; accept?: string; body?: unknown }[] = [];
  const server = createServer((request, response) => {
    const parts: Buffer[] = [];
    request.on("data", (part: Buffer) => parts.push(part));
    request.on("end", async () => {
      const path = request.url!.replace("/api/v1/", "");
      const raw = new Uint8Array(Buffer.concat(parts));
      const entry: (typeof seen)[number] = { path, encoding: request.headers["content-encoding"], accept: request.headers.accept };
      seen.push(entry);
      let answer: unknown = {};
      if (path === "client/config") answer = { proto_write_fwdbwd: true, proto_compress_fwdbwd: true, fwd_via_fwdbwd: false };
      else if (path === "create_session") answer = { session_id: "s1" };
      else if (path === "create_model") answer = { request_id: "r-model" };
      else if (path === "forward_backward" || path === "forward") {
        const bytes = entry.encoding === "zstd" ? await zstdDecompress(raw) : raw;
        entry.body = request.headers["content-type"] === "application/x-protobuf" ? proto.decodeForwardBackwardRequest(bytes) : JSON.parse(Buffer.from(bytes).toString());
        answer = { request_id: `r-${path}` };
      } else if (path === "retrieve_future") {
        const { request_id } = JSON.parse(Buffer.from(raw).toString()) as { request_id: string };
        answer = request_id === "r-model"
          ? { model_id: "m1" }
          : { loss_fn_output_type: "ArrayRecord", loss_fn_outputs: [{ logprobs: { data: [-1, -2], dtype: "float32" } }], metrics: { "loss:sum": 3 } };
      }
      response.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify(answer));
    });
  });
  server.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  try {
    const client = await TinkerClient.connect({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, heartbeatMs: 0 });
    assert.deepEqual(client.wire, { protoResults: true, protoRequests: true, forwardViaForwardBackward: false, compress: true });
    const training = await client.createTrainingClient({ baseModel: "any", loraRank: 4 });
    const datum = buildDatum({ tokens: [1, 2, 3], lossMask: [0, 1, 1] });
    const fb = await training.forwardBackward([datum], "cross_entropy");
    assert.deepEqual(fb, { lossFnOutputs: [{ logprobs: [-1, -2] }], metrics: { "loss:sum": 3 } });
    await training.forward([datum], "cross_entropy");
    const posted = seen.filter((s) => s.path.startsWith("forward"));
    assert.deepEqual(posted.map((s) => [s.path, s.encoding]), [["forward_backward", "zstd"], ["forward", undefined]]);
    const { body, forwardOnly } = posted[0].body as Awaited<ReturnType<typeof proto.decodeForwardBackwardRequest>>;
    assert.equal(forwardOnly, false);
    assert.deepEqual(body.forward_backward_input.data[0].model_input.chunks[0].tokens, [1, 2]);
    // create_model's result as JSON; forward_backward's and forward's asked for as protobuf, and read as the JSON they came as
    assert.deepEqual(seen.filter((s) => s.path === "retrieve_future").map((s) => s.accept), ["application/json", PROTO, PROTO]);
    client.close();
  } finally {
    server.close();
  }
});
