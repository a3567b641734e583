// `evolver eval`: avg@k / best@k / per-turn accuracy of a model on an environment's split, as a table and JSON; or,
// with --run, of a run's weights after one of its iterations, evaluated exactly as the run's own evaluation does.
import { writeFileSync } from "node:fs";
import { checkContextFits, createContextStrategy, createPolicyModel, createProgressReporter, createToolFormat, evaluateAgent, everyRolloutErrored, formatEvalTable, JsonlWriter, type EvalReport } from "../agent/index.js";
import { EvolverError } from "../core/errors.js";
import { openEnvironment, registerBuiltinEnvironments, Split } from "../env/index.js";
import { DEFAULT_EMBEDDER, EmbedderSpec } from "../llm/index.js";
import { evaluateRun } from "../recipe/index.js";
import type { Command } from "./command.js";
import { numberOption, parseOptions } from "./command.js";

const usage =
  "evolver eval --env NAME|module [--env-path FILE.mjs] --model SPEC [--split test] [--k 8] [--tasks N] [--seed S] [--out results.json] " +
  "[--concurrency 16] [--max-steps 30] [--max-tokens 1024] [--temperature T] [--timeout MS] [--format native|hermes|bfcl] " +
  "[--context linear|linear-no-thinking|sliding-window:N|self-context-clip|tool-retrieval:K] [--tool-embedder use-lite|openai:<model>] [--base-url URL] [--mode chat|tokens] [--context-size N] " +
  "[--env-options JSON] [--trajectories FILE.jsonl]\n" +
  "   or: evolver eval --run RUN [--iteration=N] [--store .evolver/runs.db] [--out results.json] [--trajectories FILE.jsonl]\n" +
  "       (a run's weights after iteration N, default its last, evaluated as the run's own evaluation does)\n" +
  "  SPEC: openai:<model> (OPENAI_BASE_URL / OPENAI_API_KEY or --base-url), a .gguf path, or hf:<user>/<repo>[:quant] (embedded; " +
  "--context-size defaults to the model file's context length)";

const flags = {
  env: { type: "string" }, "env-path": { type: "string" }, model: { type: "string" }, split: { type: "string", default: "test" },
  k: { type: "string" }, tasks: { type: "string" }, seed: { type: "string" }, out: { type: "string" }, concurrency: { type: "string" },
  "max-steps": { type: "string" }, "max-tokens": { type: "string" }, temperature: { type: "string" }, timeout: { type: "string" },
  format: { type: "string", default: "native" }, context: { type: "string", default: "linear" }, "base-url": { type: "string" },
  mode: { type: "string", default: "chat" }, "context-size": { type: "string" }, "env-options": { type: "string" }, trajectories: { type: "string" },
  run: { type: "string" }, iteration: { type: "string" }, store: { type: "string" }, "tool-embedder": { type: "string" },
} as const;

export const evalCommand: Command = {
  usage,
  async run(argv) {
    const { values } = parseOptions(argv, flags, usage);
    let report: EvalReport;
    if (values.run) {
      const iteration = values.iteration === undefined ? undefined : numberOption("iteration", values.iteration, 0);
      const trajectories = values.trajectories ? JsonlWriter.open(values.trajectories, { append: false }) : undefined;
      try {
        ({ report } = await evaluateRun({
          runId: values.run, storePath: values.store, iteration,
          onTrajectory: trajectories && ((trajectory) => trajectories.write(trajectory)),
          onEvent: createProgressReporter({ label: `eval ${values.run}` }).handle,
        }));
      } finally {
        await trajectories?.close();
      }
    } else {
      if (!values.env || !values.model) throw new EvolverError("CLI_USAGE", `--env and --model are required (or --run)\nusage: ${usage}`);
      const split = Split.safeParse(values.split);
      if (!split.success) throw new EvolverError("CLI_USAGE", `--split must be one of ${Split.options.join(", ")}, got '${values.split}'`);
      let envOptions: Record<string, unknown> = {};
      try {
        envOptions = values["env-options"] ? (JSON.parse(values["env-options"]) as Record<string, unknown>) : {};
      } catch (error) {
        throw new EvolverError("CLI_USAGE", `--env-options is not JSON: ${(error as Error).message}`);
      }
      const concurrency = numberOption("concurrency", values.concurrency, 16);
      if (values.mode !== "chat" && values.mode !== "tokens") throw new EvolverError("CLI_USAGE", `--mode must be chat or tokens, got '${values.mode}'`);
      const toolFormat = createToolFormat(values.format!);
      const toolEmbedder = values["tool-embedder"];
      if (toolEmbedder !== undefined) {
        const spec = EmbedderSpec.safeParse(toolEmbedder);
        if (!spec.success) throw new EvolverError("CLI_USAGE", `--tool-embedder: ${spec.error.issues[0].message}, got '${toolEmbedder}'`);
        if (!values.context!.startsWith("tool-retrieval")) throw new EvolverError("CLI_USAGE", `--tool-embedder is read only by --context tool-retrieval:K, not ${values.context}`);
      }
      const context = createContextStrategy(values.context!, { toolRetrieval: { embedderSpec: { spec: toolEmbedder ?? DEFAULT_EMBEDDER } } });
      registerBuiltinEnvironments();
      const env = await openEnvironment({ type: values.env, path: values["env-path"], options: envOptions });
      try {
        checkContextFits(context, toolFormat, env);
      } catch (error) {
        await env.close?.();
        throw error;
      }
      const contextSize = values["context-size"] === undefined ? undefined : numberOption("context-size", values["context-size"], 0);
      const model = await createPolicyModel(values.model, { baseUrl: values["base-url"], mode: values.mode, concurrency, contextSize }).catch(async (error) => {
        await env.close?.();
        throw error;
      });
      const trajectories = values.trajectories ? JsonlWriter.open(values.trajectories, { append: false }) : undefined;
      try {
        report = await evaluateAgent({
          env, model: model.model, split: split.data, k: numberOption("k", values.k, 8),
          tasks: values.tasks === undefined ? undefined : numberOption("tasks", values.tasks, 0),
          seed: numberOption("seed", values.seed, 0), concurrency, toolFormat, context,
          maxSteps: numberOption("max-steps", values["max-steps"], 30),
          maxTokensPerCall: numberOption("max-tokens", values["max-tokens"], 1024),
          contextLimitTokens: model.contextTokens,
          temperature: values.temperature === undefined ? undefined : numberOption("temperature", values.temperature, 0),
          callTimeoutMs: values.timeout === undefined ? undefined : numberOption("timeout", values.timeout, 0),
          onTrajectory: trajectories && ((trajectory) => trajectories.write(trajectory)),
          onEvent: createProgressReporter({ label: `eval ${values.env}` }).handle,
        });
      } finally {
        await trajectories?.close();
        await model.close();
        await env.close?.();
      }
    }
    console.log(formatEvalTable(report));
    if (values.out) {
      writeFileSync(values.out, `${JSON.stringify(report, null, 2)}\n`);
      console.log(`results -> ${values.out}`);
    }
    // Not a score of 0: nothing was measured, and the first error says why.
    if (everyRolloutErrored(report)) {
      throw new EvolverError("EVAL_ALL_ERRORED", `every rollout errored (${report.overall.rollouts} of ${report.overall.rollouts}); the first: ${report.firstError}`);
    }
    return 0;
  },
};
