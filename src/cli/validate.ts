import { loadConfig, prepareRun } from "../recipe/index.js";
import type { Command } from "./command.js";
import { parseOptions } from "./command.js";

const usage = "evolver validate CONFIG.yaml [--set key.path=value ...]";

export const validateCommand: Command = {
  usage,
  async run(argv) {
    const { values, positionals } = parseOptions(argv, { set: { type: "string", multiple: true } }, usage, true);
    if (positionals.length !== 1) {
      console.error(`usage: ${usage}`);
      return 2;
    }
    // The checks of a run's start (prepare.ts): the environment opens, the judge can work with it, the policy's files exist.
    const { config, env } = await prepareRun(loadConfig(positionals[0], values.set ?? []));
    await env.close?.();
    console.log(JSON.stringify(config, null, 2));
    console.error(`${positionals[0]}: valid`);
    return 0;
  },
};
