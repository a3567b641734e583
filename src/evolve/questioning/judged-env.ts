// Synthetic tasks on an environment that cannot take a task spec itself: a remote env service (AppWorld behind
// AgentEvolver's service) knows only its own task ids and grades only those. Here a synthetic task is one of its
// training tasks' environments with a new request: `create(base task, {query})`, the request sent through create's
// params and put as the user's turn of the initial state; and it is graded by an LLM judge that sees the request, the
// reference solution and what the agent did. The judge's score is 0-100; the undecided band (41-59 by default) is
// not a grade: evaluate throws JUDGE_UNDECIDED, so the rollout is counted apart as errored (left out of the update)
// and verification refuses the candidate as `undecided`; outside it the score is thresholded. Its reason is kept in
// the evaluation's details (stored with the trajectory) and in the candidate's detail.
import { z } from "zod";
import { EvolverError } from "../../core/errors.js";
import type { ChatMessage } from "../../core/messages.js";
import { TaskSpec, type EnvInstance, type Environment, type Evaluation, type ReferenceAction, type StepResult } from "../../env/index.js";
import type { LlmProvider } from "../../llm/index.js";
import { chatStructured } from "../../llm/structured.js";

export const SpecJudgeOptions = z.strictObject({
  /** Score (0-100) at or above which a judged episode is a success. */
  threshold: z.number().int().min(0).max(100).default(60),
  /** Scores from `undecided[0]` to `undecided[1]` (inclusive) grade nothing. */
  undecided: z.tuple([z.number().int().min(0).max(100), z.number().int().min(0).max(100)]).default([41, 59]),
  /** Judge calls per evaluation (an invalid answer is retried). */
  maxAttempts: z.number().int().min(1).default(2),
  maxTokens: z.number().int().positive().default(512),
});
export type SpecJudgeOptions = z.input<typeof SpecJudgeOptions>;

const JudgeScore = z.object({ score: z.number().int().min(0).max(100), reason: z.string().min(1) });
const JUDGE_SCORE_JSON_SCHEMA: Record<string, unknown> = {
  type: "object",
  properties: { reason: { type: "string" }, score: { type: "integer" } },
  required: ["reason", "score"],
  additionalProperties: false,
};

const JUDGE_SYSTEM = [
  "You grade whether an AI agent fulfilled a user's request in a tool environment. You are given the request, a",
  "reference solution (one correct way to fulfil it; other ways can be correct too) and everything the agent did with",
  "what came back. Score 0-100: 100 fully done, 0 not at all; use 41-59 only when you cannot tell. Give the reason",
  "first, in one or two sentences, then the score. Answer with JSON only.",
].join(" ");

function describeReference(solution: ReferenceAction[][]): string {
  return solution
    .flat()
    .map((action, i) => `${i + 1}. ${"name" in action ? `${action.name}(${JSON.stringify(action.arguments)})` : `reply: ${action.text}`}`)
    .join("\n");
}

function describeEpisode(steps: { action: ChatMessage; observations: ChatMessage[] }[], maxChars: number): string {
  const lines = steps.flatMap(({ action, observations }, i) => {
    const calls = (action.tool_calls ?? []).map((c) => `${c.function.name}(${c.function.arguments})`);
    const did = [action.content.trim(), ...calls].filter(Boolean).join(" | ") || "(nothing)";
    return [`step ${i + 1}: ${did}`, ...observations.map((o) => `  → ${o.content.slice(0, 400)}`)];
  });
  const text = lines.join("\n") || "(the agent did nothing)";
  return text.length > maxChars ? `${text.slice(0, maxChars)}\n…` : text;
}

export function specJudgeMessages(spec: TaskSpec, steps: { action: ChatMessage; observations: ChatMessage[] }[]): ChatMessage[] {
  return [
    { role: "system", content: JUDGE_SYSTEM },
    {
      role: "user",
      content: `REQUEST:\n${spec.turns.join("\n")}\n\nREFERENCE SOLUTION:\n${describeReference(spec.solution)}\n\nWHAT THE AGENT DID:\n${describeEpisode(steps, 8000)}`,
    },
  ];
}

/**
 * `env` with synthetic tasks by base task and judge. A spec's `setup.task_id` names the training task whose
 * environment it runs in (explorationSetup gives one per exploration); its single turn is the request. Listed tasks
 * pass through untouched and keep the environment's own grading.
 */
export function judgedEnvironment(env: Environment, judge: LlmProvider, options: SpecJudgeOptions = {}): Environment {
  const parsed = SpecJudgeOptions.safeParse(options);
  if (!parsed.success) throw new EvolverError("QUESTIONING_BAD_OPTIONS", `spec judge options: ${z.prettifyError(parsed.error)}`);
  const config = parsed.data;
  let trainIds: Promise<string[]> | undefined;
  const wrapped: Environment = {
    name: env.name,
    actionFormat: env.actionFormat,
    listTasks: (split) => env.listTasks(split),
    profile: () => env.profile(),
    ...(env.capabilities ? { capabilities: () => env.capabilities!() } : {}),
    ...(env.close ? { close: () => env.close!() } : {}),
    /** A training task's environment, drawn by seed: what an exploration of any entity starts from. */
    async explorationSetup(_entity, seed) {
      trainIds ??= env.listTasks("train");
      const ids = await trainIds;
      if (ids.length === 0) throw new EvolverError("QUESTIONING_UNSUPPORTED", `${env.name} lists no training task to explore from`);
      return { task_id: ids[Math.abs(Math.trunc(seed)) % ids.length] };
    },
    async create(taskId, params = {}) {
      if (params.task === undefined) return env.create(taskId, params);
      const spec = TaskSpec.safeParse(params.task);
      if (!spec.success) throw new EvolverError("ENV_BAD_PARAMS", `task spec of ${taskId}: ${z.prettifyError(spec.error)}`);
      const base = spec.data.setup.task_id;
      if (typeof base !== "string" || base === "") {
        throw new EvolverError("ENV_BAD_PARAMS", `task spec of ${taskId}: setup.task_id must name the ${env.name} task whose environment it runs in`);
      }
      if (spec.data.turns.length !== 1) {
        throw new EvolverError("ENV_BAD_PARAMS", `task spec of ${taskId}: ${env.name} takes one request per synthetic task, got ${spec.data.turns.length} turns`);
      }
      const { task: _task, ...rest } = params;
      const query = spec.data.turns[0];
      const inner = await env.create(base, { ...rest, query });
      return new JudgedInstance(taskId, inner, spec.data, judge, config);
    },
  };
  return wrapped;
}

class JudgedInstance implements EnvInstance {
  readonly initial;
  private readonly steps: { action: ChatMessage; observations: ChatMessage[] }[] = [];

  constructor(
    readonly taskId: string,
    private readonly inner: EnvInstance,
    private readonly spec: TaskSpec,
    private readonly judge: LlmProvider,
    private readonly config: z.infer<typeof SpecJudgeOptions>,
  ) {
    // The request replaces the base task's: whether or not the service read params.query, the policy sees this one.
    const messages = [...inner.initial.messages];
    const last = messages.map((m) => m.role).lastIndexOf("user");
    if (last >= 0) messages[last] = { ...messages[last], content: spec.turns[0] };
    else messages.push({ role: "user", content: spec.turns[0] });
    this.initial = { ...inner.initial, messages, info: { ...inner.initial.info, base_task: spec.setup.task_id } };
  }

  async step(action: ChatMessage): Promise<StepResult> {
    const result = await this.inner.step(action);
    this.steps.push({ action, observations: result.observations });
    return result;
  }

  async evaluate(): Promise<Evaluation> {
    // An exploration (a spec with no reference solution) has nothing to be graded against: no judge call.
    if (this.spec.solution.length === 0) return { score: 0, success: false, details: { judge: "not judged: no reference solution" } };
    const answer = await chatStructured({
      provider: this.judge,
      messages: specJudgeMessages(this.spec, this.steps),
      schema: JudgeScore,
      jsonSchema: { name: "task_grade", schema: JUDGE_SCORE_JSON_SCHEMA },
      maxAttempts: this.config.maxAttempts,
      what: `the judge's grade of ${this.taskId}`,
      temperature: 0,
      maxTokens: this.config.maxTokens,
    });
    if (!answer.ok) {
      throw new EvolverError("JUDGE_FAILED", `no grade for ${this.taskId} in ${answer.attempts} judge call(s): ${answer.error.message}`, {
        details: { invalid: answer.invalid, failedCalls: answer.failedCalls },
      });
    }
    const { score, reason } = answer.value;
    const [low, high] = this.config.undecided;
    if (score >= low && score <= high) {
      throw new EvolverError("JUDGE_UNDECIDED", `the judge could not decide on ${this.taskId} (score ${score}, undecided band ${low}-${high}): ${reason}`, {
        details: { score, reason, judge: this.judge.id },
      });
    }
    return { score: score / 100, success: score >= this.config.threshold, details: { judge: { model: this.judge.id, score, reason } } };
  }

  release(): Promise<void> {
    return this.inner.release();
  }
}
