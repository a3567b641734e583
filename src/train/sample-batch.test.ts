// Sample calls through asample_batch (the local trainer's evolver_features.sample_batch): the calls of one event-loop
// turn travel in one exchange, and each comes back as its own asample would: the same seeded samples, the same
// errors, an abort that rejects at once. A connection lost mid-answer sends the unanswered calls again.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { sharedHttpFetch } from "../core/http-fetch.js";
import { EvolverError } from "../core/errors.js";
import { writeTinyModel } from "../llm/index.js";
import { LocalTrainer } from "./local-trainer.js";
import type { SamplingClient, TinkerClient } from "./tinker-client.js";
import { TinkerHttp } from "./tinker-http.js";
import { SampleResult } from "./tinker-schema.js";

const dir = mkdtempSync(join(tmpdir(), "evolver-sample-batch-"));
let trainer: LocalTrainer;
let batched: TinkerClient;
let single: TinkerClient;

before(async () => {
  writeTinyModel(join(dir, "tiny"), { formats: ["hf"], seed: 4 });
  trainer = await LocalTrainer.start({ baseModel: join(dir, "tiny"), checkpointDir: join(dir, "checkpoints"), threads: 1 });
  batched = await trainer.connect({ heartbeatMs: 0, wire: "json" });
  single = await trainer.connect({ heartbeatMs: 0, wire: "json", sampleBatch: false });
});

after(async () => {
  batched?.close();
  single?.close();
  await trainer?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Counts the streamed exchanges of the default transport while `work` runs. */
async function countingExchanges<T>(work: () => Promise<T>): Promise<{ value: T; paths: string[] }> {
  const original = sharedHttpFetch.requestLines;
  const paths: string[] = [];
  sharedHttpFetch.requestLines = (url, init, onLine) => {
    paths.push(url.split("/api/v1/")[1]);
    return original(url, init, onLine);
  };
  try {
    return { value: await work(), paths };
  } finally {
    sharedHttpFetch.requestLines = original;
  }
}

const calls = (sampler: SamplingClient) =>
  Array.from({ length: 12 }, (_, i) =>
    sampler.sampleMany({ promptTokens: [3, 4, 5 + (i % 3)], maxTokens: 1 + (i % 4), seed: 100 + i, numSamples: 1 + (i % 2), temperature: 1 }),
  );

test("the calls of one turn go in one exchange and come back as one asample each would", async () => {
  const viaBatch = await batched.createSamplingClient({ baseModel: "tiny" });
  const one = await single.createSamplingClient({ baseModel: "tiny" });
  const { value: got, paths } = await countingExchanges(() => Promise.all(calls(viaBatch)));
  assert.deepEqual(paths, ["asample_batch"]);
  const expected = await Promise.all(calls(one));
  assert.deepEqual(got.map((r) => r.sequences.map((s) => s.tokens)), expected.map((r) => r.sequences.map((s) => s.tokens)));
  got.forEach((result, i) =>
    result.sequences.forEach((sequence, j) =>
      sequence.logprobs.forEach((logprob, k) => assert.ok(Math.abs(logprob - expected[i].sequences[j].logprobs[k]) < 1e-5)),
    ),
  );
  // calls made in later turns go in later exchanges
  const { paths: later } = await countingExchanges(async () => {
    await viaBatch.sample({ promptTokens: [1, 2], maxTokens: 1, seed: 1 });
    await viaBatch.sample({ promptTokens: [1, 2], maxTokens: 1, seed: 2 });
  });
  assert.equal(later.length, 2);
});

test("a failing call fails alone, with the error its own asample gives", async () => {
  const codeOf = (promise: Promise<unknown>) =>
    promise.then(
      () => "resolved",
      (error: unknown) => (EvolverError.isInstance(error) ? error.code : String(error)),
    );
  const outcomes = async (client: TinkerClient) => {
    const sampler = await client.createSamplingClient({ baseModel: "tiny" });
    return Promise.all([
      codeOf(sampler.sample({ promptTokens: [1, 2], maxTokens: 2, seed: 1 })),
      codeOf(sampler.sample({ promptTokens: [1, 100_000], maxTokens: 2, seed: 1 })), // outside the vocabulary: fails on the trainer
      codeOf(sampler.sampleMany({ promptTokens: [1, 2], maxTokens: 2, seed: 1, numSamples: 0 })), // refused at once (422)
    ]);
  };
  const got = await outcomes(batched);
  assert.deepEqual(got, ["resolved", "TRAINER_REQUEST_FAILED", "TRAINER_BAD_REQUEST"]);
  assert.deepEqual(got, await outcomes(single));
});

test("an aborted call rejects at once; the others in its exchange are answered", async () => {
  const sampler = await batched.createSamplingClient({ baseModel: "tiny" });
  const gone = new AbortController();
  gone.abort();
  await assert.rejects(sampler.sample({ promptTokens: [1, 2], maxTokens: 1, seed: 1, signal: gone.signal }), { code: "TRAINER_ABORTED" });
  const controller = new AbortController();
  const long = sampler.sample({ promptTokens: [1, 2], maxTokens: 200, seed: 2, signal: controller.signal });
  const short = sampler.sample({ promptTokens: [1, 2], maxTokens: 1, seed: 3 });
  const started = performance.now();
  setTimeout(() => controller.abort(), 1);
  await assert.rejects(long, { code: "TRAINER_ABORTED" });
  assert.ok(performance.now() - started < 1000);
  assert.equal((await short).tokens.length, 1);
});

test("a connection lost mid-answer sends the unanswered calls again, and only those", async () => {
  const received: number[][] = [];
  const result = (token: number) => ({ sequences: [{ tokens: [token], logprobs: [-1], stop_reason: "length" }] });
  const server = createServer(async (request: IncomingMessage, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const tokens = (JSON.parse(Buffer.concat(chunks).toString()).requests as { seed: number }[]).map((r) => r.seed);
    received.push(tokens);
    response.writeHead(200, { "content-type": "application/x-ndjson" });
    if (received.length === 1) {
      // the first exchange answers its second request, then the connection drops
      response.write(`${JSON.stringify({ index: 1, result: result(tokens[1]) })}\n`);
      setTimeout(() => response.socket?.destroy(), 20);
      return;
    }
    response.end(tokens.map((token, index) => JSON.stringify({ index, result: result(token) })).join("\n") + "\n");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const http = new TinkerHttp({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, retries: 2 });
    const outcomes: [number, number][] = [];
    await http.sampleBatch([{ seed: 7 }, { seed: 8 }, { seed: 9 }], SampleResult, (index, outcome) => {
      assert.ok("result" in outcome, String("error" in outcome && outcome.error));
      outcomes.push([index, outcome.result.sequences[0].tokens[0]]);
    });
    assert.deepEqual(received, [[7, 8, 9], [7, 9]]);
    assert.deepEqual(outcomes.sort(), [[0, 7], [1, 8], [2, 9]]);
  } finally {
    server.close();
  }
});
