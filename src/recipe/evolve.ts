// The evolve recipe: one loop that reads top to bottom. Each iteration
//   picks tasks → rolls out groups with the current weights → judges every step (self-attributing) → turns
//   outcomes and verdicts into per-token advantages (GRPO or ADCA-GRPO) → one policy update → a checkpoint,
// and every few iterations evaluates on held-out tasks. Everything is written to the run store as it happens, and
// every phase can be redone from what the store holds, so a run killed at any moment resumes with nothing lost and
// nothing done twice: stored rollouts and verdicts are reused, and an update whose checkpoint was not recorded is
// redone from the previous checkpoint on the same data. Where configured, an SFT warm start on the environment's
// reference solutions comes before the first iteration (sft-stage.ts), recorded and checkpointed the same way.
//
// Self-questioning (questioning-stage.ts) plugs in where tasks are picked: synthesis rounds add verified tasks to the
// run's pool, and each iteration mixes them with the seed tasks. Self-navigating (navigating-stage.ts) sits around
// the rollout stage: training rollouts read the experience pool and then write what their groups teach; held-out
// rollouts only read it.
//
// With schedule.overlap, an iteration's sampling half (questioning refresh, task pick, rollouts) starts as soon as the
// previous iteration's rollouts are in and its pool has learnt from them, with the weights before that iteration's
// update, and runs while that iteration attributes, trains and checkpoints: one update off-policy, as hosted-Tinker's
// asynchronous loops run. The trainer samples from a saved copy of the weights while it trains (trainer/service.py).
import { join, resolve } from "node:path";
import { mkdirSync } from "node:fs";
import { setMaxListeners } from "node:events";
import { EvolverError, describeError } from "../core/errors.js";
import type { Environment } from "../env/index.js";
import type { TokenSampler } from "../llm/index.js";
import { rolloutError } from "../agent/index.js";
import { RunStore, type RunLease } from "../store/index.js";
import { parseConfig, type EvolveConfig } from "./config.js";
import { prepareRun } from "./prepare.js";
import { openPolicy, type Policy } from "./policy.js";
import { rolloutStage } from "./rollout-stage.js";
import { evaluationsSoFar, recordedEvaluation } from "./held-out.js";
import { trainingFreeLoop } from "./training-free.js";
import { attributionStage, openJudge } from "./attribution-stage.js";
import { trainStage } from "./train-stage.js";
import { SFT_DONE, SFT_ITERATION, sftStage, warmStartSequences } from "./sft-stage.js";
import { buildDatum } from "../train/index.js";
import { openJudgedEnvironment, openQuestioning, type Questioning } from "./questioning-stage.js";
import { openNavigation, type Navigation } from "./navigating-stage.js";

export interface EvolveOptions {
  /** A new run's config; ignored when resuming (the stored config is used). */
  config?: EvolveConfig;
  /** Run id to resume. */
  resume?: string;
  /** Overrides config.run.store. */
  storePath?: string;
  log?: (line: string) => void;
  signal?: AbortSignal;
}

export interface EvolveResult {
  runId: string;
  iterations: number;
  /** Held-out results: iteration -1 is the policy before any update (after the SFT warm start, where configured). */
  evaluations: { iteration: number; success: number; score: number }[];
}

export async function runEvolve(options: EvolveOptions): Promise<EvolveResult> {
  const log = options.log ?? ((line: string) => console.log(line));
  const storePath = options.storePath ?? options.config?.run.store ?? ".evolver/runs.db";
  if (!options.resume && !options.config) throw new EvolverError("CONFIG_INVALID", "runEvolve needs a config or a run to resume");
  // A new run's config is checked before anything is written: one that cannot run leaves no store and no run.
  const fresh = options.resume ? undefined : await prepareRun(options.config!);
  let env: Environment | undefined = fresh?.env;
  let store: RunStore;
  try {
    store = new RunStore(storePath, { create: !options.resume });
  } catch (error) {
    await env?.close?.().catch(() => undefined);
    throw error;
  }
  let policy: Policy | undefined;
  let judge: Awaited<ReturnType<typeof openJudge>> | undefined;
  let questioning: Questioning | undefined;
  let specJudge: { close(): Promise<void> } | undefined;
  let navigation: Navigation | undefined;
  let lease: RunLease | undefined;
  let runId: string | undefined;
  // schedule.overlap: the next iteration's sampling half, under way while this iteration trains
  let next: { iteration: number; controller: AbortController; sampled: Promise<Sampled> } | undefined;
  try {
    let config: EvolveConfig;
    if (options.resume) {
      const run = store.getRun(options.resume);
      // Before anything is written: a run that another process is running is refused, and left as it is.
      lease = store.acquireLease(run.id);
      runId = run.id;
      const prepared = await prepareRun(parseConfig(run.config, `the stored config of ${run.id}`));
      ({ config, env } = prepared);
      if (run.status === "done") log(`run ${run.id} is already done`);
      store.setRunStatus(run.id, "running");
      // counted as the progress lines count: after 6 of 100, the next line is "iteration 7/100"
      log(`resuming ${run.id} after ${store.lastCompletedIteration(run.id) + 1} of ${config.schedule.iterations} iterations`);
    } else {
      config = fresh!.config;
      const created = store.createRun(config.run.name, config);
      lease = store.acquireLease(created.id);
      runId = created.id;
      log(`run ${runId} (${config.run.name}) → ${resolve(storePath)}`);
    }
    const id = runId;
    const judged = await openJudgedEnvironment(config, env!);
    specJudge = judged;
    const environment: Environment = judged.env;

    const trainPool = await environment.listTasks(config.env.train_split);
    const evalPool = await environment.listTasks(config.env.eval_split);
    store.addTasks(id, [
      ...trainPool.map((taskId) => ({ taskId, split: config.env.train_split, source: "seed" })),
      ...evalPool.map((taskId) => ({ taskId, split: config.env.eval_split, source: "seed" })),
    ]);

    judge = await openJudge(config);
    questioning = await openQuestioning({ config, env: environment, store, runId: id });
    const runDir = resolve(config.run.output_dir, id);
    mkdirSync(runDir, { recursive: true });
    if (config.trainer.kind === "none") {
      // Training-free: the policy is only prompted, and the experience pool is what evolves (training-free.ts).
      const result = await trainingFreeLoop({ store, runId: id, config, env: environment, trainPool, evalPool, signal: options.signal, log });
      store.setRunStatus(id, "done");
      return result;
    }
    navigation = await openNavigation({ config, runId: id, log });
    policy = await openPolicy(config, join(runDir, "checkpoints"), log);
    const latest = store.latestCheckpoint(id, "training");
    if (latest) {
      await policy.training.loadWeights(latest.path, { optimizer: true });
      log(`loaded checkpoint of iteration ${latest.iteration}: ${latest.path}`);
    }
    const sftPending = config.sft.enabled && store.iterationPhase(id, SFT_ITERATION) !== SFT_DONE;
    const sftOptions = { config, env: environment, training: policy.training, template: policy.template, tasks: trainPool, signal: options.signal, log };
    // Built once; rebuilt the same on resume where the updates replay its drills.
    const warmStart = sftPending || config.sft.replay_drills > 0 ? await warmStartSequences(sftOptions) : undefined;
    const replay = config.sft.replay_drills > 0 && warmStart ? warmStart.sequences.slice(warmStart.referenceCount).map((sequence) => buildDatum(sequence)) : undefined;
    if (sftPending) {
      // Until its weights are saved, an interrupted warm start is redone from the base weights.
      store.setIterationPhase(id, SFT_ITERATION, "sft");
      const metrics = await sftStage({ ...sftOptions, warmStart });
      const path = await policy.training.saveWeights("sft", { overwrite: true });
      store.db.transaction(() => {
        store.saveMetrics(id, SFT_ITERATION, metrics);
        store.saveCheckpoint(id, { iteration: SFT_ITERATION, kind: "training", path });
        store.setIterationPhase(id, SFT_ITERATION, SFT_DONE);
      })();
    }

    const evaluations: EvolveResult["evaluations"] = evaluationsSoFar(store, id);
    const evaluate = async (iteration: number) => {
      if (config.schedule.eval_every === 0 || evalPool.length === 0) return;
      if (evaluations.some((e) => e.iteration === iteration)) return;
      const sampler = await policy!.training.saveWeightsForSampler(`eval-${iteration + 1}`);
      await recordedEvaluation({
        store, runId: id, iteration, env: environment, config, model: { kind: "tokens", template: policy!.template, sampler }, contextTokens: policy!.contextTokens,
        experience: navigation?.evalHook(), evaluations, signal: options.signal, log,
      });
    };

    const first = store.lastCompletedIteration(id) + 1;
    if (first === 0) await evaluate(-1);
    // An iteration's sampling half: the questioning refresh, the task pick and the rollouts, with `sampler`'s weights.
    const sampleIteration = async (iteration: number, sampler: TokenSampler, signal: AbortSignal | undefined): Promise<Sampled> => {
      const seconds: Record<string, number> = {};
      store.setIterationPhase(id, iteration, "rollout");
      await timed(seconds, "questioning", () => questioning!.refresh({ iteration, policyModel: { kind: "tokens", sampler, template: policy!.template }, signal, log }));
      const tasks = questioning!.pickTasks(iteration, trainPool);
      const rollouts = await timed(seconds, "rollout", () => rolloutStage({ store, runId: id, iteration, env: environment, config, model: { kind: "tokens", template: policy!.template, sampler }, contextTokens: policy!.contextTokens, tasks, experience: navigation?.trainHook(iteration), signal, log }));
      return { rollouts, seconds };
    };
    const started = performance.now();
    for (let iteration = first; iteration < config.schedule.iterations; iteration++) {
      if (options.signal?.aborted) throw new EvolverError("RUN_ABORTED", "stopped");
      const iterationStarted = performance.now();
      // Seconds per stage, so a person can see where an iteration's time goes (the dashboard charts time/*).
      const stageSeconds: Record<string, number> = {};
      const trained = store.latestCheckpoint(id, "training")?.iteration === iteration;
      let metrics: Record<string, number> = {};
      if (!trained) {
        let sampled: Sampled;
        if (next?.iteration === iteration) {
          // sampled while the previous iteration trained (schedule.overlap); what is left of it is waited for here
          const waitStarted = performance.now();
          sampled = await next.sampled;
          next = undefined;
          stageSeconds["time/rollout_wait"] = (performance.now() - waitStarted) / 1000;
        } else {
          const sampler = await policy.training.saveWeightsForSampler(`it-${iteration}`);
          sampled = await sampleIteration(iteration, sampler, options.signal);
        }
        Object.assign(stageSeconds, sampled.seconds);
        const { rollouts } = sampled;
        if (rollouts.stats.total > 0 && rollouts.stats.errored === rollouts.stats.total) {
          throw new EvolverError("ROLLOUTS_ALL_ERRORED", `every train rollout of iteration ${iteration} errored (${rollouts.stats.total}); the first: ${rollouts.stats.firstError}`);
        }
        // An errored rollout is no evidence about the policy: it is kept in the store and left out of the update.
        const trajectories = rollouts.trajectories.filter((t) => rolloutError(t) === undefined);
        // Only training-split rollouts write the pool (the held-out evaluation reads it at most).
        const navigated = navigation ? await timed(stageSeconds, "navigating", () => navigation!.learn(iteration, trajectories, options.signal)) : {};
        if (config.schedule.overlap && iteration + 1 < config.schedule.iterations) {
          // The next iteration samples from the weights as they are now, before this update (saved before the update
          // is sent: the trainer runs a model's calls in order, and samples from the saved copy while it trains).
          const sampler = await policy.training.saveWeightsForSampler(`it-${iteration + 1}`);
          const controller = new AbortController();
          const signal = options.signal ? AbortSignal.any([options.signal, controller.signal]) : controller.signal;
          setMaxListeners(0, signal); // every rollout in flight listens to it
          const sampledNext = sampleIteration(iteration + 1, sampler, signal);
          // awaited by the next iteration, or cancelled and awaited where this one fails: never left unhandled
          sampledNext.catch(() => undefined);
          next = { iteration: iteration + 1, controller, sampled: sampledNext };
        }
        store.setIterationPhase(id, iteration, "attribute");
        const judgments = await timed(stageSeconds, "attribution", () => attributionStage({ store, runId: id, config, trajectories, judge: judge!.judge, signal: options.signal }));
        store.setIterationPhase(id, iteration, "train");
        metrics = await timed(stageSeconds, "train", () => trainStage({ config, training: policy!.training, trajectories, judgments, iteration, route: policy!.route, replay, signal: options.signal }));
        Object.assign(metrics, navigated);
        metrics["train/rollouts"] = rollouts.stats.total;
        metrics["train/errored"] = rollouts.stats.errored;
        const path = await timed(stageSeconds, "checkpoint", () => policy!.training.saveWeights(`it-${iteration}`, { overwrite: true }));
        Object.assign(metrics, stageSeconds);
        metrics["train/seconds"] = (performance.now() - iterationStarted) / 1000;
        store.db.transaction(() => {
          store.saveMetrics(id, iteration, metrics);
          store.saveCheckpoint(id, { iteration, kind: "training", path });
          store.setIterationPhase(id, iteration, "eval");
        })();
      }
      // the iteration's line before its evaluation's, so that "eval after 5 iterations" follows "iteration 5/100"
      log(progressLine(iteration, config.schedule.iterations, metrics, first, started));
      const last = iteration === config.schedule.iterations - 1;
      if (config.schedule.eval_every > 0 && ((iteration + 1) % config.schedule.eval_every === 0 || last)) {
        const evalStarted = performance.now();
        const before = evaluations.length;
        await evaluate(iteration);
        // A resumed run skips an evaluation it already has; its recorded time stays.
        if (evaluations.length > before) store.saveMetrics(id, iteration, { "time/eval": (performance.now() - evalStarted) / 1000 });
      }
      store.setIterationPhase(id, iteration, "done");
    }
    store.setRunStatus(id, "done");
    return { runId: id, iterations: config.schedule.iterations, evaluations };
  } catch (error) {
    if (runId) store.setRunStatus(runId, EvolverError.isInstance(error) && error.code === "RUN_ABORTED" ? "stopped" : "failed", describeError(error));
    throw error;
  } finally {
    if (next) {
      // a failed or stopped run: the rollouts under way end before the trainer they sample from is closed
      next.controller.abort(new EvolverError("RUN_ABORTED", "stopped"));
      await next.sampled.catch(() => undefined);
    }
    await policy?.close().catch(() => undefined);
    await judge?.close().catch(() => undefined);
    await questioning?.close().catch(() => undefined);
    await specJudge?.close().catch(() => undefined);
    await navigation?.close().catch(() => undefined);
    await env?.close?.().catch(() => undefined);
    lease?.release();
    store.close();
  }
}

/** An iteration's rollouts, with the seconds its questioning refresh and rollout stage took. */
interface Sampled {
  rollouts: Awaited<ReturnType<typeof rolloutStage>>;
  seconds: Record<string, number>;
}

/** Runs `work`, recording its wall seconds as `time/<stage>` in `seconds`, whether it succeeds or fails. */
async function timed<T>(seconds: Record<string, number>, stage: string, work: () => Promise<T>): Promise<T> {
  const stageStarted = performance.now();
  try {
    return await work();
  } finally {
    seconds[`time/${stage}`] = (performance.now() - stageStarted) / 1000;
  }
}

export function progressLine(iteration: number, total: number, metrics: Record<string, number>, first: number, started: number): string {
  const done = iteration - first + 1;
  const perIteration = (performance.now() - started) / 1000 / done;
  const eta = Math.round(perIteration * (total - iteration - 1));
  const parts = [`iteration ${iteration + 1}/${total}`];
  if (metrics["train/reward"] !== undefined) parts.push(`reward ${metrics["train/reward"].toFixed(3)}`);
  if (metrics["train/success"] !== undefined) parts.push(`success ${metrics["train/success"].toFixed(3)}`);
  // Errors and judge failures are said where they happen, not only in the stored metrics.
  if (metrics["train/errored"]) parts.push(`errored ${metrics["train/errored"]}/${metrics["train/rollouts"]}`);
  const judged = (metrics["attribution/judged"] ?? 0) + (metrics["attribution/fallbacks"] ?? 0);
  if (metrics["attribution/fallbacks"]) parts.push(`judge failed ${metrics["attribution/fallbacks"]}/${judged} (GRPO for those)`);
  if (metrics["train/tokens_per_second"] !== undefined) parts.push(`${Math.round(metrics["train/tokens_per_second"])} tok/s`);
  parts.push(`ETA ${eta >= 60 ? `${Math.floor(eta / 60)}m${String(eta % 60).padStart(2, "0")}s` : `${eta}s`}`);
  return parts.join("  ");
}
