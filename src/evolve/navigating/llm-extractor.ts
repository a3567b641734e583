// The LLM extractor: one call per group, comparing the attempts that succeeded with those that failed, answered as
// structured JSON {"experiences": [{"when_to_use", "content", "origin"}]}. Items that do not fit the schema are
// dropped and counted; an answer that is not JSON, or a call that fails, is counted and the group adds nothing
// (the run goes on).
import type { Trajectory } from "../../agent/index.js";
import type { ChatMessage } from "../../core/messages.js";
import type { LlmProvider } from "../../llm/index.js";
import type { ExperienceExtractor, ExtractionResult } from "./extractor.js";
import { chatStructured } from "../../llm/structured.js";
import { describeAttempt, describeTask } from "./llm-text.js";
import { ExtractedItem, ExtractorOutput } from "./schema.js";

export const EXTRACTOR_PROMPT_VERSION = "experience-extractor-v1";

const SYSTEM_PROMPT = `You distil reusable experience from an AI agent's attempts at one task. Some attempts succeeded, \
some failed. Compare them: what did the successful attempts do that the failed ones did not, and which mistakes made \
attempts fail? Write each lesson as an experience another agent can apply to similar tasks later:
- "when_to_use": the situation in which the lesson applies, in general words (no ids of this particular task);
- "content": what to do or avoid, concrete and short;
- "origin": "success" for a lesson taken from what worked, "failure" for a lesson taken from a mistake.
Write at most 3 experiences; write none when the attempts teach nothing. Answer with JSON only, in exactly this shape:
{"experiences": [{"when_to_use": "...", "content": "...", "origin": "success"}]}`;

const extractorJsonSchema: Record<string, unknown> = {
  type: "object",
  properties: {
    experiences: {
      type: "array",
      items: {
        type: "object",
        properties: {
          when_to_use: { type: "string" },
          content: { type: "string" },
          origin: { type: "string", enum: ["success", "failure"] },
        },
        required: ["when_to_use", "content", "origin"],
        additionalProperties: false,
      },
    },
  },
  required: ["experiences"],
  additionalProperties: false,
};

export function buildExtractorMessages(group: readonly Trajectory[], maxAttempts = 4): ChatMessage[] {
  const successes = group.filter((t) => t.success).slice(0, maxAttempts);
  const failures = group.filter((t) => !t.success).slice(0, maxAttempts);
  const section = (title: string, list: Trajectory[]) =>
    list.length === 0 ? `${title}: none` : `${title}:\n${list.map((t, i) => `--- attempt ${i + 1}\n${describeAttempt(t)}`).join("\n")}`;
  return [
    { role: "system", content: SYSTEM_PROMPT },
    { role: "user", content: `TASK:\n${describeTask(group)}\n\n${section("SUCCESSFUL ATTEMPTS", successes)}\n\n${section("FAILED ATTEMPTS", failures)}` },
  ];
}

export interface LlmExtractorOptions {
  provider: LlmProvider;
  temperature?: number;
  maxTokens?: number;
}

export function createLlmExtractor(options: LlmExtractorOptions): ExperienceExtractor & { failures: number } {
  const extractor = {
    id: `llm:${options.provider.id}`,
    failures: 0,
    async extract(group: readonly Trajectory[], call: { signal?: AbortSignal } = {}): Promise<ExtractionResult> {
      const empty = { experiences: [], invalid: 0 };
      if (group.length === 0) return empty;
      const answer = await chatStructured({
        provider: options.provider,
        messages: buildExtractorMessages(group),
        schema: ExtractorOutput,
        jsonSchema: { name: "experiences", schema: extractorJsonSchema },
        temperature: options.temperature ?? 0,
        maxTokens: options.maxTokens ?? 1024,
        signal: call.signal,
      });
      extractor.failures += answer.failedCalls;
      if (!answer.ok) return { ...empty, invalid: 1 };
      const provenance = {
        sourceTrajectories: group.map((t) => t.id),
        sourceTasks: [...new Set(group.map((t) => t.taskId))],
        extractor: extractor.id,
      };
      let invalid = 0;
      const experiences = [];
      for (const item of answer.value.experiences) {
        const parsed = ExtractedItem.safeParse(item);
        if (!parsed.success) {
          invalid += 1;
          continue;
        }
        experiences.push({ whenToUse: parsed.data.when_to_use, content: parsed.data.content, origin: parsed.data.origin, ...provenance });
      }
      return { experiences, invalid };
    },
  };
  return extractor;
}
