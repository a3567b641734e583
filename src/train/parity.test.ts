// Parity: the Python trainer's forward on the HF files and llama.cpp on the GGUF of the same tiny model give the same
// next-token logprobs. This pins the trainer's model code (RoPE layout, GQA, q/k/v biases, tied head) against an
// independent implementation, through the whole protocol path (datum alignment included).
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { getLlama, type Token } from "node-llama-cpp";
import { writeTinyModel, type TinyModelOptions } from "../llm/index.js";
import { buildDatum } from "./datums.js";
import { LocalTrainer } from "./local-trainer.js";

/** log-softmax of `logits` at `index`, in float64. */
function logprobAt(logits: Map<number, number>, index: number, vocabSize: number): number {
  let max = -Infinity;
  for (let id = 0; id < vocabSize; id++) max = Math.max(max, logits.get(id)!);
  let sum = 0;
  for (let id = 0; id < vocabSize; id++) sum += Math.exp(logits.get(id)! - max);
  return logits.get(index)! - max - Math.log(sum);
}

let llamaInstance: ReturnType<typeof getLlama> | undefined;

async function llamaCppLogprobs(ggufPath: string, tokens: number[], vocabSize: number): Promise<number[]> {
  const llama = await (llamaInstance ??= getLlama({ gpu: false, build: "never" }));
  const model = await llama.loadModel({ modelPath: ggufPath });
  // an F32 KV cache and no flash attention (which keeps F16 internally): llama.cpp's own rounding would otherwise be
  // ~1e-3 and hide a real difference; with them the two implementations agree to ~1e-6
  const context = await model.createContext({
    contextSize: 128,
    threads: 1, // the default thread count spins on a 2-core machine: ~25x slower here
    flashAttention: false,
    experimentalKvCacheKeyType: "F32",
    experimentalKvCacheValueType: "F32",
  });
  try {
    const results = await context.getSequence().controlledEvaluate(tokens.map((t) => [t as Token, { generateNext: { logits: true } }]));
    return tokens.slice(1).map((next, position) => logprobAt(results[position]!.next!.logits!, next, vocabSize));
  } finally {
    await context.dispose();
    await model.dispose();
  }
}

const cases: { options: TinyModelOptions; tolerance: number }[] = [
  { options: { seed: 5 }, tolerance: 1e-4 },
  { options: { seed: 6, tieWordEmbeddings: false, kvHeads: 1 }, tolerance: 1e-4 },
];

for (const { options, tolerance } of cases) {
  test(`trainer forward logprobs match llama.cpp on the same tiny model (${JSON.stringify(options)})`, async () => {
    const dir = mkdtempSync(join(tmpdir(), "evolver-parity-"));
    let trainer: LocalTrainer | undefined;
    try {
      const files = writeTinyModel(join(dir, "model"), options);
      // token ids spread over the byte vocabulary and the special tokens
      const tokens = [files.specialTokenIds["<|im_start|>"], 117, 115, 101, 114, 10, 72, 105, 33, 32, 50, 43, 50, 61, 52, 46, files.specialTokenIds["<|im_end|>"], 10];
      const expected = await llamaCppLogprobs(files.ggufPath!, tokens, files.vocabSize);

      trainer = await LocalTrainer.start({ baseModel: files.hfDir!, checkpointDir: join(dir, "checkpoints"), threads: 1 });
      const client = await trainer.connect({ heartbeatMs: 0 });
      // a fresh LoRA adapter (B = 0) leaves the base model exactly as loaded
      const training = await client.createTrainingClient({ baseModel: "model", loraRank: 4 });
      const output = await training.forward([buildDatum({ tokens, lossMask: tokens.map(() => 0) })]);
      client.close();
      const got = output.lossFnOutputs[0].logprobs;

      assert.equal(got.length, expected.length);
      const diffs = got.map((value, i) => Math.abs(value - expected[i]));
      const spread = Math.max(...expected) - Math.min(...expected);
      assert.ok(spread > 0.5, `logprobs too uniform to tell models apart (spread ${spread})`);
      assert.ok(Math.max(...diffs) < tolerance, `max |logprob difference| ${Math.max(...diffs)} (per token: ${diffs.map((d) => d.toExponential(1)).join(" ")})`);
    } finally {
      await trainer?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
