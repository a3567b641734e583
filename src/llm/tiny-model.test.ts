import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getLlama, readGgufFileInfo } from "node-llama-cpp";
import { writeTinyModel } from "./tiny-model.js";
import { readSafetensors } from "./safetensors.js";
import { float16BitsToFloat32, float32ToFloat16Bits } from "./float16.js";
import { qwen2ReferenceLogits } from "./test-support/qwen2-reference.js";

const withDir = async (body: (dir: string) => Promise<void>) => {
  const dir = mkdtempSync(join(tmpdir(), "evolver-tiny-"));
  try {
    await body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

test("float16 conversion rounds like numpy", () => {
  assert.equal(float32ToFloat16Bits(1), 0x3c00);
  assert.equal(float32ToFloat16Bits(-2), 0xc000);
  assert.equal(float32ToFloat16Bits(65504), 0x7bff);
  assert.equal(float32ToFloat16Bits(1e6), 0x7c00); // overflows to inf
  assert.equal(float32ToFloat16Bits(2 ** -24), 0x0001); // smallest subnormal
  assert.equal(float32ToFloat16Bits(2 ** -26), 0x0000); // below half of it: zero
  // 1 + 2^-11 lies halfway between 1 and 1 + 2^-10: ties go to the even mantissa (1).
  assert.equal(float32ToFloat16Bits(1 + 2 ** -11), 0x3c00);
  assert.equal(float32ToFloat16Bits(1 + 3 * 2 ** -11), 0x3c02);
  for (const value of [0.1, -3.25, 1e-5, 123.456]) {
    assert.ok(Math.abs(float16BitsToFloat32(float32ToFloat16Bits(value)) - value) <= Math.abs(value) * 2 ** -11 + 2 ** -25);
  }
});

test("writeTinyModel writes a GGUF with the metadata llama.cpp needs and an HF directory", async () => {
  await withDir(async (dir) => {
    const files = writeTinyModel(dir, { seed: 1 });
    const info = await readGgufFileInfo(files.ggufPath!, { logWarnings: false });
    const meta = info.metadata as unknown as Record<string, Record<string, unknown>>;
    assert.equal(info.version, 3);
    assert.equal(meta.general.architecture, "qwen2");
    assert.equal((meta.qwen2 as { block_count: number }).block_count, 2);
    const tokenizer = meta.tokenizer as { ggml: { tokens: string[]; model: string }; chat_template: string };
    assert.equal(tokenizer.ggml.model, "gpt2");
    assert.equal(tokenizer.ggml.tokens.length, files.vocabSize);
    assert.match(tokenizer.chat_template, /<tool_call>/);
    assert.equal(info.tensorInfo?.length, 1 + 2 * 12 + 1); // embedding, 12 per layer (4 matrices + 3 biases + 3 MLP + 2 norms), final norm; output tied

    const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
    assert.deepEqual(config.architectures, ["Qwen2ForCausalLM"]);
    assert.equal(config.vocab_size, files.vocabSize);
    const weights = readSafetensors(join(dir, "model.safetensors"));
    assert.deepEqual(weights.get("model.layers.1.self_attn.k_proj.weight")?.shape, [2 * 16, 64]);
    assert.ok(weights.has("model.layers.0.self_attn.q_proj.bias"));
    assert.ok(!weights.has("lm_head.weight"));
    const tokenizerJson = JSON.parse(readFileSync(join(dir, "tokenizer.json"), "utf8"));
    assert.equal(tokenizerJson.model.type, "BPE");
    assert.equal(tokenizerJson.added_tokens.find((t: { content: string }) => t.content === "<|im_end|>").id, files.specialTokenIds["<|im_end|>"]);
  });
});

test("the same seed gives the same weights, another seed other weights", async () => {
  await withDir(async (dir) => {
    writeTinyModel(join(dir, "a"), { seed: 7, formats: ["hf"] });
    writeTinyModel(join(dir, "b"), { seed: 7, formats: ["hf"] });
    writeTinyModel(join(dir, "c"), { seed: 8, formats: ["hf"] });
    const read = (name: string) => readFileSync(join(dir, name, "model.safetensors"));
    assert.ok(read("a").equals(read("b")));
    assert.ok(!read("a").equals(read("c")));
  });
});

// llama.cpp on model.gguf against an HF-semantics forward pass on model.safetensors: the two files are one model.
// Differences come from llama.cpp's F16 KV cache (~1e-3); a wiring mistake (swapped q/k, permuted heads, a missing
// bias) moves logits by about their own size (~1).
for (const options of [{ seed: 2 }, { seed: 3, tieWordEmbeddings: false }, { seed: 4, dtype: "f16" as const }]) {
  test(`llama.cpp logits on the GGUF match the HF model (${JSON.stringify(options)})`, async () => {
    await withDir(async (dir) => {
      const files = writeTinyModel(dir, options);
      const llama = await getLlama({ gpu: false, build: "never" });
      const model = await llama.loadModel({ modelPath: files.ggufPath! });
      const context = await model.createContext({ contextSize: 128 });
      try {
        const tokens = model.tokenize("<|im_start|>user\nHello the world, 123<|im_end|>\n", true);
        const results = await context.getSequence().controlledEvaluate(tokens.map((t) => [t, { generateNext: { logits: true } }]));
        const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
        const reference = qwen2ReferenceLogits(config, readSafetensors(join(dir, "model.safetensors")), tokens);
        let maxDiff = 0;
        let maxLogit = 0;
        tokens.forEach((_, position) => {
          const logits = results[position]?.next?.logits;
          assert.ok(logits && logits.size === files.vocabSize);
          for (const [id, value] of logits) {
            maxDiff = Math.max(maxDiff, Math.abs(value - reference[position][id]));
            maxLogit = Math.max(maxLogit, Math.abs(reference[position][id]));
          }
        });
        assert.ok(maxLogit > 1, `logits too flat to tell models apart (max ${maxLogit})`);
        assert.ok(maxDiff < 0.02, `max logit difference ${maxDiff}`);
      } finally {
        await context.dispose();
        await model.dispose();
      }
    });
  });
}

test("bad options are reported by name", () => {
  assert.throws(() => writeTinyModel("/tmp/never", { hidden: 30, heads: 4 }), /multiple of heads/);
  assert.throws(() => writeTinyModel("/tmp/never", { layers: -1 } as never), /LLM_TINY_OPTIONS|layers/);
});
