// The evolve recipe: one loop that reads top to bottom. Each iteration
//   picks tasks → rolls out groups with the current weights → judges every step (self-attributing) → turns
//   outcomes and verdicts into per-token advantages (GRPO or ADCA-GRPO) → one policy update → a checkpoint,
// and every few iterations evaluates on held-out tasks. Everything is written to the run store as it happens, and
// every phase can be redone from what the store holds, so a run killed at any moment resumes with nothing lost and
// nothing done twice: stored rollouts and verdicts are reused, and an update whose checkpoint was not recorded is
// redone from the previous checkpoint on the same data. Where configured, an SFT warm start on the environment's
// reference solutions comes before the first iteration (sft-stage.ts), recorded and checkpointed the same way.
//
// Self-questioning (task synthesis) will plug in where tasks are picked, self-navigating (experience retrieval and
// summarization) around the rollout stage; both read and write the same store.
import { join, resolve } from "node:path";
import { mkdirSync } from "node:fs";
import { EvolverError, describeError } from "../core/errors.js";
import { createEnvironment, registerBuiltinEnvironments, type Environment } from "../env/index.js";
import type { Trajectory } from "../agent/index.js";
import { RunStore } from "../store/index.js";
import { parseConfig, type EvolveConfig } from "./config.js";
import { openPolicy, type Policy } from "./policy.js";
import { deriveSeed, sampleFromPool } from "./seeds.js";
import { rolloutStage } from "./rollout-stage.js";
import { attributionStage, openJudge } from "./attribution-stage.js";
import { trainStage } from "./train-stage.js";
import { SFT_DONE, SFT_ITERATION, sftStage } from "./sft-stage.js";

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
  const store = new RunStore(storePath, { create: !options.resume });
  let policy: Policy | undefined;
  let env: Environment | undefined;
  let judge: Awaited<ReturnType<typeof openJudge>> | undefined;
  let runId: string | undefined;
  try {
    let config: EvolveConfig;
    if (options.resume) {
      const run = store.getRun(options.resume);
      config = parseConfig(run.config, `the stored config of ${run.id}`);
      runId = run.id;
      if (run.status === "done") log(`run ${run.id} is already done`);
      store.setRunStatus(run.id, "running");
      log(`resuming ${run.id} after iteration ${store.lastCompletedIteration(run.id)}`);
    } else {
      if (!options.config) throw new EvolverError("CONFIG_INVALID", "runEvolve needs a config or a run to resume");
      config = options.config;
      runId = store.createRun(config.run.name, config).id;
      log(`run ${runId} (${config.run.name}) → ${resolve(storePath)}`);
    }
    const id = runId;
    if (config.loss.kl_beta > 0) {
      throw new EvolverError("CONFIG_INVALID", "loss.kl_beta > 0 needs reference logprobs, which this recipe does not compute yet; set loss.kl_beta: 0");
    }

    registerBuiltinEnvironments();
    env = await createEnvironment(config.env.type, config.env.options);
    const trainPool = await env.listTasks(config.env.train_split);
    const evalPool = await env.listTasks(config.env.eval_split);
    if (trainPool.length === 0) throw new EvolverError("ENV_NO_TASKS", `${config.env.type} has no ${config.env.train_split} tasks`);
    store.addTasks(id, [
      ...trainPool.map((taskId) => ({ taskId, split: config.env.train_split, source: "seed" })),
      ...evalPool.map((taskId) => ({ taskId, split: config.env.eval_split, source: "seed" })),
    ]);
    const evalTasks = sampleFromPool(evalPool, Math.min(config.schedule.eval_tasks, evalPool.length), deriveSeed(config.run.seed, "eval"));

    judge = await openJudge(config);
    const runDir = resolve(config.run.output_dir, id);
    mkdirSync(runDir, { recursive: true });
    policy = await openPolicy(config, join(runDir, "checkpoints"), log);
    const latest = store.latestCheckpoint(id, "training");
    if (latest) {
      await policy.training.loadWeights(latest.path, { optimizer: true });
      log(`loaded checkpoint of iteration ${latest.iteration}: ${latest.path}`);
    }
    if (config.sft.enabled && store.iterationPhase(id, SFT_ITERATION) !== SFT_DONE) {
      // Until its weights are saved, an interrupted warm start is redone from the base weights.
      store.setIterationPhase(id, SFT_ITERATION, "sft");
      const metrics = await sftStage({ config, env, training: policy.training, template: policy.template, tasks: trainPool, signal: options.signal, log });
      const path = await policy.training.saveWeights("sft", { overwrite: true });
      store.db.transaction(() => {
        store.saveMetrics(id, SFT_ITERATION, metrics);
        store.saveCheckpoint(id, { iteration: SFT_ITERATION, kind: "training", path });
        store.setIterationPhase(id, SFT_ITERATION, SFT_DONE);
      })();
    }

    const evaluations: EvolveResult["evaluations"] = evaluationsSoFar(store, id);
    const evaluate = async (iteration: number) => {
      if (config.schedule.eval_every === 0 || evalTasks.length === 0) return;
      if (evaluations.some((e) => e.iteration === iteration)) return;
      const sampler = await policy!.training.saveWeightsForSampler(`eval-${iteration + 1}`);
      const trajectories = await rolloutStage({
        store, runId: id, iteration, purpose: "eval", env: env!, config, template: policy!.template, sampler,
        tasks: evalTasks, samplesPerTask: config.schedule.eval_k, temperature: config.schedule.eval_temperature, signal: options.signal, log,
      });
      const result = summarizeEval(trajectories, evalTasks.length, config.schedule.eval_k);
      store.saveMetrics(id, iteration, { "eval/success": result.success, "eval/score": result.score, [`eval/best@${config.schedule.eval_k}`]: result.best });
      evaluations.push({ iteration, success: result.success, score: result.score });
      log(`eval after iteration ${iteration}: success ${result.success.toFixed(3)} score ${result.score.toFixed(3)} (${evalTasks.length} held-out tasks × ${config.schedule.eval_k})`);
    };

    const first = store.lastCompletedIteration(id) + 1;
    if (first === 0) await evaluate(-1);
    const started = performance.now();
    for (let iteration = first; iteration < config.schedule.iterations; iteration++) {
      if (options.signal?.aborted) throw new EvolverError("RUN_ABORTED", "stopped");
      const iterationStarted = performance.now();
      const trained = store.latestCheckpoint(id, "training")?.iteration === iteration;
      let metrics: Record<string, number> = {};
      if (!trained) {
        store.setIterationPhase(id, iteration, "rollout");
        const sampler = await policy.training.saveWeightsForSampler(`it-${iteration}`);
        const tasks = sampleFromPool(trainPool, config.rollout.tasks_per_iteration, deriveSeed(config.run.seed, "tasks", iteration));
        const trajectories = await rolloutStage({
          store, runId: id, iteration, purpose: "train", env, config, template: policy.template, sampler,
          tasks, samplesPerTask: config.rollout.group_size, temperature: config.rollout.temperature, signal: options.signal, log,
        });
        store.setIterationPhase(id, iteration, "attribute");
        const judgments = await attributionStage({ store, runId: id, config, trajectories, judge: judge.judge, signal: options.signal });
        store.setIterationPhase(id, iteration, "train");
        metrics = await trainStage({ config, training: policy.training, trajectories, judgments, iteration, signal: options.signal });
        const path = await policy.training.saveWeights(`it-${iteration}`, { overwrite: true });
        metrics["train/seconds"] = (performance.now() - iterationStarted) / 1000;
        store.db.transaction(() => {
          store.saveMetrics(id, iteration, metrics);
          store.saveCheckpoint(id, { iteration, kind: "training", path });
          store.setIterationPhase(id, iteration, "eval");
        })();
      }
      const last = iteration === config.schedule.iterations - 1;
      if (config.schedule.eval_every > 0 && ((iteration + 1) % config.schedule.eval_every === 0 || last)) await evaluate(iteration);
      store.setIterationPhase(id, iteration, "done");
      log(progressLine(iteration, config.schedule.iterations, metrics, first, started));
    }
    store.setRunStatus(id, "done");
    return { runId: id, iterations: config.schedule.iterations, evaluations };
  } catch (error) {
    if (runId) store.setRunStatus(runId, EvolverError.isInstance(error) && error.code === "RUN_ABORTED" ? "stopped" : "failed", describeError(error));
    throw error;
  } finally {
    await policy?.close().catch(() => undefined);
    await judge?.close().catch(() => undefined);
    await env?.close?.().catch(() => undefined);
    store.close();
  }
}

function evaluationsSoFar(store: RunStore, runId: string): EvolveResult["evaluations"] {
  const byIteration = new Map<number, { iteration: number; success: number; score: number }>();
  for (const m of store.listMetrics(runId)) {
    if (m.name !== "eval/success" && m.name !== "eval/score") continue;
    const entry = byIteration.get(m.iteration) ?? { iteration: m.iteration, success: 0, score: 0 };
    if (m.name === "eval/success") entry.success = m.value;
    else entry.score = m.value;
    byIteration.set(m.iteration, entry);
  }
  return [...byIteration.values()].sort((a, b) => a.iteration - b.iteration);
}

/** avg@k success and score over all samples, best@k success over tasks. */
function summarizeEval(trajectories: Trajectory[], tasks: number, k: number) {
  const n = Math.max(1, trajectories.length);
  const success = trajectories.filter((t) => t.success).length / n;
  const score = trajectories.reduce((s, t) => s + t.reward, 0) / n;
  const solved = new Set(trajectories.filter((t) => t.success).map((t) => t.groupKey)).size;
  return { success, score, best: tasks === 0 ? 0 : solved / tasks, k };
}

function progressLine(iteration: number, total: number, metrics: Record<string, number>, first: number, started: number): string {
  const done = iteration - first + 1;
  const perIteration = (performance.now() - started) / 1000 / done;
  const eta = Math.round(perIteration * (total - iteration - 1));
  const parts = [`iteration ${iteration + 1}/${total}`];
  if (metrics["train/reward"] !== undefined) parts.push(`reward ${metrics["train/reward"].toFixed(3)}`);
  if (metrics["train/success"] !== undefined) parts.push(`success ${metrics["train/success"].toFixed(3)}`);
  if (metrics["train/tokens_per_second"] !== undefined) parts.push(`${Math.round(metrics["train/tokens_per_second"])} tok/s`);
  parts.push(`ETA ${eta >= 60 ? `${Math.floor(eta / 60)}m${String(eta % 60).padStart(2, "0")}s` : `${eta}s`}`);
  return parts.join("  ");
}
