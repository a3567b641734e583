import { loadConfig, prepareRun } from "../recipe/index.js";
import type { Command } from "./command.js";
import { parseOptions } from "./command.js";

const usage = "evolver validate (CONFIG.yaml | --config CONFIG.yaml) [--set key.path=value ...]";

export const validateCommand: Command = {
  usage,
  async run(argv) {
    const { values, positionals } = parseOptions(argv, { config: { type: "string" }, set: { type: "string", multiple: true } }, usage, true);
    // the command line a user checks is often the evolve command's own: `--config` is taken as well as the positional
    const paths = [...positionals, ...(values.config === undefined ? [] : [values.config])];
    if (paths.length !== 1) {
      console.error(`usage: ${usage}`);
      return 2;
    }
    const [path] = paths;
    // The checks of a run's start (prepare.ts): the environment opens, the judge can work with it, the policy's files exist.
    const { config, env } = await prepareRun(loadConfig(path, values.set ?? []));
    await env.close?.();
    console.log(JSON.stringify(config, null, 2));
    console.error(`${path}: valid`);
    return 0;
  },
};
