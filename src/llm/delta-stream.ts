// Streaming and top logprobs for EmbeddedModel.generate.
import type { Token } from "node-llama-cpp";
import type { CompletionDelta, TokenLogprob } from "./types.js";

/** The `count` most likely tokens of a sampling distribution (node-llama-cpp's map is sorted, most likely first). */
export function mostLikely(probabilities: Map<Token, number> | undefined, count: number): TokenLogprob[] {
  const top: TokenLogprob[] = [];
  for (const [id, probability] of probabilities ?? []) {
    if (top.length >= count || probability <= 0) break;
    top.push({ id, logprob: Math.log(probability) });
  }
  return top;
}

/**
 * Turns a growing completion into deltas whose text is final: text that ends in half a UTF-8 character (U+FFFD so
 * far) or in the beginning of a stop string is held back until the next token settles it.
 */
export class DeltaStream {
  private sentText = 0;
  private sentTokens = 0;

  constructor(
    private readonly onDelta: (delta: CompletionDelta) => void,
    private readonly stopStrings: string[],
    private readonly tokens: number[],
    private readonly logprobs: number[] | undefined,
    private readonly topLogprobs: TokenLogprob[][] | undefined,
  ) {}

  progress(text: string): void {
    let end = text.length;
    while (end > this.sentText && text[end - 1] === "\uFFFD") end--;
    let held = 0;
    for (const stop of this.stopStrings) {
      for (let length = Math.min(stop.length - 1, end - this.sentText); length > held; length--) {
        if (text.endsWith(stop.slice(0, length), end)) {
          held = length;
          break;
        }
      }
    }
    this.send(text.slice(this.sentText, end - held));
  }

  finish(text: string): void {
    this.send(text.slice(this.sentText));
  }

  private send(text: string): void {
    const from = this.sentTokens;
    this.sentTokens = this.tokens.length;
    this.sentText += text.length;
    if (text === "" && from === this.sentTokens) return;
    this.onDelta({
      text,
      tokenIds: this.tokens.slice(from),
      ...(this.logprobs ? { logprobs: this.logprobs.slice(from) } : {}),
      ...(this.topLogprobs ? { topLogprobs: this.topLogprobs.slice(from) } : {}),
    });
  }
}
