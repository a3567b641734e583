// `stream: true` for `evolver model serve`: server-sent events in OpenAI's chunk format. Each choice sends its role,
// then content deltas, tool-call deltas (one per call, name and whole arguments, as soon as the call is read: at its
// </tool_call> for Hermes, at the ';' after it or the end for Llama 3.1 JSON, at the end for Mistral's list)
// and logprob entries as the tokens come, then a chunk with its finish reason; `stream_options.include_usage` adds
// a last chunk with usage and no choices; `data: [DONE]` ends the stream. Tool calls are read from the streamed text
// by the same parser the provider uses on the whole text (the provider's toolCallSyntax), so streamed and unstreamed
// answers agree.
// Providers that cannot stream (no `onDelta` calls) have their whole answer sent as one set of deltas at the end.
// Token ids (the server's extension) travel in each chunk's `choices[i].token_ids`, the prompt's in the finish chunk.
// Headers are sent with the first chunk, so a request that fails before any token still gets a plain 4xx/5xx; a
// failure after that is an `error` event (the SDK raises it) and the end of the stream.
import type { ServerResponse } from "node:http";
import { toolCallSyntaxes, type ToolCallEvent } from "./tool-calls.js";
import { logprobEntries, wireFinishReason, type ChatCompletionBody, type TokenSpeller } from "./serve-schema.js";
import type { ChatCompletion, CompletionDelta, ToolCallSyntax } from "./types.js";

export interface StreamMeta {
  id: string;
  model: string;
  spell: TokenSpeller;
  /** How the model writes calls in its text; default hermes. */
  toolCallSyntax?: ToolCallSyntax;
}

export interface StreamedChoice {
  onDelta(delta: CompletionDelta): void;
  finish(completion: ChatCompletion): void;
}

export class ChatCompletionStream {
  private headersSent = false;
  private readonly created = Math.floor(Date.now() / 1000);
  private readonly parsesToolCalls: boolean;

  constructor(
    private readonly response: ServerResponse,
    private readonly body: ChatCompletionBody,
    private readonly meta: StreamMeta,
  ) {
    this.parsesToolCalls = body.tool_choice !== "none" && (body.tools?.length ?? 0) > 0;
  }

  get started(): boolean {
    return this.headersSent;
  }

  choice(index: number): StreamedChoice {
    let roleSent = false;
    let streamed = false;
    let toolCalls = 0;
    const syntax = toolCallSyntaxes[this.meta.toolCallSyntax ?? "hermes"];
    const parser = this.parsesToolCalls ? syntax.parser({ makeId: (i) => `call_${this.meta.id}_${index}_${i}` }) : undefined;
    const send = (events: ToolCallEvent[], tokens: Partial<CompletionDelta> = {}) => {
      // The role goes alone in the first chunk: the SDK's accumulator counts a first chunk's logprobs twice.
      if (!roleSent) this.write(this.chunk(index, { role: "assistant", content: "" }, null));
      roleSent = true;
      const delta: Record<string, unknown> = {};
      const text = events.flatMap((e) => (e.type === "content" ? [e.text] : [])).join("");
      if (text) delta.content = text;
      const calls = events.flatMap((e) => (e.type === "tool_call" ? [{ index: toolCalls++, ...e.call }] : []));
      if (calls.length) delta.tool_calls = calls;
      const ids = tokens.tokenIds ?? [];
      const logprobs = this.body.logprobs && tokens.logprobs ? { content: logprobEntries(ids, tokens.logprobs, tokens.topLogprobs, this.meta.spell) } : null;
      if (Object.keys(delta).length === 0 && ids.length === 0) return;
      this.write(this.chunk(index, delta, logprobs, null, ids.length ? { token_ids: ids } : {}));
    };
    return {
      onDelta: (delta) => {
        streamed = true;
        send(parser ? parser.push(delta.text) : [{ type: "content", text: delta.text }], delta);
      },
      finish: (completion) => {
        if (streamed) {
          if (parser) send(parser.end());
        } else {
          const events: ToolCallEvent[] = [{ type: "content", text: completion.message.content }];
          for (const call of completion.message.tool_calls ?? []) events.push({ type: "tool_call", call });
          send(events, {
            tokenIds: completion.completionTokenIds,
            logprobs: completion.completionLogprobs,
            topLogprobs: completion.completionTopLogprobs,
          });
        }
        const finish = this.chunk(index, {}, null, wireFinishReason(completion));
        this.write(completion.promptTokenIds ? { ...finish, prompt_token_ids: completion.promptTokenIds } : finish);
      },
    };
  }

  /** The usage chunk (when asked for) and [DONE]. */
  end(completions: ChatCompletion[]): void {
    if (this.body.stream_options?.include_usage) {
      const prompt = completions[0]?.usage.promptTokens ?? 0;
      const completion = completions.reduce((sum, c) => sum + c.usage.completionTokens, 0);
      this.write({ ...this.envelope(), choices: [], usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion } });
    }
    this.response.end("data: [DONE]\n\n");
  }

  /** A failure after the stream started: an error event, then the end. */
  fail(error: { message: string; type: string; code: string }): void {
    this.write({ error: { ...error, param: null } });
    this.response.end();
  }

  private envelope() {
    return { id: this.meta.id, object: "chat.completion.chunk", created: this.created, model: this.meta.model };
  }

  private chunk(index: number, delta: Record<string, unknown>, logprobs: unknown, finishReason: string | null = null, extra: Record<string, unknown> = {}) {
    return { ...this.envelope(), choices: [{ index, delta, logprobs, finish_reason: finishReason, ...extra }] };
  }

  private write(chunk: unknown): void {
    if (!this.headersSent) {
      this.response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
      this.headersSent = true;
    }
    this.response.write(`data: ${JSON.stringify(chunk)}\n\n`);
  }
}
