// Training-free evolution (trainer.kind none): a model that cannot be fine-tuned (any OpenAI-compatible endpoint or
// the embedded model) evolves only its experience library. Each iteration rolls out groups of training tasks with
// the library (η of each group guided), and where a group's rollouts ended differently an LLM compares the better
// with the worse ones (a semantic advantage) and edits the pool: add, modify, delete. Held-out success is measured
// before the first iteration and every eval_every iterations after, stored like any run's. Nothing is trained, so
// an iteration is done once its pool edits are in; a resumed run goes on from the first iteration not done.
import { createPolicyModel, rolloutError, type LoadedPolicyModel } from "../agent/index.js";
import { deriveSeed, sampleSeeded } from "../core/random.js";
import { EvolverError } from "../core/errors.js";
import type { Environment } from "../env/index.js";
import type { RunStore } from "../store/index.js";
import type { EvolveConfig } from "./config.js";
import { evaluationsSoFar, recordedEvaluation, type EvaluationPoint } from "./held-out.js";
import { openNavigation } from "./navigating-stage.js";
import { rolloutStage } from "./rollout-stage.js";

export async function trainingFreeLoop(options: {
  store: RunStore;
  runId: string;
  config: EvolveConfig;
  env: Environment;
  trainPool: string[];
  evalPool: string[];
  signal?: AbortSignal;
  log: (line: string) => void;
}): Promise<{ runId: string; iterations: number; evaluations: EvaluationPoint[] }> {
  const { store, runId: id, config, env, log, signal } = options;
  const opened: LoadedPolicyModel[] = [];
  try {
    const policy = await createPolicyModel(config.policy.base_model, { baseUrl: config.policy.base_url, mode: "chat" });
    opened.push(policy);
    // The semantic advantage is the policy itself unless navigating.extractor_model names another model.
    const critic = config.navigating.extractor_model
      ? await createPolicyModel(config.navigating.extractor_model, { baseUrl: config.navigating.extractor_base_url, mode: "chat" })
      : policy;
    if (critic !== policy) opened.push(critic);
    if (policy.model.kind !== "chat" || critic.model.kind !== "chat") throw new EvolverError("CONFIG_INVALID", "training-free runs need chat models");
    const navigation = (await openNavigation({ config, runId: id, semantic: critic.model.provider, log }))!;
    try {
      const model = policy.model;
      const evaluations = evaluationsSoFar(store, id);
      const evaluate = async (iteration: number) => {
        if (config.schedule.eval_every === 0 || options.evalPool.length === 0 || evaluations.some((e) => e.iteration === iteration)) return;
        await recordedEvaluation({ store, runId: id, iteration, env, config, model, contextTokens: policy.contextTokens, experience: navigation.evalHook(), evaluations, signal, log });
      };
      const first = store.lastCompletedIteration(id) + 1;
      if (first === 0) await evaluate(-1);
      for (let iteration = first; iteration < config.schedule.iterations; iteration++) {
        if (signal?.aborted) throw new EvolverError("RUN_ABORTED", "stopped");
        const started = performance.now();
        store.setIterationPhase(id, iteration, "rollout");
        const tasks = sampleSeeded(options.trainPool, config.rollout.tasks_per_iteration, deriveSeed(config.run.seed, "tasks", iteration)).map((taskId) => ({ taskId }));
        const rollouts = await rolloutStage({ store, runId: id, iteration, env, config, model, contextTokens: policy.contextTokens, tasks, experience: navigation.trainHook(iteration), signal, log });
        if (rollouts.stats.total > 0 && rollouts.stats.errored === rollouts.stats.total) {
          throw new EvolverError("ROLLOUTS_ALL_ERRORED", `every train rollout of iteration ${iteration} errored (${rollouts.stats.total}); the first: ${rollouts.stats.firstError}`);
        }
        const trajectories = rollouts.trajectories.filter((t) => rolloutError(t) === undefined);
        store.setIterationPhase(id, iteration, "navigate");
        const metrics = await navigation.learn(iteration, trajectories, signal);
        metrics["train/reward"] = mean(trajectories.map((t) => t.reward));
        metrics["train/success"] = mean(trajectories.map((t) => (t.success ? 1 : 0)));
        metrics["train/rollouts"] = rollouts.stats.total;
        metrics["train/errored"] = rollouts.stats.errored;
        metrics["train/seconds"] = (performance.now() - started) / 1000;
        store.db.transaction(() => {
          store.saveMetrics(id, iteration, metrics);
          store.setIterationPhase(id, iteration, "eval");
        })();
        // the iteration's line before its evaluation's, as in runEvolve
        log(
          `iteration ${iteration + 1}/${config.schedule.iterations}  success ${metrics["train/success"].toFixed(3)}  ` +
            `pool ${metrics["navigating/pool_size"]} (+${metrics["navigating/added"] ?? 0} ~${metrics["navigating/modified"] ?? 0} -${metrics["navigating/deleted"] ?? 0}, ` +
            `${metrics["navigating/compared"] ?? 0} groups compared, ${metrics["navigating/invalid"]} invalid)`,
        );
        const last = iteration === config.schedule.iterations - 1;
        if (config.schedule.eval_every > 0 && ((iteration + 1) % config.schedule.eval_every === 0 || last)) await evaluate(iteration);
        store.setIterationPhase(id, iteration, "done");
      }
      const reason = nothingLearned(store, id);
      if (reason) log(reason);
      return { runId: id, iterations: config.schedule.iterations, evaluations };
    } finally {
      await navigation.close();
    }
  } finally {
    for (const model of opened.reverse()) await model.close().catch(() => undefined);
  }
}

function mean(values: number[]): number {
  return values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;
}

/**
 * Why the pool got no edit in this run, from its metrics (undefined when it got some): a run that learned nothing says
 * so instead of showing an unexplained "0 -> 0".
 */
export function nothingLearned(store: RunStore, runId: string): string | undefined {
  const total = (name: string) => store.listMetrics(runId).filter((m) => m.name === `navigating/${name}`).reduce((sum, m) => sum + m.value, 0);
  if (total("added") + total("modified") + total("deleted") > 0) return undefined;
  const groups = total("groups");
  const uniform = total("uniform");
  const compared = total("compared");
  const invalid = total("invalid");
  const parts = [
    `${uniform} had rollouts that all scored the same, so no better and worse attempt to compare (${total("uniform_failed")} of them all failed)`,
    `${compared} were compared and the critic proposed no usable edit${invalid > 0 ? ` (${invalid} of its answers did not fit the schema or failed)` : ""}`,
  ];
  return `nothing was learned: the experience pool got no edit in this run. Of its ${groups} training groups, ${parts.join("; ")}.`;
}
