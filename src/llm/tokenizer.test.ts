import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getLlama } from "node-llama-cpp";
import { Tokenizer } from "./tokenizer.js";
import { compileHfRegex } from "./hf-regex.js";
import { writeTinyModel } from "./tiny-model.js";
import { qwen2SplitPattern } from "./tiny-vocab.js";

const samples = [
  "Hello the world",
  "<|im_start|>user\nWhat's the weather in Paris, 2024?<|im_end|>\n<|im_start|>assistant\n",
  '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Zürich"}}\n</tool_call>',
  "  leading spaces, trailing  \n\n\ttabs\r\nCRLF",
  "I'M here, they'll see; DON'T 12345 3.14",
  "emoji 🙂 and 漢字 and naïve café",
  "",
  "<|im_end|><|im_end|>x<|endoftext|>",
];

test("the tiny model's tokenizer.json encodes like llama.cpp encodes its GGUF, and decodes back", async () => {
  const dir = mkdtempSync(join(tmpdir(), "evolver-tok-"));
  try {
    const files = writeTinyModel(dir, {});
    const tokenizer = Tokenizer.fromFile(dir);
    const llama = await getLlama({ gpu: false, build: "never" });
    const model = await llama.loadModel({ modelPath: files.ggufPath! });
    try {
      for (const text of samples) {
        const ours = tokenizer.encode(text);
        assert.deepEqual(ours, model.tokenize(text, true), JSON.stringify(text));
        assert.equal(tokenizer.decode(ours), text);
      }
      // Merges actually ran: " the" is one token, as is "ing".
      assert.deepEqual(tokenizer.encode(" the"), [tokenizer.tokenToId("Ġthe")]);
      assert.equal(tokenizer.encode("<|im_start|>", { parseSpecial: false }).length, "<|im_start|>".length);
      assert.equal(tokenizer.decode(tokenizer.encode("<|im_start|>hi"), { skipSpecial: true }), "hi");
    } finally {
      await model.dispose();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// A handmade tokenizer in the GPT-2 style (ByteLevel pre-tokenizer with its own regex) with real merges, where the
// expected ids are worked out by hand from the merge ranks.
const handmade = {
  version: "1.0",
  added_tokens: [{ id: 12, content: "<eos>", special: true }],
  normalizer: null,
  pre_tokenizer: { type: "ByteLevel", add_prefix_space: false, use_regex: true },
  decoder: { type: "ByteLevel" },
  model: {
    type: "BPE",
    vocab: { l: 0, o: 1, w: 2, e: 3, r: 4, "Ġ": 5, lo: 6, low: 7, er: 8, "Ġlow": 9, "Ġl": 10, lower: 11 },
    // Rank order matters: "l o" (0) before "e r" (1); "Ġ l" (3) is applied before "Ġl o"... which is not a merge.
    merges: ["l o", "e r", "lo w", "Ġ l", "Ġl ow", "low er"],
  },
};

test("BPE on a handmade vocabulary follows merge ranks", () => {
  const tokenizer = new Tokenizer(handmade);
  // "lower": l o w e r -> (l o) w e r -> lo w (e r) -> (lo w) er -> (low er) = [lower]
  assert.deepEqual(tokenizer.encode("lower"), [11]);
  // " low": Ġ l o w -> Ġ (l o) w -> Ġ (lo w) -> "Ġ l" is rank 3 but "Ġ low" is no merge: [Ġ, low]
  assert.deepEqual(tokenizer.encode(" low"), [5, 7]);
  // "low low<eos>": the pre-tokenizer splits "low" and " low"; the added token is matched whole.
  assert.deepEqual(tokenizer.encode("low low<eos>"), [7, 5, 7, 12]);
  assert.equal(tokenizer.decode([7, 5, 7, 12]), "low low<eos>");
  assert.equal(tokenizer.decode([7, 12], { skipSpecial: true }), "low");
  assert.throws(() => tokenizer.encode("z"), /LLM_TOKEN_UNKNOWN|no token/);
});

test("merges given as pairs (newer tokenizer.json) read the same as strings", () => {
  const pairs = { ...handmade, model: { ...handmade.model, merges: handmade.model.merges.map((m) => m.split(" ")) } };
  assert.deepEqual(new Tokenizer(pairs).encode("lower low"), new Tokenizer(handmade).encode("lower low"));
});

test("scoped case-insensitive groups are rewritten for JavaScript", () => {
  const regex = compileHfRegex(qwen2SplitPattern);
  assert.deepEqual("I'M DON'T we'll".match(regex), ["I", "'M", " DON", "'T", " we", "'ll"]);
  assert.deepEqual("x12".match(regex), ["x", "1", "2"]);
  assert.equal("1A".match(compileHfRegex("(?i:\\p{L}a)")), null);
  assert.deepEqual("bA".match(compileHfRegex("(?i:\\p{L}a)")), ["bA"]);
});

test("tokenizers that are not byte-level BPE are refused with a clear code", () => {
  assert.throws(() => new Tokenizer({ model: { type: "WordPiece", vocab: {} } }), /LLM_TOKENIZER_UNSUPPORTED|byte-level/);
  assert.throws(() => new Tokenizer({ ...handmade, decoder: { type: "Metaspace" } }), /decoder 'Metaspace'/);
});
