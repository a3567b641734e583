// Builds a trajectory's segments while a rollout runs (see trajectory.ts for the sequence model). Token rollouts
// append exactly what the sampler saw and produced; chat rollouts whose backend returns token ids hand in each
// call's prompt and completion, and a call whose prompt extends the current sequence is merged into it.
import type { Segment, SegmentSource } from "./trajectory.js";

export class TokenRecorder {
  readonly segments: Segment[] = [];
  private sequence = -1;
  private tokens: number[] = [];

  /** The current sequence's tokens so far: what the next linear prompt starts with. */
  get currentTokens(): readonly number[] {
    return this.tokens;
  }

  /** Starts a new sequence with a prompt rendered afresh. */
  startSequence(promptTokens: number[], source: SegmentSource = "prompt"): void {
    this.sequence += 1;
    this.tokens = [];
    this.appendContext(promptTokens, source);
  }

  /** Tokens the model reads but was not sampled (prompt, observations, experience): out of the loss. */
  appendContext(tokens: number[], source: SegmentSource): void {
    if (this.sequence < 0) this.sequence = 0;
    if (tokens.length === 0) return;
    this.segments.push({ source, tokens: [...tokens], lossMask: tokens.map(() => 0 as const), sequence: this.sequence });
    for (const token of tokens) this.tokens.push(token);
  }

  /** Tokens the policy sampled: in the loss, attached to their step. */
  appendSampled(tokens: number[], logprobs: number[] | undefined, step: number): void {
    if (this.sequence < 0) this.sequence = 0;
    const segment: Segment = { source: "policy", tokens: [...tokens], lossMask: tokens.map(() => 1 as const), step, sequence: this.sequence };
    if (logprobs && logprobs.length === tokens.length) segment.logprobs = [...logprobs];
    this.segments.push(segment);
    for (const token of tokens) this.tokens.push(token);
  }

  /**
   * One chat call with known token ids. When its prompt starts with the current sequence (a linear context and a
   * backend that renders consistently) only the new tail is appended; otherwise the call starts its own sequence.
   */
  recordCall(promptTokens: number[], completionTokens: number[], logprobs: number[] | undefined, step: number): void {
    if (this.sequence >= 0 && this.tokens.length > 0 && startsWith(promptTokens, this.tokens)) {
      this.appendContext(promptTokens.slice(this.tokens.length), "environment");
    } else {
      this.startSequence(promptTokens);
    }
    this.appendSampled(completionTokens, logprobs, step);
  }
}

function startsWith(tokens: number[], prefix: readonly number[]): boolean {
  if (prefix.length > tokens.length) return false;
  for (let i = 0; i < prefix.length; i++) if (tokens[i] !== prefix[i]) return false;
  return true;
}
