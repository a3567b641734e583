import assert from "node:assert/strict";
import { test } from "node:test";
import type { Trajectory } from "../agent/index.js";
import { EvolverError } from "../core/errors.js";
import { buildDatum, trajectorySequences } from "./datums.js";

test("a datum predicts s[1:] from s[:-1] and shifts every per-token input by one", () => {
  // s = [10 11 12 13 14]: prompt 10 11, sampled 12 13, then an observation 14.
  const datum = buildDatum({
    tokens: [10, 11, 12, 13, 14],
    lossMask: [0, 0, 1, 1, 0],
    advantages: [0, 0, 0.5, 0.5, 0],
    samplerLogprobs: [0, 0, -1.5, -0.25, 0],
    experienceGuided: true,
  });
  assert.deepEqual(datum.model_input.chunks[0].tokens, [10, 11, 12, 13]);
  const inputs = datum.loss_fn_inputs;
  assert.deepEqual(inputs.target_tokens, { data: [11, 12, 13, 14], dtype: "int64", shape: [4] });
  // position 1 (input token 11) predicts 12, the first sampled token: that is where the first weight 1 must sit
  assert.deepEqual(inputs.weights.data, [0, 1, 1, 0]);
  assert.deepEqual(inputs.logprobs.data, [0, -1.5, -0.25, 0]);
  assert.deepEqual(inputs.advantages.data, [0, 0.5, 0.5, 0]);
  assert.deepEqual(inputs.experience_guided.data, [1]);
  assert.equal(inputs.ref_logprobs, undefined);
  for (const tensor of Object.values(inputs)) {
    if (tensor !== inputs.experience_guided) assert.equal(tensor.data.length, datum.model_input.chunks[0].tokens.length);
  }
});

test("a single advantage is spread over the tokens; a cross-entropy datum carries only targets and weights", () => {
  const withScalar = buildDatum({ tokens: [1, 2, 3], lossMask: [0, 1, 1], advantages: -2 });
  assert.deepEqual(withScalar.loss_fn_inputs.advantages.data, [-2, -2]);
  const plain = buildDatum({ tokens: [1, 2, 3], lossMask: [0, 1, 1] });
  assert.deepEqual(Object.keys(plain.loss_fn_inputs).sort(), ["target_tokens", "weights"]);
});

test("shape mistakes are named, not passed on", () => {
  const cases: [() => unknown, RegExp][] = [
    [() => buildDatum({ tokens: [1], lossMask: [0] }), /at least 2 tokens/],
    [() => buildDatum({ tokens: [1, 2, 3], lossMask: [0, 1] }), /lossMask has 2 values, the sequence has 3/],
    [() => buildDatum({ tokens: [1, 2, 3], lossMask: [1, 1, 1] }), /first token/],
    [() => buildDatum({ tokens: [1, 2, 3], lossMask: [0, 1, 1], samplerLogprobs: [0, -1] }), /samplerLogprobs/],
  ];
  for (const [run, message] of cases) {
    assert.throws(run, (error) => EvolverError.isInstance(error) && error.code === "TRAINER_DATUM_SHAPE" && message.test(error.message));
  }
});

function trajectory(segments: Trajectory["segments"]): Pick<Trajectory, "id" | "segments" | "experienceGuided"> {
  return { id: "t1", segments, experienceGuided: false };
}

test("a trajectory's segments join into its sequences, advantages and logprobs aligned with them", () => {
  const segments: Trajectory["segments"] = [
    { source: "prompt", tokens: [1, 2], lossMask: [0, 0] },
    { source: "policy", tokens: [3, 4], lossMask: [1, 1], logprobs: [-0.1, -0.2], step: 0 },
    { source: "environment", tokens: [5], lossMask: [0] },
    { source: "policy", tokens: [6], lossMask: [1], logprobs: [-0.3], step: 1 },
    // a second sequence (a context strategy rewrote the history): its own prompt, then one sampled token
    { source: "prompt", tokens: [7, 8], lossMask: [0, 0], sequence: 1 },
    { source: "policy", tokens: [9], lossMask: [1], logprobs: [-0.4], step: 2, sequence: 1 },
  ];
  const advantages = [[0, 0], [1, 1], [0], [2], [0, 0], [3]];
  const sequences = trajectorySequences(trajectory(segments), advantages);
  assert.equal(sequences.length, 2);
  assert.deepEqual(sequences[0].tokens, [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(sequences[0].lossMask, [0, 0, 1, 1, 0, 1]);
  assert.deepEqual(sequences[0].advantages, [0, 0, 1, 1, 0, 2]);
  assert.deepEqual(sequences[0].samplerLogprobs, [0, 0, -0.1, -0.2, 0, -0.3]);
  assert.deepEqual(sequences[1].tokens, [7, 8, 9]);
  const datum = buildDatum(sequences[1]);
  assert.deepEqual(datum.loss_fn_inputs.weights.data, [0, 1]);
  assert.deepEqual(datum.loss_fn_inputs.advantages.data, [0, 3]);
  assert.deepEqual(datum.loss_fn_inputs.logprobs.data, [0, -0.4]);
});

test("trained tokens without sampler logprobs are refused unless the loss needs none", () => {
  const segments: Trajectory["segments"] = [
    { source: "prompt", tokens: [1, 2], lossMask: [0, 0] },
    { source: "policy", tokens: [3], lossMask: [1], step: 0 },
  ];
  assert.throws(() => trajectorySequences(trajectory(segments), [[0, 0], [1]]), /without sampler logprobs/);
  const [sequence] = trajectorySequences(trajectory(segments), [[0, 0], [1]], { requireLogprobs: false });
  assert.equal(sequence.samplerLogprobs, undefined);
  assert.throws(() => trajectorySequences(trajectory(segments), [[0, 0]]), /2 segments but 1 advantage rows/);
});
