// One episode: env.create(task) → [prompt from the context strategy → model → parse calls → env.step] until the
// environment is done, the step budget or the context is spent, or a model call times out → env.evaluate → an
// exact Trajectory. Model and environment failures end the episode and are recorded in it (termination "error" or
// "timeout"); only a task that cannot be created throws.
import { randomUUID } from "node:crypto";
import { describeError, EvolverError } from "../core/errors.js";
import type { ChatMessage, ToolSchema } from "../core/messages.js";
import type { Environment, Evaluation } from "../env/index.js";
import { linearContext, type ContextStrategy } from "./context/index.js";
import { createModelDriver, policyModelId, type ModelTurn, type PolicyModel } from "./model-drivers.js";
import { splitThinking } from "./thinking.js";
import { checkToolCalls, createToolFormat, type ToolCallError, type ToolCallFormat } from "./tool-formats.js";
import type { Step, Trajectory } from "./trajectory.js";

/**
 * Self-navigating's hook: text (or a whole message) to put before the task's first user message, or nothing for an
 * unguided rollout. Its tokens are labelled "experience" and are never in the loss.
 */
export type ExperienceHook = (context: {
  taskId: string;
  /** The rollout's group (the same task in the same batch). */
  groupKey: string;
  taskParams?: Record<string, unknown>;
  sampleIndex: number;
  messages: readonly ChatMessage[];
}) => string | ChatMessage | undefined | Promise<string | ChatMessage | undefined>;

export interface RolloutOptions {
  env: Environment;
  taskId: string;
  /** Passed to `env.create`; synthetic tasks carry their definition here. */
  taskParams?: Record<string, unknown>;
  model: PolicyModel;
  /** Default: native. */
  toolFormat?: ToolCallFormat;
  /** Default: linear. */
  context?: ContextStrategy;
  /** Model calls per episode. Default 30. */
  maxSteps?: number;
  /** Default 1024. */
  maxTokensPerCall?: number;
  contextLimitTokens?: number;
  /** Each model call is abandoned after this long (termination "timeout"). Default: no limit. */
  callTimeoutMs?: number;
  temperature?: number;
  topP?: number;
  /** Per-call seeds are seed + step, where the backend takes seeds. */
  seed?: number;
  logprobs?: boolean;
  experience?: ExperienceHook;
  groupKey?: string;
  sampleIndex?: number;
  id?: string;
  signal?: AbortSignal;
  /** Called after every model call (progress: tokens per second). */
  onModelCall?: (call: { promptTokens: number; completionTokens: number; ms: number }) => void;
}

class CallTimeout extends Error {}

export async function runRollout(options: RolloutOptions): Promise<Trajectory> {
  const started = performance.now();
  const format = options.toolFormat ?? createToolFormat("native");
  const context = options.context ?? linearContext();
  const maxSteps = options.maxSteps ?? 30;
  const sampleIndex = options.sampleIndex ?? 0;
  const instance = await options.env.create(options.taskId, options.taskParams);
  const metrics = { steps: 0, modelCalls: 0, promptTokens: 0, completionTokens: 0, parseErrors: 0, modelMs: 0, envMs: 0, durationMs: 0 };
  const steps: Step[] = [];
  let termination: Trajectory["termination"] = "max_steps";
  let error: string | undefined;
  let evaluation: Evaluation = { score: 0, success: false, details: {} };
  const history: ChatMessage[] = structuredClone(instance.initial.messages);
  try {
    // An environment that reads text actions is offered no tools natively: the model writes its calls as text (the
    // services of AgentEvolver list their tools in the prompt themselves and send none).
    const textActions = options.env.actionFormat === "text";
    let tools: ToolSchema[] = instance.initial.tools;
    if ((textActions || !format.nativeTools) && tools.length > 0) addToSystemPrompt(history, format.describeTools(tools));
    const experienceIndex = await injectExperience(history, options, sampleIndex);
    const pinned = history.length;
    const driver = createModelDriver(options.model, format, context, {
      temperature: options.temperature,
      topP: options.topP,
      seed: options.seed,
      maxTokensPerCall: options.maxTokensPerCall ?? 1024,
      contextLimitTokens: options.contextLimitTokens,
      logprobs: options.logprobs,
    });
    const nativeChat = options.model.kind === "chat" && format.nativeTools && !textActions;

    for (let step = 0; step < maxSteps; step++) {
      let turn: ModelTurn;
      const callStarted = performance.now();
      try {
        turn = await withTimeout(options.callTimeoutMs, options.signal, (signal) =>
          driver.call({ history, pinned, tools: textActions ? [] : tools, step, signal, experienceIndex }),
        );
      } catch (cause) {
        // The backend's own timeout and context overflow are the same endings as ours, not infrastructure errors.
        const code = EvolverError.isInstance(cause) ? cause.code : undefined;
        termination = cause instanceof CallTimeout || code === "LLM_TIMEOUT" ? "timeout" : code === "LLM_CONTEXT_OVERFLOW" ? "context_limit" : "error";
        error = cause instanceof CallTimeout ? `model call ${step} timed out after ${options.callTimeoutMs} ms` : `model call ${step} failed: ${describeError(cause)}`;
        break;
      } finally {
        metrics.modelMs += performance.now() - callStarted;
      }
      metrics.modelCalls += 1;
      metrics.promptTokens += turn.promptTokens;
      metrics.completionTokens += turn.completionTokens;
      options.onModelCall?.({ promptTokens: turn.promptTokens, completionTokens: turn.completionTokens, ms: performance.now() - callStarted });

      const { action, errors } = textActions ? { action: textAction(turn), errors: [] } : readAction(turn, format, context, `call_${step}`);
      history.push(action);
      metrics.steps += 1;
      if (errors.length > 0) {
        // A botched call is the model's mistake, not the environment's: it sees why and may try again.
        metrics.parseErrors += errors.length;
        const observations = errorObservations(action, errors, nativeChat);
        history.push(...observations);
        steps.push({ index: step, action, observations });
      } else {
        const envStarted = performance.now();
        try {
          const result = await instance.step(action);
          metrics.envMs += performance.now() - envStarted;
          history.push(...result.observations);
          steps.push({ index: step, action, observations: result.observations, reward: result.reward, ...(result.errors?.length ? { errors: result.errors } : {}) });
          if (result.tools) {
            const known = new Set(tools.map((tool) => tool.function.name));
            const added = result.tools.filter((tool) => !known.has(tool.function.name));
            // Chat APIs take the new tool list with the next request; a prompt already sent (token rollouts,
            // raw formats) learns of new tools from a message.
            if (added.length > 0 && !nativeChat) history.push({ role: "system", content: `New tools are available.\n\n${format.describeTools(added)}` });
            tools = result.tools;
          }
          if (result.done) {
            termination = "done";
            break;
          }
        } catch (cause) {
          steps.push({ index: step, action, observations: [] });
          termination = "error";
          error = `environment step ${step} failed: ${describeError(cause)}`;
          break;
        }
      }
      if (options.model.kind === "chat" && options.contextLimitTokens !== undefined && turn.promptTokens + turn.completionTokens >= options.contextLimitTokens) {
        termination = "context_limit";
        break;
      }
    }

    try {
      evaluation = await instance.evaluate();
    } catch (cause) {
      termination = "error";
      error = [error, `evaluation failed: ${describeError(cause)}`].filter(Boolean).join("; ");
    }
    metrics.durationMs = performance.now() - started;
    return {
      id: options.id ?? randomUUID(),
      taskId: options.taskId,
      envType: options.env.name,
      groupKey: options.groupKey ?? options.taskId,
      sampleIndex,
      messages: history,
      steps,
      segments: driver.segments(),
      reward: evaluation.score,
      success: evaluation.success,
      evaluation: evaluation.details,
      termination,
      error,
      experienceGuided: experienceIndex !== undefined,
      metrics,
      taskParams: options.taskParams,
      info: instance.initial.info,
      model: policyModelId(options.model),
      toolFormat: format.name,
      contextStrategy: context.name,
    };
  } finally {
    await instance.release().catch(() => undefined);
  }
}

/** The assistant message of a model turn, and any calls in it that could not be parsed. */
function readAction(turn: ModelTurn, format: ToolCallFormat, context: ContextStrategy, idPrefix: string): { action: ChatMessage; errors: ToolCallError[] } {
  const thinking = turn.reasoning !== undefined ? { reasoning: turn.reasoning, content: turn.text.trim() } : splitThinking(turn.text);
  const { answer, markup } = context.splitReply?.(thinking.content) ?? { answer: thinking.content, markup: "" };
  const parsed = turn.nativeCalls
    ? { content: answer, toolCalls: turn.nativeCalls, errors: checkToolCalls(turn.nativeCalls) }
    : format.parse(answer, idPrefix);
  const action: ChatMessage = { role: "assistant", content: [markup, parsed.content].filter(Boolean).join("\n") };
  if (parsed.toolCalls.length > 0) action.tool_calls = parsed.toolCalls;
  if (thinking.reasoning) action.reasoning_content = thinking.reasoning;
  return { action, errors: parsed.errors };
}

/**
 * The action of an environment that reads text: the model's text exactly as sampled (thinking and tool-call blocks
 * included), so what the environment reads is what the token record trains on.
 */
function textAction(turn: ModelTurn): ChatMessage {
  return { role: "assistant", content: turn.text };
}

/**
 * The whole action is refused when any call in it is malformed, so the environment never runs half of what the
 * model meant. Every call gets an answer (chat APIs insist each tool call id is answered).
 */
function errorObservations(action: ChatMessage, errors: ToolCallError[], nativeChat: boolean): ChatMessage[] {
  const observations: ChatMessage[] = [];
  for (const call of action.tool_calls ?? []) {
    const own = errors.find((e) => e.callId === call.id);
    const content = own ? `Error: could not parse tool call: ${own.message}` : "Error: not executed, because another call in the same message could not be parsed.";
    observations.push({ role: "tool", tool_call_id: call.id, name: call.function.name, content });
  }
  for (const e of errors.filter((e) => e.callId === undefined)) {
    observations.push({ role: nativeChat ? "user" : "tool", content: `Error: could not parse tool call: ${e.message}` });
  }
  return observations;
}

function addToSystemPrompt(history: ChatMessage[], text: string): void {
  if (history[0]?.role === "system") history[0] = { ...history[0], content: history[0].content ? `${history[0].content}\n\n${text}` : text };
  else history.unshift({ role: "system", content: text });
}

async function injectExperience(history: ChatMessage[], options: RolloutOptions, sampleIndex: number): Promise<number | undefined> {
  if (!options.experience) return undefined;
  const experience = await options.experience({ taskId: options.taskId, groupKey: options.groupKey ?? options.taskId, taskParams: options.taskParams, sampleIndex, messages: history });
  if (experience === undefined || experience === "") return undefined;
  const message: ChatMessage = typeof experience === "string" ? { role: "user", content: experience } : experience;
  const firstUser = history.findIndex((m) => m.role === "user");
  const index = firstUser >= 0 ? firstUser : history.length;
  history.splice(index, 0, message);
  return index;
}

/** Runs `call` with a signal that aborts after `ms` (or with `outer`); rejects with CallTimeout even if ignored. */
async function withTimeout<T>(ms: number | undefined, outer: AbortSignal | undefined, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
  outer?.throwIfAborted();
  const controller = new AbortController();
  const onAbort = () => controller.abort(outer?.reason);
  outer?.addEventListener("abort", onAbort, { once: true });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    if (ms === undefined) return;
    timer = setTimeout(() => {
      const reason = new CallTimeout();
      controller.abort(reason);
      reject(reason);
    }, ms);
  });
  const aborted = new Promise<never>((_, reject) => controller.signal.addEventListener("abort", () => reject(controller.signal.reason), { once: true }));
  try {
    return await Promise.race([call(controller.signal), timeout, aborted]);
  } finally {
    clearTimeout(timer);
    outer?.removeEventListener("abort", onAbort);
  }
}
