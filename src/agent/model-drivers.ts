// The two ways a rollout talks to a model, behind one small interface:
// - chat: an `LlmProvider` (API models, the embedded model). Token ids are recorded when the backend returns them.
// - tokens: a `TokenSampler` plus a `ChatTemplate`. With an append-only context the prompt is the exact tokens so
//   far plus `renderContinuation(new messages)`; sampled tokens are appended as they came and never re-tokenized.
//   With a context strategy that rewrites history, each call renders its prompt afresh and starts a new sequence.
import type { ChatMessage, ToolCall, ToolSchema } from "../core/messages.js";
import { contextOverflowError, type ChatTemplate, type LlmProvider, type TokenSampler } from "../llm/index.js";
import type { ContextStrategy } from "./context/index.js";
import { TokenRecorder } from "./token-recorder.js";
import type { ToolCallFormat } from "./tool-formats.js";
import type { Segment } from "./trajectory.js";

/** The policy a rollout samples from. */
export type PolicyModel =
  | { kind: "chat"; provider: LlmProvider }
  | { kind: "tokens"; sampler: TokenSampler; template: ChatTemplate };

export function policyModelId(model: PolicyModel): string {
  return model.kind === "chat" ? model.provider.id : model.sampler.id;
}

export interface SamplingOptions {
  temperature?: number;
  topP?: number;
  seed?: number;
  maxTokensPerCall: number;
  /** Prompt plus completion may not exceed this many tokens. */
  contextLimitTokens?: number;
  /** Chat backends: ask for completion logprobs (needed to train on API-served policies). */
  logprobs?: boolean;
}

export interface TurnRequest {
  history: ChatMessage[];
  pinned: number;
  tools: ToolSchema[];
  step: number;
  signal: AbortSignal;
  /** Where injected experience sits in the history (ascending), so token rollouts can label its tokens. */
  experienceIndices?: readonly number[];
}

export interface ModelTurn {
  /** The completion text, thinking included, to parse. */
  text: string;
  /** Thinking the backend already separated. */
  reasoning?: string;
  /** Calls the backend parsed (native tool calling). */
  nativeCalls?: ToolCall[];
  promptTokens: number;
  completionTokens: number;
  truncated: boolean;
}

export interface ModelDriver {
  /** Rejects with LLM_CONTEXT_OVERFLOW when the prompt leaves no room under the context limit. */
  call(request: TurnRequest): Promise<ModelTurn>;
  /** The trajectory's token segments; empty when the backend gave no token ids. */
  segments(): Segment[];
}

export function createModelDriver(
  model: PolicyModel,
  format: ToolCallFormat,
  context: ContextStrategy,
  sampling: SamplingOptions,
): ModelDriver {
  return model.kind === "chat" ? chatDriver(model.provider, format, context, sampling) : tokenDriver(model.sampler, model.template, format, context, sampling);
}

/** What a chat API is sent: raw-text formats show calls and results as text, since the API knows no tools. */
export function toWireMessages(messages: ChatMessage[], format: ToolCallFormat): ChatMessage[] {
  if (format.nativeTools) return messages;
  const wire: ChatMessage[] = [];
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i];
    if (message.role === "assistant") {
      wire.push({ role: "assistant", content: format.format(message.tool_calls ?? [], message.content) });
    } else if (message.role === "tool") {
      const run = [message];
      while (messages[i + 1]?.role === "tool") run.push(messages[++i]);
      wire.push({ role: "user", content: format.formatToolResults(run) });
    } else {
      wire.push(message);
    }
  }
  return wire;
}

/** What a chat template renders: raw-text formats show calls as text; the template shows tool results its way. */
function toTemplateMessages(messages: ChatMessage[], format: ToolCallFormat): ChatMessage[] {
  if (format.nativeTools) return messages;
  return messages.map((message) =>
    message.role === "assistant" && message.tool_calls?.length
      ? { role: "assistant", content: format.format(message.tool_calls, message.content), reasoning_content: message.reasoning_content }
      : message,
  );
}

function chatDriver(provider: LlmProvider, format: ToolCallFormat, context: ContextStrategy, sampling: SamplingOptions): ModelDriver {
  const recorder = new TokenRecorder();
  let tokensMissing = false;
  return {
    async call({ history, pinned, tools, step, signal }) {
      const messages = toWireMessages(context.build({ history, pinned }), format);
      const completion = await provider.chat({
        messages,
        tools: format.nativeTools && tools.length > 0 ? tools : undefined,
        temperature: sampling.temperature,
        topP: sampling.topP,
        seed: sampling.seed === undefined ? undefined : sampling.seed + step,
        maxTokens: sampling.maxTokensPerCall,
        logprobs: sampling.logprobs,
        signal,
      });
      if (completion.promptTokenIds && completion.completionTokenIds) {
        recorder.recordCall(completion.promptTokenIds, completion.completionTokenIds, completion.completionLogprobs, step);
      } else {
        tokensMissing = true;
      }
      const nativeCalls = completion.message.tool_calls?.length ? completion.message.tool_calls : undefined;
      return {
        text: nativeCalls ? completion.message.content : (completion.rawText ?? completion.message.content),
        reasoning: completion.message.reasoning_content,
        nativeCalls,
        promptTokens: completion.usage.promptTokens,
        completionTokens: completion.usage.completionTokens,
        truncated: completion.finishReason === "length",
      };
    },
    segments: () => (tokensMissing ? [] : recorder.segments),
  };
}

function tokenDriver(
  sampler: TokenSampler,
  template: ChatTemplate,
  format: ToolCallFormat,
  context: ContextStrategy,
  sampling: SamplingOptions,
): ModelDriver {
  const recorder = new TokenRecorder();
  const stopTokens = new Set(template.stopTokens);
  /** How many history messages the current sequence already holds (append-only contexts). */
  let rendered = 0;
  /** The last reply was cut by the token limit and still lacks its end-of-turn token. */
  let unclosed = false;
  /** The tools the current sequence's prompt offers (names), for strategies that change them between calls. */
  let renderedTools: string | undefined;
  return {
    async call({ history, pinned, tools, step, signal, experienceIndices = [] }) {
      const templateTools = format.nativeTools && tools.length > 0 ? tools : undefined;
      const toolNames = tools.map((tool) => tool.function.name).join("\n");
      // Other tools make another prompt from its first tokens on: the call is its own sequence, as the model saw it.
      const toolsChanged = context.toolSelection !== undefined && renderedTools !== undefined && toolNames !== renderedTools;
      renderedTools = toolNames;
      /**
       * Renders messages[from..] after messages[..from] (or a new sequence from messages[0] when `fresh`), in pieces
       * cut at the experience messages, so their tokens are labelled "experience" exactly (and later stripped); the
       * rest is labelled `source`. The generation prompt is its own piece when the last message is an experience.
       */
      const renderLabelled = (messages: ChatMessage[], experience: readonly number[], from: number, source: "prompt" | "environment", fresh: boolean) => {
        const pieces: { from: number; to: number; source: "prompt" | "environment" | "experience" }[] = [];
        let start = from;
        for (const index of experience) {
          if (index < from || index >= messages.length) continue;
          if (index > start || (fresh && pieces.length === 0)) pieces.push({ from: start, to: index, source });
          pieces.push({ from: index, to: index + 1, source: "experience" });
          start = index + 1;
        }
        if (start < messages.length || pieces.length === 0 || pieces[pieces.length - 1].source === "experience") pieces.push({ from: start, to: messages.length, source });
        pieces.forEach((piece, n) => {
          const options = { tools: templateTools, addGenerationPrompt: n === pieces.length - 1 };
          const added = messages.slice(piece.from, piece.to);
          if (fresh && n === 0) recorder.startSequence(template.render(added, options));
          else recorder.appendContext(template.renderContinuation(added, { previous: messages.slice(0, piece.from), ...options }), piece.source);
        });
      };
      if (!context.appendOnly) {
        // The strategy rewrites the history; only pinned messages keep their index in the prompt it builds.
        renderLabelled(toTemplateMessages(context.build({ history, pinned }), format), experienceIndices.filter((i) => i < pinned), 0, "prompt", true);
      } else if (rendered === 0 || toolsChanged) {
        renderLabelled(toTemplateMessages(history, format), experienceIndices, 0, "prompt", true);
      } else {
        // A reply cut off by the token limit has no end-of-turn token; close the turn (out of the loss) so the
        // continuation is rendered after a finished assistant turn, as the template expects.
        if (unclosed) recorder.appendContext([template.stopTokens[0]], "prompt");
        renderLabelled(toTemplateMessages(history, format), experienceIndices, rendered, "environment", false);
      }
      const promptTokens = [...recorder.currentTokens];
      const room = sampling.contextLimitTokens === undefined ? Infinity : sampling.contextLimitTokens - promptTokens.length;
      const maxTokens = Math.min(sampling.maxTokensPerCall, room);
      if (maxTokens <= 0) throw contextOverflowError(promptTokens.length, sampling.contextLimitTokens!);
      const sample = await sampler.sample({
        promptTokens,
        maxTokens,
        temperature: sampling.temperature,
        topP: sampling.topP,
        stopTokens: template.stopTokens,
        seed: sampling.seed === undefined ? undefined : sampling.seed + step,
        signal,
      });
      recorder.appendSampled(sample.tokens, sample.logprobs, step);
      const last = sample.tokens[sample.tokens.length - 1];
      const finished = last !== undefined && stopTokens.has(last);
      unclosed = !finished && template.stopTokens.length > 0;
      rendered = history.length + 1; // the rollout appends this turn's assistant message next
      return {
        text: template.decode(finished ? sample.tokens.slice(0, -1) : sample.tokens),
        promptTokens: promptTokens.length,
        completionTokens: sample.tokens.length,
        truncated: !finished,
      };
    },
    segments: () => recorder.segments,
  };
}
