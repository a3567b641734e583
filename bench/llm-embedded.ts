// Embedded provider throughput against bare node-llama-cpp on the same GGUF, prompt, sampler settings and threads:
// the provider's own work (chat template, sequence pool, prefix reuse, decoding, tool-call parsing) should cost
// under 5%. The model is random with Qwen2.5-0.5B's transformer shape (`--shape 0.5b`, F16), written to a temp
// folder; --quick uses a much smaller one.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getLlama, type Token } from "node-llama-cpp";
import { createEmbeddedProvider, tinyModelShapes, writeTinyModel } from "../src/llm/index.js";
import type { BenchResult } from "./result.js";

const messages = [
  { role: "system" as const, content: "You are a helpful assistant that answers briefly." },
  { role: "user" as const, content: "List three facts about the city of Paris and explain each in one sentence." },
];

export async function run({ quick }: { quick: boolean }): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), "evolver-bench-llm-"));
  try {
    const shape = quick ? { hidden: 256, layers: 4, heads: 4, kvHeads: 2, intermediate: 768 } : tinyModelShapes["0.5b"];
    const files = writeTinyModel(dir, { ...shape, dtype: "f16", formats: ["gguf"], seed: 0 });
    const maxTokens = 48;
    const rounds = quick ? 9 : 7;
    const llama = await getLlama({ gpu: false, build: "never" });
    // One thread each: on a small shared machine llama.cpp's spinning worker threads make timings swing by 2x,
    // which would swamp the few percent this figure is about.
    const threads = 1;

    const provider = await createEmbeddedProvider({ model: files.ggufPath!, contextSize: 1024, sequences: 1, threads });
    const prompt = provider.template.render(messages, { addGenerationPrompt: true });
    // The bare baseline: its own model and context, the same sampler settings the provider uses.
    const bareModel = await llama.loadModel({ modelPath: files.ggufPath! });
    const bareContext = await bareModel.createContext({ contextSize: 1024, sequences: 1, threads });
    const bareSequence = bareContext.getSequence();

    async function bare(seed: number): Promise<number> {
      await bareSequence.clearHistory();
      let count = 0;
      const options = { temperature: 1, topP: 1, topK: 0, minP: 0, seed, yieldEogToken: true };
      for await (const token of bareSequence.evaluate(prompt as Token[], options)) {
        count++;
        if (bareModel.isEogToken(token) || count >= maxTokens) break;
      }
      return count;
    }
    let call = 0;
    async function embedded(seed: number, logprobs: boolean): Promise<number> {
      // A system prompt never seen before keeps the provider from reusing a cached prompt, as the bare run cannot.
      const fresh = [{ ...messages[0], content: `(${++call}) ${messages[0].content}` }, messages[1]];
      const completion = await provider.chat({ messages: fresh, maxTokens, temperature: 1, topP: 1, seed, logprobs });
      return completion.usage.completionTokens;
    }
    const timed = async (work: () => Promise<number>) => {
      const started = performance.now();
      const tokens = await work();
      return { tokens, ms: performance.now() - started };
    };

    await bare(0); // warm-up
    await embedded(0, false);
    // Paired rounds in ABBA order, and the median of the per-round ratios: other work on the machine moves single
    // timings by tens of percent, which a median of paired ratios mostly cancels.
    const rates = { bare: [] as number[], embedded: [] as number[], logprobs: [] as number[] };
    const measure = async (into: number[], work: () => Promise<number>) => {
      const started = performance.now();
      const tokens = await work();
      into.push((tokens / (performance.now() - started)) * 1000);
    };
    for (let round = 1; round <= rounds; round++) {
      const order = round % 2 ? ["bare", "embedded", "logprobs"] : ["logprobs", "embedded", "bare"];
      for (const which of order) {
        if (which === "bare") await measure(rates.bare, () => bare(round));
        else await measure(rates[which as "embedded" | "logprobs"], () => embedded(round, which === "logprobs"));
      }
    }
    await bareContext.dispose();
    await bareModel.dispose();
    await provider.close();

    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
    const ratio = (of: number[]) => median(of.map((value, i) => value / rates.bare[i]));
    const model = quick ? "small random qwen2" : "0.5B-shaped random qwen2 F16";
    const bareRate = median(rates.bare);
    const embeddedRatio = ratio(rates.embedded);
    return [
      { name: `bare node-llama-cpp (${model})`, value: bareRate, unit: "tokens/s" },
      {
        name: `embedded provider chat (${model})`,
        value: median(rates.embedded),
        unit: "tokens/s",
        baseline: { name: "bare node-llama-cpp", value: bareRate },
        ratio: embeddedRatio,
        goal: ">= 0.95 (median of paired rounds)",
        ok: embeddedRatio >= 0.95,
      },
      {
        name: `embedded provider chat with logprobs (${model})`,
        value: median(rates.logprobs),
        unit: "tokens/s",
        baseline: { name: "bare node-llama-cpp", value: bareRate },
        ratio: ratio(rates.logprobs),
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
