// `evolver eval`: avg@k / best@k / per-turn accuracy of a model on an environment's split, as a table and JSON.
import { writeFileSync } from "node:fs";
import { createContextStrategy, createPolicyModel, createProgressReporter, createToolFormat, evaluateAgent, formatEvalTable, JsonlWriter } from "../agent/index.js";
import { EvolverError } from "../core/errors.js";
import { createEnvironment, registerBuiltinEnvironments, Split } from "../env/index.js";
import type { Command } from "./command.js";
import { numberOption, parseOptions } from "./command.js";

const usage =
  "evolver eval --env NAME --model SPEC [--split test] [--k 8] [--tasks N] [--seed S] [--out results.json] " +
  "[--concurrency 16] [--max-steps 30] [--max-tokens 1024] [--temperature T] [--timeout MS] [--format native|hermes|bfcl] " +
  "[--context linear|linear-no-thinking|sliding-window:N|self-context-clip] [--base-url URL] [--mode chat|tokens] " +
  "[--env-options JSON] [--trajectories FILE.jsonl]\n" +
  "  SPEC: openai:<model> (OPENAI_BASE_URL / OPENAI_API_KEY or --base-url), a .gguf path, or hf:<user>/<repo>[:quant] (embedded)";

export const evalCommand: Command = {
  path: ["eval"],
  summary: "evaluate a model on an environment: avg@k, best@k and per-turn accuracy per category",
  usage,
  async run(argv) {
    const { values } = parseOptions(
      argv,
      {
        env: { type: "string" },
        model: { type: "string" },
        split: { type: "string", default: "test" },
        k: { type: "string" },
        tasks: { type: "string" },
        seed: { type: "string" },
        out: { type: "string" },
        concurrency: { type: "string" },
        "max-steps": { type: "string" },
        "max-tokens": { type: "string" },
        temperature: { type: "string" },
        timeout: { type: "string" },
        format: { type: "string", default: "native" },
        context: { type: "string", default: "linear" },
        "base-url": { type: "string" },
        mode: { type: "string", default: "chat" },
        "env-options": { type: "string" },
        trajectories: { type: "string" },
      },
      usage,
    );
    if (!values.env || !values.model) throw new EvolverError("CLI_USAGE", `--env and --model are required\nusage: ${usage}`);
    const split = Split.safeParse(values.split);
    if (!split.success) throw new EvolverError("CLI_USAGE", `--split must be one of ${Split.options.join(", ")}, got '${values.split}'`);
    let envOptions: Record<string, unknown> = {};
    try {
      envOptions = values["env-options"] ? (JSON.parse(values["env-options"]) as Record<string, unknown>) : {};
    } catch (error) {
      throw new EvolverError("CLI_USAGE", `--env-options is not JSON: ${(error as Error).message}`);
    }
    const temperature = values.temperature === undefined ? undefined : numberOption("temperature", values.temperature, 0);
    const timeout = values.timeout === undefined ? undefined : numberOption("timeout", values.timeout, 0);
    const toolFormat = createToolFormat(values.format!);
    const context = createContextStrategy(values.context!);
    const concurrency = numberOption("concurrency", values.concurrency, 16);
    if (values.mode !== "chat" && values.mode !== "tokens") throw new EvolverError("CLI_USAGE", `--mode must be chat or tokens, got '${values.mode}'`);

    registerBuiltinEnvironments();
    const env = await createEnvironment(values.env, envOptions);
    const model = await createPolicyModel(values.model, { baseUrl: values["base-url"], mode: values.mode, concurrency });
    const trajectories = values.trajectories ? JsonlWriter.open(values.trajectories, { append: false }) : undefined;
    try {
      const report = await evaluateAgent({
        env,
        model: model.model,
        split: split.data,
        k: numberOption("k", values.k, 8),
        tasks: values.tasks === undefined ? undefined : numberOption("tasks", values.tasks, 0),
        seed: numberOption("seed", values.seed, 0),
        concurrency,
        maxSteps: numberOption("max-steps", values["max-steps"], 30),
        maxTokensPerCall: numberOption("max-tokens", values["max-tokens"], 1024),
        contextLimitTokens: model.contextTokens,
        temperature,
        callTimeoutMs: timeout,
        toolFormat,
        context,
        output: trajectories,
        onEvent: createProgressReporter({ label: `eval ${values.env}` }).handle,
      });
      console.log(formatEvalTable(report));
      if (values.out) {
        writeFileSync(values.out, `${JSON.stringify(report, null, 2)}\n`);
        console.log(`results -> ${values.out}`);
      }
      return 0;
    } finally {
      await trajectories?.close();
      await model.close();
      await env.close?.();
    }
  },
};
