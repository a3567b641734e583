// Exploration: rollouts driven by curiosity instead of a task. Each explores one entity of the environment's profile
// in a sandbox the environment sets up (Environment.explorationSetup); the prompt is the profile plus a summary of
// what was already explored, sampled at a high temperature under a step budget. Each episode is kept with what it did
// and what it saw, and novelty counts the operation/outcome pairs it was the first to reach.
import type { ChatMessage } from "../../core/messages.js";
import { deriveSeed } from "../../core/random.js";
import type { EnvProfile, Environment, TaskSpec } from "../../env/index.js";
import { rolloutError, runRollouts, type PolicyModel, type RolloutBatchOptions, type Step } from "../../agent/index.js";
import type { Exploration } from "./schema.js";
import { questioningUnsupportedError } from "./errors.js";

export interface ExploreOptions {
  env: Environment;
  profile: EnvProfile;
  model: PolicyModel;
  /** Explorations of each entity. */
  perEntity: number;
  /** The entities to explore; default every entity of the profile. */
  entities?: string[];
  maxSteps: number;
  temperature: number;
  maxTokensPerCall?: number;
  toolFormat?: RolloutBatchOptions["toolFormat"];
  concurrency?: number;
  seed: number;
  /** Prefixes exploration ids, so two rounds never share one. */
  idPrefix: string;
  signal?: AbortSignal;
  onExploration?: (exploration: Exploration) => void;
}

export interface ExploreResult {
  explorations: Exploration[];
  /** Distinct operation/outcome pairs reached. */
  novelty: number;
  /** Profile operations run at least once without error, of all the profile's operations. */
  coverage: { covered: string[]; operations: number; fraction: number };
}

/** What one action did, as operation/outcome pairs: each call by name and whether it erred (and how); a plain reply
 * is the entity's operation where it has only one (key-chain's "open"), with the step's reward as its outcome. */
export function operationOutcomes(step: Pick<Step, "action" | "observations" | "reward" | "errors">, entityOperations: string[]): { operation: string; outcome: string }[] {
  const calls = step.action.tool_calls ?? [];
  if (calls.length === 0) {
    const operation = entityOperations.length === 1 ? entityOperations[0] : "reply";
    return [{ operation, outcome: step.reward === undefined ? "ok" : step.reward > 0 ? "ok" : "wrong" }];
  }
  return calls.map((call) => {
    const error = step.errors?.find((e) => e.startsWith(`${call.function.name}:`));
    return { operation: call.function.name, outcome: error ? `error: ${error.slice(call.function.name.length + 1).trim().slice(0, 80)}` : "ok" };
  });
}

export function curiosityPrompt(profile: EnvProfile, entity: EnvProfile["entities"][number], explored: Map<string, { ok: number; errors: number }>, maxSteps: number): string {
  const operations = entity.operations.map((op) => `- ${op.name}: ${op.description.split("\n")[0].slice(0, 160)}`).join("\n");
  const summary = [...explored].map(([op, n]) => `${op} (${n.ok} ok, ${n.errors} failed)`).join(", ");
  return [
    "You are exploring an environment to find out what it can do. There is no task to finish.",
    `Environment: ${profile.description}`,
    `Explore ${entity.name}${entity.description ? `: ${entity.description}` : ""}.`,
    operations ? `Its operations:\n${operations}` : "",
    `Explored so far: ${summary || "nothing yet"}.`,
    `Try operations that were not explored yet, with varied arguments, and read what each returns. At most ${maxSteps} steps; when you have seen enough, reply without a call.`,
  ]
    .filter((line) => line !== "")
    .join("\n");
}

export async function explore(options: ExploreOptions): Promise<ExploreResult> {
  const { env, profile } = options;
  if (!env.explorationSetup) {
    throw questioningUnsupportedError(`${env.name} cannot set up an exploration (it has no explorationSetup); self-questioning needs it`);
  }
  const entities = options.entities ?? profile.entities.map((e) => e.name);
  const explored = new Map<string, { ok: number; errors: number }>();
  const pairs = new Set<string>();
  const explorations: Exploration[] = [];
  for (const name of entities) {
    const entity = profile.entities.find((e) => e.name === name);
    if (!entity) throw questioningUnsupportedError(`the profile of ${env.name} has no entity '${name}'; it has ${profile.entities.map((e) => e.name).join(", ")}`);
    const entityOperations = entity.operations.map((op) => op.name);
    const prompt = curiosityPrompt(profile, entity, explored, options.maxSteps);
    const tasks = [];
    for (let k = 0; k < options.perEntity; k++) {
      const setup = await env.explorationSetup(entity.name, deriveSeed(options.seed, "explore", entity.name, k));
      const task: TaskSpec = { turns: [prompt], setup, solution: [] };
      tasks.push({ taskId: `${options.idPrefix}/${entity.name}/${k}`, params: { task } });
    }
    const batch = await runRollouts({
      env,
      model: options.model,
      toolFormat: options.toolFormat,
      tasks,
      samplesPerTask: 1,
      batchId: `explore/${options.idPrefix}/${entity.name}`,
      seed: deriveSeed(options.seed, "explore-sampling", entity.name),
      temperature: options.temperature,
      maxSteps: options.maxSteps,
      maxTokensPerCall: options.maxTokensPerCall,
      concurrency: options.concurrency,
      signal: options.signal,
    });
    for (const trajectory of batch.trajectories) {
      let novel = 0;
      for (const step of trajectory.steps) {
        for (const { operation, outcome } of operationOutcomes(step, entityOperations)) {
          const counts = explored.get(operation) ?? { ok: 0, errors: 0 };
          if (outcome === "ok") counts.ok++;
          else counts.errors++;
          explored.set(operation, counts);
          const key = `${operation}|${outcome}`;
          if (!pairs.has(key)) (pairs.add(key), novel++);
        }
      }
      const exploration: Exploration = {
        id: trajectory.taskId,
        env: env.name,
        entity: entity.name,
        setup: ((trajectory.taskParams?.task as TaskSpec | undefined)?.setup ?? {}) as Record<string, unknown>,
        steps: trajectory.steps.map((step) => ({
          action: step.action as unknown as Record<string, unknown>,
          observations: step.observations as unknown as Record<string, unknown>[],
          ...(step.reward === undefined ? {} : { reward: step.reward }),
          ...(step.errors ? { errors: step.errors } : {}),
        })),
        novel,
        ...(rolloutError(trajectory) === undefined ? {} : { error: rolloutError(trajectory) }),
      };
      explorations.push(exploration);
      options.onExploration?.(exploration);
    }
    for (const crash of batch.crashes) {
      const exploration: Exploration = { id: crash.taskId, env: env.name, entity: entity.name, setup: {}, steps: [], novel: 0, error: crash.error };
      explorations.push(exploration);
      options.onExploration?.(exploration);
    }
  }
  const allOperations = profile.entities.flatMap((e) => e.operations.map((op) => op.name));
  const covered = [...new Set([...pairs].filter((p) => p.endsWith("|ok")).map((p) => p.slice(0, -3)))].filter((op) => allOperations.includes(op));
  return {
    explorations,
    novelty: pairs.size,
    coverage: { covered, operations: allOperations.length, fraction: allOperations.length === 0 ? 0 : covered.length / allOperations.length },
  };
}

/** An exploration's steps as messages again (what hindsight and the LLM synthesizer read). */
export function exploredSteps(exploration: Exploration): { action: ChatMessage; observations: ChatMessage[]; reward?: number; errors?: string[] }[] {
  return exploration.steps.map((step) => ({
    action: step.action as unknown as ChatMessage,
    observations: step.observations as unknown as ChatMessage[],
    reward: step.reward,
    errors: step.errors,
  }));
}
