// The training-free semantic advantage (after Training-Free GRPO): where a group's rollouts ended differently, an
// LLM compares the better ones with the worse ones, reads the experiences they were given, and edits the pool:
// add a new experience, modify one it was shown, or delete one it was shown. A group whose rollouts all scored the
// same carries no advantage and costs no call. Edits that do not fit the schema, or name an experience the model was
// not shown, are dropped and counted.
import type { Trajectory } from "../../agent/index.js";
import type { ChatMessage } from "../../core/messages.js";
import type { LlmProvider } from "../../llm/index.js";
import { chatStructured } from "../../llm/structured.js";
import { describeAttempt, describeTask } from "./llm-text.js";
import { PoolEdit, SemanticAdvantageOutput, type Experience } from "./schema.js";

export const SEMANTIC_PROMPT_VERSION = "semantic-advantage-v1";

const SYSTEM_PROMPT = `You improve the experience library of an AI agent that cannot be retrained: the library is \
text shown to the agent before similar tasks. You receive one task, the library entries the agent was shown, and \
attempts at the task ranked by score. Compare the BETTER attempts with the WORSE ones and decide what the library \
should say so that future attempts do what the better ones did and avoid what the worse ones did:
- {"op": "add", "when_to_use": "...", "content": "..."} for a lesson the library lacks (general words, no task ids);
- {"op": "modify", "id": N, "content": "...", "when_to_use": "..."} to correct or sharpen entry N (when_to_use optional);
- {"op": "delete", "id": N, "reason": "..."} to remove entry N when it misled the agent.
Only modify or delete entries listed below. Make at most 3 edits; none when nothing should change. Answer with JSON \
only, in exactly this shape: {"edits": [ ... ]}`;

const editsJsonSchema: Record<string, unknown> = {
  type: "object",
  properties: {
    edits: {
      type: "array",
      items: {
        type: "object",
        properties: {
          op: { type: "string", enum: ["add", "modify", "delete"] },
          id: { type: "integer" },
          when_to_use: { type: "string" },
          content: { type: "string" },
          reason: { type: "string" },
        },
        required: ["op"],
      },
    },
  },
  required: ["edits"],
};

export interface SemanticAdvantageResult {
  edits: PoolEdit[];
  invalid: number;
  /** False when the group's rollouts all scored the same (no call made). */
  compared: boolean;
}

export function buildSemanticMessages(group: readonly Trajectory[], shown: readonly Experience[], perSide = 2): ChatMessage[] {
  const ranked = [...group].sort((a, b) => b.reward - a.reward);
  const best = ranked[0].reward;
  const worst = ranked[ranked.length - 1].reward;
  const better = ranked.filter((t) => t.reward === best).slice(0, perSide);
  const worse = ranked.filter((t) => t.reward === worst).slice(0, perSide);
  const library = shown.length === 0 ? "(empty)" : shown.map((e) => `[${e.id}] When ${e.whenToUse}: ${e.content}`).join("\n");
  const side = (title: string, list: Trajectory[]) => `${title}:\n${list.map((t, i) => `--- attempt ${i + 1}${t.experienceGuided ? " (shown the library)" : ""}\n${describeAttempt(t)}`).join("\n")}`;
  return [
    { role: "system", content: SYSTEM_PROMPT },
    { role: "user", content: `TASK:\n${describeTask(group)}\n\nLIBRARY ENTRIES SHOWN:\n${library}\n\n${side("BETTER ATTEMPTS", better)}\n\n${side("WORSE ATTEMPTS", worse)}` },
  ];
}

export async function semanticAdvantage(options: {
  provider: LlmProvider;
  group: readonly Trajectory[];
  /** The experiences the group's guided rollouts were given: the only ones it may modify or delete. */
  shown: readonly Experience[];
  signal?: AbortSignal;
}): Promise<SemanticAdvantageResult> {
  const { group, shown } = options;
  const rewards = new Set(group.map((t) => t.reward));
  if (group.length < 2 || rewards.size < 2) return { edits: [], invalid: 0, compared: false };
  const answer = await chatStructured({
    provider: options.provider,
    messages: buildSemanticMessages(group, shown),
    schema: SemanticAdvantageOutput,
    jsonSchema: { name: "pool_edits", schema: editsJsonSchema },
    temperature: 0,
    maxTokens: 1024,
    signal: options.signal,
  });
  if (!answer.ok) return { edits: [], invalid: 1, compared: true };
  const known = new Set(shown.map((e) => e.id));
  const edits: PoolEdit[] = [];
  let invalid = 0;
  for (const item of answer.value.edits) {
    const parsed = PoolEdit.safeParse(item);
    if (!parsed.success || (parsed.data.op !== "add" && !known.has(parsed.data.id))) invalid += 1;
    else edits.push(parsed.data);
  }
  return { edits, invalid, compared: true };
}
