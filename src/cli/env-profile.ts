// `evolver env profile`: an LLM drafts an environment's profile from its tool schemas, written as YAML for the user
// to review and then give to a run (`questioning.profile: P.yaml`, `tasks synthesize --profile P.yaml`).
import { writeFileSync } from "node:fs";
import { EvolverError } from "../core/errors.js";
import type { Command } from "./command.js";
import { numberOption, parseOptions } from "./command.js";

const usage =
  "evolver env profile --env NAME|module [--env-path FILE.mjs] [--env-options JSON] --model SPEC --out P.yaml [--base-url URL] " +
  "[--tasks 24] [--attempts 3] [--max-tokens 4096] [--temperature 0.2] [--seed S]\n" +
  "  --tasks: training tasks whose tools are read; SPEC: openai:<model>, a .gguf path or hf:<user>/<repo>[:quant]";

const flags = {
  env: { type: "string" }, "env-path": { type: "string" }, "env-options": { type: "string" }, model: { type: "string" }, out: { type: "string" },
  "base-url": { type: "string" }, tasks: { type: "string" }, attempts: { type: "string" }, "max-tokens": { type: "string" },
  temperature: { type: "string" }, seed: { type: "string" },
} as const;

export const envProfileCommand: Command = {
  usage,
  async run(argv) {
    const { values } = parseOptions(argv, flags, usage);
    if (!values.env || !values.model || !values.out) throw new EvolverError("CLI_USAGE", `--env, --model and --out are required\nusage: ${usage}`);
    let envOptions: Record<string, unknown> = {};
    try {
      envOptions = values["env-options"] ? (JSON.parse(values["env-options"]) as Record<string, unknown>) : {};
    } catch (error) {
      throw new EvolverError("CLI_USAGE", `--env-options is not JSON: ${(error as Error).message}`);
    }
    // Loaded here, not at the top: `evolver --help` and the other commands never pay for the model and env stacks.
    const { openEnvironment, registerBuiltinEnvironments } = await import("../env/index.js");
    const { createPolicyModel } = await import("../agent/index.js");
    const { draftProfile, environmentTools, profileToYaml } = await import("../evolve/questioning/index.js");
    registerBuiltinEnvironments();
    const env = await openEnvironment({ type: values.env, path: values["env-path"], options: envOptions });
    try {
      const tools = await environmentTools(env, numberOption("tasks", values.tasks, 24));
      const loaded = await createPolicyModel(values.model, { baseUrl: values["base-url"], mode: "chat", concurrency: 1 });
      try {
        if (loaded.model.kind !== "chat") throw new EvolverError("CLI_USAGE", `${values.model} cannot serve as a chat model`);
        process.stderr.write(`drafting a profile of ${env.name} from ${tools.length} function(s) with ${loaded.model.provider.id}…\n`);
        const drafted = await draftProfile({
          env, provider: loaded.model.provider, tools,
          maxAttempts: numberOption("attempts", values.attempts, 3),
          maxTokens: numberOption("max-tokens", values["max-tokens"], 4096),
          temperature: numberOption("temperature", values.temperature, 0.2),
          seed: values.seed === undefined ? undefined : numberOption("seed", values.seed, 0),
        });
        const header = [
          `# Drafted by ${loaded.model.provider.id} from the ${tools.length} functions of ${env.name}: review it before use.`,
          `# Give it to a run with questioning.profile: ${values.out}, or to evolver tasks synthesize --profile ${values.out}.`,
          ...(drafted.uncovered.length > 0 ? [`# Functions no entity lists: ${drafted.uncovered.join(", ")}`] : []),
        ];
        writeFileSync(values.out, `${header.join("\n")}\n${profileToYaml(drafted.profile)}`);
        const operations = drafted.profile.entities.reduce((sum, e) => sum + e.operations.length, 0);
        console.log(`${values.out}: ${drafted.profile.entities.length} entities, ${operations} operations (${drafted.profile.entities.flatMap((e) => e.operations).filter((op) => op.template).length} with a template), ${drafted.uncovered.length} of ${tools.length} functions not covered; ${drafted.attempts} attempt(s), ${drafted.invalid} invalid`);
        return 0;
      } finally {
        await loaded.close();
      }
    } finally {
      await env.close?.();
    }
  },
};
