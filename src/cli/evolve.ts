import { setMaxListeners } from "node:events";
import { loadConfig, runEvolve } from "../recipe/index.js";
import type { Command } from "./command.js";
import { parseOptions } from "./command.js";

const usage = "evolver evolve --config RUN.yaml [--set key.path=value ...] [--pool PATH] | --resume RUN [--store .evolver/runs.db]";

export const evolveCommand: Command = {
  usage,
  async run(argv) {
    const { values } = parseOptions(
      argv,
      { config: { type: "string" }, set: { type: "string", multiple: true }, resume: { type: "string" }, store: { type: "string" }, pool: { type: "string" } },
      usage,
    );
    if (!values.config === !values.resume) {
      console.error(`give either --config or --resume\nusage: ${usage}`);
      return 2;
    }
    if (values.resume && (values.set || values.pool)) {
      console.error(`${values.set ? "--set" : "--pool"} does not apply to --resume: a run goes on with the config it was started with`);
      return 2;
    }
    const controller = new AbortController();
    // Every rollout in flight listens to this one signal.
    setMaxListeners(0, controller.signal);
    const stop = () => {
      console.error("stopping after the current step (the run can be resumed with --resume)");
      controller.abort();
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    // --pool PATH: an experience pool shared across runs (navigating.pool; navigating on).
    const pool = values.pool ? [`navigating.pool=${values.pool}`, "navigating.enabled=true"] : [];
    const config = values.config ? loadConfig(values.config, [...(values.set ?? []), ...pool]) : undefined;
    const result = await runEvolve({ config, resume: values.resume, storePath: values.store, signal: controller.signal });
    const first = result.evaluations[0];
    const last = result.evaluations[result.evaluations.length - 1];
    if (first && last && last !== first) {
      console.log(`held-out success: ${first.success.toFixed(3)} before → ${last.success.toFixed(3)} after ${last.iteration + 1} iterations`);
    }
    console.log(`run ${result.runId} done; see 'evolver runs show ${result.runId}${values.store ? ` --store ${values.store}` : ""}'`);
    return 0;
  },
};
