// Rollouts of one iteration: n samples of each task with the current weights, at most `concurrency` in flight,
// each written to the store the moment it ends. Samples already in the store (a resumed run) are not redone; the
// seed of every sample is derived from the run, so the missing ones are the rollouts the run would have made.
import { describeError } from "../core/errors.js";
import type { Environment } from "../env/index.js";
import type { ChatTemplate, TokenSampler } from "../llm/index.js";
import { createToolFormat, groupKeyFor, runRollout, type Trajectory } from "../agent/index.js";
import type { RunStore, TrajectoryPurpose } from "../store/index.js";
import type { EvolveConfig } from "./config.js";
import { deriveSeed } from "./seeds.js";

export interface RolloutStageOptions {
  store: RunStore;
  runId: string;
  iteration: number;
  purpose: TrajectoryPurpose;
  env: Environment;
  config: EvolveConfig;
  template: ChatTemplate;
  sampler: TokenSampler;
  tasks: string[];
  samplesPerTask: number;
  temperature: number;
  signal?: AbortSignal;
  log: (line: string) => void;
}

export async function rolloutStage(options: RolloutStageOptions): Promise<Trajectory[]> {
  const { store, runId, iteration, purpose, config } = options;
  // Group keys need only be unique within the run (the store keys rows by run); leaving the run id out of them and
  // of the seeds makes two runs with the same config and seed sample the same rollouts.
  const batchId = `${purpose}/${iteration}`;
  const stored = new Map(store.listTrajectories(runId, iteration, purpose).map((t) => [`${t.groupKey}/${t.sampleIndex}`, t]));
  const jobs: { taskId: string; groupKey: string; sampleIndex: number }[] = [];
  const seen = new Map<string, number>();
  for (const taskId of options.tasks) {
    // A task drawn twice in one iteration makes two groups.
    const repeat = seen.get(taskId) ?? 0;
    seen.set(taskId, repeat + 1);
    const groupKey = groupKeyFor(options.env.name, { taskId }, repeat === 0 ? batchId : `${batchId}#${repeat}`);
    for (let sampleIndex = 0; sampleIndex < options.samplesPerTask; sampleIndex++) {
      if (!stored.has(`${groupKey}/${sampleIndex}`)) jobs.push({ taskId, groupKey, sampleIndex });
    }
  }
  // Said on resume only: the rollouts a killed run had finished are reused, never sampled again.
  if (stored.size > 0) options.log(`${purpose} rollouts of iteration ${iteration}: ${stored.size} already in the store, ${jobs.length} to run`);
  const format = createToolFormat("hermes");
  let failures = 0;
  let next = 0;
  const worker = async () => {
    while (next < jobs.length && !options.signal?.aborted) {
      const job = jobs[next++];
      try {
        const trajectory = await runRollout({
          env: options.env,
          taskId: job.taskId,
          model: { kind: "tokens", sampler: options.sampler, template: options.template },
          toolFormat: format,
          maxSteps: config.rollout.max_steps,
          maxTokensPerCall: config.rollout.max_tokens_per_step,
          temperature: options.temperature,
          topP: config.rollout.top_p,
          seed: deriveSeed(config.run.seed, purpose, iteration, job.groupKey, job.sampleIndex),
          groupKey: job.groupKey,
          sampleIndex: job.sampleIndex,
          id: `${runId}/${purpose}/${iteration}/${job.groupKey.slice(0, 12)}/${job.sampleIndex}`,
          signal: options.signal,
        });
        store.saveTrajectory(runId, iteration, purpose, trajectory);
        stored.set(`${job.groupKey}/${job.sampleIndex}`, trajectory);
      } catch (error) {
        failures += 1;
        options.log(`rollout ${job.taskId}#${job.sampleIndex} failed: ${describeError(error)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(config.rollout.concurrency, jobs.length) }, worker));
  if (failures > 0) options.log(`${failures} of ${jobs.length} rollouts failed in iteration ${iteration} (${purpose}); they are left out`);
  // In a fixed order, not the order the rollouts happened to end in: the update (its datums, its mini-batches) is
  // then the same whether the rollouts came from one process or from a killed one and its resumption.
  return [...stored.values()].sort((a, b) => (a.groupKey === b.groupKey ? a.sampleIndex - b.sampleIndex : a.groupKey < b.groupKey ? -1 : 1));
}
