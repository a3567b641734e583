import { setMaxListeners } from "node:events";
import { runAblation } from "../ablation/index.js";
import type { Command } from "./command.js";
import { numberOption, parseOptions } from "./command.js";

const usage =
  "evolver ablate --config RUN.yaml [--seeds 3] [--first-seed 0] [--quick] [--out .evolver/ablation] [--store PATH] [--threshold 0.9] " +
  "[--only grpo,questioning,navigating,attributing,all] [--set key.path=value ...]";

export const ablateCommand: Command = {
  usage,
  async run(argv) {
    const { values } = parseOptions(
      argv,
      {
        config: { type: "string" },
        seeds: { type: "string" },
        "first-seed": { type: "string" },
        quick: { type: "boolean" },
        out: { type: "string" },
        store: { type: "string" },
        threshold: { type: "string" },
        only: { type: "string" },
        set: { type: "string", multiple: true },
      },
      usage,
    );
    if (!values.config) {
      console.error(`give --config\nusage: ${usage}`);
      return 2;
    }
    const controller = new AbortController();
    setMaxListeners(0, controller.signal);
    const stop = () => {
      console.error("stopping after the current step (run the same command again to go on where it stopped)");
      controller.abort();
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    const result = await runAblation({
      configPath: values.config,
      overrides: values.set ?? [],
      seeds: numberOption("seeds", values.seeds, 3),
      firstSeed: numberOption("first-seed", values["first-seed"], 0),
      quick: values.quick ?? false,
      outDir: values.out ?? ".evolver/ablation",
      storePath: values.store,
      threshold: numberOption("threshold", values.threshold, 0.9),
      only: values.only?.split(",").map((s) => s.trim()).filter(Boolean),
      signal: controller.signal,
    });
    for (const s of result.summaries) {
      const success = s.finalSuccess.values.length ? `${s.finalSuccess.mean.toFixed(3)} (sd ${Number.isFinite(s.finalSuccess.sd) ? s.finalSuccess.sd.toFixed(3) : "n/a"})` : "";
      console.log(`${s.configuration.label.padEnd(14)} ${s.status === "done" ? success : `${s.status}: ${s.reason ?? ""}`}`);
    }
    console.log(`table: ${result.markdownPath}\nplot: ${result.plotPath}\nruns: evolver runs --store ${result.storePath}`);
    return result.outcomes.some((o) => o.status === "failed") ? 1 : 0;
  },
};
