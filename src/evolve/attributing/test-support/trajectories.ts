// Small hand-made trajectories and a scripted LLM for the attribution tests.
import { Trajectory, type Segment } from "../../../agent/index.js";
import type { ChatCompletion, ChatRequest, LlmProvider } from "../../../llm/index.js";

export interface TrajectorySketch {
  id: string;
  groupKey?: string;
  reward: number;
  success?: boolean;
  /** Per step: the tool it calls and what the tool answers. */
  steps: { call: string; answer: string }[];
  /** Per step: how many tokens the policy sampled, and which of them are masked out (indices). */
  sampledTokens?: number[];
  maskedTokens?: number[][];
  task?: string;
}

/** A trajectory with a prompt segment, then per step a policy segment and an environment segment. */
export function sketchTrajectory(sketch: TrajectorySketch): Trajectory {
  const task = sketch.task ?? "Book a flight from Paris to Rome.";
  const messages: unknown[] = [{ role: "system", content: "You are a helpful agent." }, { role: "user", content: task }];
  const steps: unknown[] = [];
  const segments: Segment[] = [{ source: "prompt", tokens: [1, 2, 3], lossMask: [0, 0, 0] }];
  let token = 100;
  sketch.steps.forEach((step, index) => {
    const action = {
      role: "assistant",
      content: "",
      tool_calls: [{ id: `c${index}`, type: "function", function: { name: step.call, arguments: "{}" } }],
    };
    const observation = { role: "tool", content: step.answer, tool_call_id: `c${index}`, name: step.call };
    messages.push(action, observation);
    steps.push({ index, action, observations: [observation] });
    const sampled = sketch.sampledTokens?.[index] ?? 2;
    const masked = new Set(sketch.maskedTokens?.[index] ?? []);
    const tokens = Array.from({ length: sampled }, () => token++);
    segments.push({
      source: "policy",
      step: index,
      tokens,
      logprobs: tokens.map(() => -0.5),
      lossMask: tokens.map((_, i) => (masked.has(i) ? 0 : 1)),
    });
    segments.push({ source: "environment", tokens: [7, 8], lossMask: [0, 0] });
  });
  return Trajectory.parse({
    id: sketch.id,
    taskId: "task-1",
    envType: "test",
    groupKey: sketch.groupKey ?? "g",
    sampleIndex: 0,
    messages,
    steps,
    segments,
    reward: sketch.reward,
    success: sketch.success ?? sketch.reward > 0.5,
    termination: "done",
  });
}

/** A scripted LLM: answers from a queue (text, or an Error to throw), recording every request. */
export class ScriptedProvider implements LlmProvider {
  readonly id: string;
  readonly requests: ChatRequest[] = [];
  inFlight = 0;
  maxInFlight = 0;

  constructor(
    private readonly answers: (string | Error | ((request: ChatRequest) => string))[],
    options: { id?: string; delayMs?: number } = {},
  ) {
    this.id = options.id ?? "scripted:judge";
    this.delayMs = options.delayMs ?? 0;
  }

  private readonly delayMs: number;

  async chat(request: ChatRequest): Promise<ChatCompletion> {
    this.requests.push(request);
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
      const answer = this.answers.shift();
      if (answer === undefined) throw new Error("the scripted provider ran out of answers");
      if (answer instanceof Error) throw answer;
      const content = typeof answer === "function" ? answer(request) : answer;
      return { message: { role: "assistant", content }, finishReason: "stop", usage: { promptTokens: 0, completionTokens: 0 } };
    } finally {
      this.inFlight -= 1;
    }
  }
}

/** The judge's JSON answer for the given labels. */
export function verdictJson(labels: ("GOOD" | "BAD")[]): string {
  return JSON.stringify({ steps: labels.map((judgment, step) => ({ step, reason: `step ${step} was ${judgment}`, judgment })) });
}
