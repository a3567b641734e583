// Stores shaped like a real run's, written directly: for the tests and benchmark of readers (runs show, runs audit,
// the dashboard) where what matters is the shape and size of what is stored, not how a policy produced it. The
// browser test uses a store made by a real run instead.
import type { Trajectory } from "../../agent/index.js";
import { parseConfig, type EvolveConfig } from "../../recipe/index.js";
import type { RunStore } from "../../store/index.js";

export interface SyntheticStep {
  action: string;
  observation: string;
  label: "GOOD" | "BAD";
}

/** A key-chain-like trajectory: each step one sampled token, its observation, its verdict label stored apart. */
export function syntheticTrajectory(options: {
  id: string;
  taskId: string;
  groupKey: string;
  sampleIndex: number;
  reward: number;
  steps: { action: string; observation: string }[];
  termination?: Trajectory["termination"];
  category?: string;
}): Trajectory {
  const segments: Trajectory["segments"] = [{ source: "prompt", tokens: [1, 2, 3], lossMask: [0, 0, 0] }];
  options.steps.forEach((step, index) => {
    segments.push({ source: "policy", tokens: [10 + index], logprobs: [-0.5 - index], lossMask: [1], step: index });
    segments.push({ source: "environment", tokens: [20 + index, 21], lossMask: [0, 0] });
  });
  return {
    id: options.id,
    taskId: options.taskId,
    envType: "key-chain",
    groupKey: options.groupKey,
    sampleIndex: options.sampleIndex,
    messages: [{ role: "user", content: `task ${options.taskId}` }],
    steps: options.steps.map((step, index) => ({
      index,
      action: { role: "assistant", content: step.action },
      observations: [{ role: "user", content: step.observation }],
    })),
    segments,
    reward: options.reward,
    success: options.reward >= 1,
    evaluation: {},
    termination: options.termination ?? "done",
    ...(options.termination === "error" ? { error: "the environment went away" } : {}),
    experienceGuided: false,
    metrics: {},
    ...(options.category ? { info: { category: options.category } } : {}),
  };
}

export function syntheticConfig(
  overrides: { attribution?: Record<string, unknown>; schedule?: Record<string, unknown>; navigating?: Record<string, unknown>; seed?: number } = {},
): EvolveConfig {
  return parseConfig({
    run: { name: "synthetic", seed: overrides.seed ?? 3 },
    env: { type: "key-chain" },
    policy: { base_model: "/nowhere/tiny" },
    attribution: { enabled: true, judge: "rule", alpha: 0.5, ...overrides.attribution },
    schedule: { iterations: 100, eval_every: 10, eval_k: 2, ...overrides.schedule },
    ...(overrides.navigating ? { navigating: overrides.navigating } : {}),
  });
}

/** The verdicts the run stores for a trajectory (attribution-stage.ts stores the judgment as it came). */
export function saveLabels(store: RunStore, runId: string, trajectory: Trajectory, labels: ("GOOD" | "BAD")[]): void {
  const judgment = {
    trajectoryId: trajectory.id,
    judgeModel: "rule:step-reward",
    status: "ok",
    attempts: 1,
    cached: false,
    verdicts: labels.map((label, step) => ({ step, label, reason: `step ${step} was ${label === "GOOD" ? "right" : "wrong"}` })),
  };
  store.saveVerdicts(runId, { trajectoryId: trajectory.id, status: "ok", judge: judgment.judgeModel, verdicts: judgment, error: null });
}

/**
 * A run the size of the quick start's by default: `iterations` × `tasksPerIteration` groups of `groupSize` train
 * rollouts, each judged, metrics per iteration, and an evaluation of `evalTasks` tasks × k every `evalEvery`.
 */
export function writeSyntheticRun(
  store: RunStore,
  options: { iterations?: number; tasksPerIteration?: number; groupSize?: number; evalEvery?: number; evalTasks?: number; evalK?: number; name?: string } = {},
): string {
  const iterations = options.iterations ?? 100;
  const tasksPerIteration = options.tasksPerIteration ?? 16;
  const groupSize = options.groupSize ?? 8;
  const evalEvery = options.evalEvery ?? 10;
  const evalTasks = options.evalTasks ?? 64;
  const evalK = options.evalK ?? 1;
  const config = syntheticConfig({ schedule: { iterations, eval_every: evalEvery, eval_k: evalK } });
  const run = store.createRun(options.name ?? "synthetic", config);
  const tasks = Array.from({ length: 300 }, (_, i) => `kc-${String(i).padStart(3, "0")}`);
  store.addTasks(run.id, tasks.map((taskId, i) => ({ taskId, split: i < 150 ? "train" : "test", source: "seed" })));
  // A learning curve: the chance a step is right grows with the iteration. Deterministic (no clock, no Math.random).
  const right = (iteration: number, task: number, sample: number, step: number) => ((iteration * 7 + task * 13 + sample * 5 + step * 3) % 100) < 20 + (70 * iteration) / iterations;
  const rollout = (purpose: string, iteration: number, task: number, sample: number) => {
    const labels = [0, 1, 2].map((step) => right(iteration, task, sample, step));
    const taskId = purpose === "eval" ? tasks[150 + (task % 150)] : tasks[(((iteration * tasksPerIteration + task) % 150) + 150) % 150];
    const trajectory = syntheticTrajectory({
      id: `${run.id}/${purpose}/${iteration}/${task}/${sample}`,
      taskId,
      groupKey: `${taskId}#${iteration}`,
      sampleIndex: sample,
      reward: labels.filter(Boolean).length / 3,
      steps: labels.map((ok, step) => ({ action: String.fromCharCode(65 + ((task + step + (ok ? 0 : 1)) % 8)), observation: `digit ${(task + step) % 10}` })),
      category: task % 2 === 0 ? "even" : "odd",
    });
    return { trajectory, labels: labels.map((ok) => (ok ? "GOOD" : "BAD") as "GOOD" | "BAD") };
  };
  for (let iteration = -1; iteration < iterations; iteration++) {
    store.db.transaction(() => {
      if (iteration >= 0) {
        let rewardSum = 0;
        for (let task = 0; task < tasksPerIteration; task++) {
          for (let sample = 0; sample < groupSize; sample++) {
            const { trajectory, labels } = rollout("train", iteration, task, sample);
            store.saveTrajectory(run.id, iteration, "train", trajectory);
            saveLabels(store, run.id, trajectory, labels);
            rewardSum += trajectory.reward;
          }
        }
        const reward = rewardSum / (tasksPerIteration * groupSize);
        store.saveMetrics(run.id, iteration, {
          "train/reward": reward,
          "train/success": reward * reward,
          "trainer/loss:sum": 1 / (iteration + 2),
          "trainer/kl:sum": 0.001 * iteration,
          "trainer/entropy:sum": 2 - iteration / iterations,
          "trainer/clip_fraction:mean": 0.05,
          "train/tokens_per_second": 400 + (iteration % 7),
          "train/seconds": 3 + (iteration % 3),
          "attribution/judged": tasksPerIteration * groupSize,
        });
        store.saveCheckpoint(run.id, { iteration, kind: "training", path: `tinker://synthetic/weights/it-${iteration}` });
      }
      if (iteration === -1 || (iteration + 1) % evalEvery === 0) {
        let successes = 0;
        for (let task = 0; task < evalTasks; task++) {
          for (let sample = 0; sample < evalK; sample++) {
            const { trajectory } = rollout("eval", iteration, task, sample);
            store.saveTrajectory(run.id, iteration, "eval", trajectory);
            if (trajectory.success) successes += 1;
          }
        }
        store.saveMetrics(run.id, iteration, { "eval/success": successes / (evalTasks * evalK), [`eval/best@${evalK}`]: successes / (evalTasks * evalK) });
      }
      if (iteration >= 0) store.setIterationPhase(run.id, iteration, "done");
    })();
  }
  store.setRunStatus(run.id, "done");
  return run.id;
}
