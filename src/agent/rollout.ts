// One episode: env.create(task) → [prompt from the context strategy → model → parse calls → env.step] until the
// environment is done, the step budget or the context is spent, or a model call times out → env.evaluate → an
// exact Trajectory. Model and environment failures end the episode and are recorded in it (termination "error" or
// "timeout"); only a task that cannot be created, or a context strategy the environment cannot take, throws.
// A strategy that selects tools (tool-retrieval) picks each call's tools and answers its meta-tool calls here.
import { randomUUID } from "node:crypto";
import { describeError, EvolverError } from "../core/errors.js";
import type { ChatMessage, ToolCall, ToolSchema } from "../core/messages.js";
import { environmentCapabilities, type Environment, type Evaluation, type StepResult } from "../env/index.js";
import { linearContext, type ContextStrategy, type ToolSelection } from "./context/index.js";
import { createModelDriver, policyModelId, type ModelTurn, type PolicyModel } from "./model-drivers.js";
import { splitThinking } from "./thinking.js";
import { checkToolCalls, createToolFormat, nativeFormatFor, type ToolCallError, type ToolCallFormat } from "./tool-formats.js";
import type { Step, Trajectory } from "./trajectory.js";

/**
 * Self-navigating's hook, asked before every model call: text (or a whole message) to put in front of what the agent
 * was just told (at step 0 the task's first user message; later, the observations of the last step), or nothing.
 * A hook that guides only the episode's start answers nothing after step 0. Its tokens are labelled "experience"
 * and are never in the loss.
 */
export type ExperienceHook = (context: {
  taskId: string;
  /** The rollout's group (the same task in the same batch). */
  groupKey: string;
  taskParams?: Record<string, unknown>;
  sampleIndex: number;
  /** The model call about to be made (0: the episode's first). */
  step: number;
  /** The history so far, with any experience already injected. */
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
  let format = options.toolFormat ?? createToolFormat("native");
  // Token rollouts read calls in the syntax the model's own template teaches it.
  if (format.name === "native" && options.model.kind === "tokens") format = nativeFormatFor(options.model.template.toolCallSyntax);
  const context = options.context ?? linearContext();
  const maxSteps = options.maxSteps ?? 30;
  const sampleIndex = options.sampleIndex ?? 0;
  const selection = context.toolSelection;
  checkContextFits(context, format, options.env);
  const instance = await options.env.create(options.taskId, options.taskParams);
  const metrics: Record<string, number> = { steps: 0, modelCalls: 0, promptTokens: 0, completionTokens: 0, parseErrors: 0, modelMs: 0, envMs: 0, durationMs: 0 };
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
    // Where injected experience sits in the history (ascending), so token rollouts can label its tokens.
    const experienceIndices: number[] = [];
    const first = await injectExperience(history, options, sampleIndex, 0);
    if (first !== undefined) experienceIndices.push(first);
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
    // Asked only when a message's calls do not decode (rare), so a remote environment is not asked on every rollout.
    let decodesCalls: Promise<boolean> | undefined;
    const environmentDecodesCalls = () => (decodesCalls ??= environmentCapabilities(options.env).then((c) => c.decodesCalls, () => false));

    for (let step = 0; step < maxSteps; step++) {
      if (step > 0) {
        const index = await injectExperience(history, options, sampleIndex, step);
        // A strategy that rewrites the history may move or drop a message past the pinned start, so a later turn's
        // experience could not be told apart from the prompt (and kept out of the datum).
        if (index !== undefined && !context.appendOnly && options.model.kind === "tokens") {
          throw new EvolverError("AGENT_CONTEXT", `context ${context.name} rewrites the history, so experience can be given only at the episode's start (navigating.retrieval: episode), not at step ${step}`);
        }
        if (index !== undefined) experienceIndices.push(index);
      }
      let offered = tools;
      if (selection) {
        try {
          const picked = await selection.select({ history, pinned, available: tools, signal: options.signal });
          offered = [...picked.tools, ...selection.metaTools];
          metrics.toolIndexMs = (metrics.toolIndexMs ?? 0) + picked.indexMs;
          metrics.toolQueryMs = (metrics.toolQueryMs ?? 0) + picked.queryMs;
          metrics.toolSearchMs = (metrics.toolSearchMs ?? 0) + picked.searchMs;
        } catch (cause) {
          termination = "error";
          error = `tool retrieval before model call ${step} failed: ${describeError(cause)}`;
          break;
        }
      }
      let turn: ModelTurn;
      const callStarted = performance.now();
      try {
        turn = await withTimeout(options.callTimeoutMs, options.signal, (signal) =>
          driver.call({ history, pinned, tools: textActions ? [] : offered, step, signal, experienceIndices }),
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
      const offeredTools = selection ? { offeredTools: offered.map((tool) => tool.function.name) } : {};
      if (errors.length > 0) metrics.parseErrors += errors.length;
      if (errors.length > 0 && !(await environmentDecodesCalls())) {
        // A botched call is the model's mistake, not the environment's: it sees why and may try again.
        const observations = errorObservations(action, errors, nativeChat);
        history.push(...observations);
        steps.push({ index: step, action, observations, ...offeredTools });
      } else {
        const envStarted = performance.now();
        try {
          // A broken call that could not even be named (an unreadable <tool_call> block, call-list text that does
          // not parse) makes the whole message undecodable: such an environment gets the message without calls.
          const undecodable = errors.some((e) => e.callId === undefined);
          const { metaAnswers, envAction } = await answerMetaCalls(selection, undecodable ? { ...action, tool_calls: undefined } : action, tools, options.signal);
          if (selection) metrics.toolSearches = (metrics.toolSearches ?? 0) + metaAnswers.length;
          // Only meta-tool calls: the environment never hears of them (BFCL would take a step without calls as the
          // end of the user's turn).
          const result: StepResult = envAction === undefined ? { observations: [], done: false, info: {} } : await instance.step(envAction);
          metrics.envMs += performance.now() - envStarted;
          const observations = [...metaAnswers, ...result.observations];
          history.push(...observations);
          steps.push({ index: step, action, observations, reward: result.reward, ...offeredTools, ...(result.errors?.length ? { errors: result.errors } : {}) });
          if (result.tools) {
            const known = new Set(tools.map((tool) => tool.function.name));
            const added = result.tools.filter((tool) => !known.has(tool.function.name));
            // Chat APIs take the new tool list with the next request; a prompt already sent (token rollouts,
            // raw formats) learns of new tools from a message. A selecting strategy offers them as it sees fit.
            if (added.length > 0 && !nativeChat && !selection) history.push({ role: "system", content: `New tools are available.\n\n${format.describeTools(added)}` });
            tools = result.tools;
          }
          if (result.done) {
            termination = "done";
            break;
          }
        } catch (cause) {
          steps.push({ index: step, action, observations: [], ...offeredTools });
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
      experienceGuided: experienceIndices.length > 0,
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

/**
 * Throws AGENT_CONTEXT where the strategy cannot work with the format or the environment: one that selects tools
 * offers them natively, so the tools must travel as tools, not as text in the prompt. `evolver validate`, `evolve`
 * and `eval` call it before any rollout.
 */
export function checkContextFits(context: ContextStrategy, format: Pick<ToolCallFormat, "name" | "nativeTools">, env: Pick<Environment, "name" | "actionFormat">): void {
  if (!context.toolSelection) return;
  if (env.actionFormat === "text") {
    throw new EvolverError("AGENT_CONTEXT", `context ${context.name} chooses the tools of each prompt, but ${env.name} reads text actions and lists its tools in its own prompt`);
  }
  if (!format.nativeTools) {
    throw new EvolverError("AGENT_CONTEXT", `context ${context.name} offers tools natively and needs tool format native, not ${format.name}`);
  }
}

/**
 * The strategy's answers to the action's meta-tool calls, and the action to send the environment: the same message
 * without those calls, or undefined when nothing is left for it.
 */
async function answerMetaCalls(
  selection: ToolSelection | undefined,
  action: ChatMessage,
  available: readonly ToolSchema[],
  signal: AbortSignal | undefined,
): Promise<{ metaAnswers: ChatMessage[]; envAction?: ChatMessage }> {
  const metaNames = new Set(selection?.metaTools.map((tool) => tool.function.name));
  const calls = action.tool_calls ?? [];
  const isMeta = (call: ToolCall) => metaNames.has(call.function.name);
  if (!selection || !calls.some(isMeta)) return { metaAnswers: [], envAction: action };
  const metaAnswers = await Promise.all(
    calls.filter(isMeta).map(async (call): Promise<ChatMessage> => ({ role: "tool", tool_call_id: call.id, name: call.function.name, content: await selection.answer(call, available, signal) })),
  );
  const rest = calls.filter((call) => !isMeta(call));
  if (rest.length === 0) return { metaAnswers };
  return { metaAnswers, envAction: { ...action, tool_calls: rest } };
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

/**
 * Asks the hook and puts its experience in front of what the agent was just told: at step 0 before the task's first
 * user message; later right after the last assistant message (before the step's observations), unless those are
 * tool results, which chat formats require to follow their call directly: then after them. Returns its index.
 */
async function injectExperience(history: ChatMessage[], options: RolloutOptions, sampleIndex: number, step: number): Promise<number | undefined> {
  if (!options.experience) return undefined;
  const experience = await options.experience({ taskId: options.taskId, groupKey: options.groupKey ?? options.taskId, taskParams: options.taskParams, sampleIndex, step, messages: history });
  if (experience === undefined || experience === "") return undefined;
  const message: ChatMessage = typeof experience === "string" ? { role: "user", content: experience } : experience;
  let index: number;
  if (step === 0) {
    const firstUser = history.findIndex((m) => m.role === "user");
    index = firstUser >= 0 ? firstUser : history.length;
  } else {
    const afterAction = history.findLastIndex((m) => m.role === "assistant") + 1;
    index = history[afterAction]?.role === "tool" ? history.length : afterAction;
  }
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
