// `evolver tasks synthesize`: one self-questioning round outside an evolve run, into a pool of a run store, with a
// line per stage on stderr and the counts per stage at the end.
import { EvolverError } from "../core/errors.js";
import { registerBuiltinEnvironments } from "../env/index.js";
import { roundLine, synthesizeIntoPool } from "../recipe/index.js";
import type { Command } from "./command.js";
import { numberOption, parseOptions } from "./command.js";

const usage =
  "evolver tasks synthesize --env NAME|module [--env-path FILE.mjs] [--env-options JSON] --explorer SPEC [--synthesizer hindsight|llm] " +
  "[--synthesizer-model SPEC] --n N [--store .evolver/runs.db] [--pool NAME] [--profile P.yaml] [--entities A,B] [--max-steps 8] " +
  "[--temperature 1.2] [--seed S] [--embedder use-lite|openai:<model>|none] [--base-url URL] [--mode chat|tokens] [--judge-model SPEC] [--judge-threshold 60] [--json]\n" +
  "  --n: explorations per profile entity; SPEC: openai:<model>, a .gguf path or hf:<user>/<repo>[:quant]\n" +
  "  --judge-model: for an environment that grades only its own tasks (a remote service): synthetic tasks run in its training tasks, graded by this model";

const flags = {
  env: { type: "string" }, "env-path": { type: "string" }, "env-options": { type: "string" }, explorer: { type: "string" },
  synthesizer: { type: "string", default: "hindsight" }, "synthesizer-model": { type: "string" }, n: { type: "string" },
  store: { type: "string", default: ".evolver/runs.db" }, pool: { type: "string" }, profile: { type: "string" }, entities: { type: "string" },
  "max-steps": { type: "string" }, "max-tokens": { type: "string" }, temperature: { type: "string" }, seed: { type: "string" },
  embedder: { type: "string", default: "use-lite" }, "judge-model": { type: "string" }, "judge-threshold": { type: "string" }, "base-url": { type: "string" }, mode: { type: "string", default: "chat" }, json: { type: "boolean", default: false },
} as const;

export const tasksSynthesizeCommand: Command = {
  usage,
  async run(argv) {
    const { values } = parseOptions(argv, flags, usage);
    if (!values.env || !values.explorer || values.n === undefined) throw new EvolverError("CLI_USAGE", `--env, --explorer and --n are required\nusage: ${usage}`);
    if (values.synthesizer !== "hindsight" && values.synthesizer !== "llm") throw new EvolverError("CLI_USAGE", `--synthesizer must be hindsight or llm, got '${values.synthesizer}'`);
    if (values.mode !== "chat" && values.mode !== "tokens") throw new EvolverError("CLI_USAGE", `--mode must be chat or tokens, got '${values.mode}'`);
    let envOptions: Record<string, unknown> = {};
    try {
      envOptions = values["env-options"] ? (JSON.parse(values["env-options"]) as Record<string, unknown>) : {};
    } catch (error) {
      throw new EvolverError("CLI_USAGE", `--env-options is not JSON: ${(error as Error).message}`);
    }
    registerBuiltinEnvironments();
    let last = "";
    const { round, report } = await synthesizeIntoPool({
      env: { type: values.env, path: values["env-path"], options: envOptions },
      explorer: values.explorer, explorerMode: values.mode, baseUrl: values["base-url"],
      synthesizer: values.synthesizer, synthesizerModel: values["synthesizer-model"],
      n: numberOption("n", values.n, 1), entities: values.entities?.split(",").map((e) => e.trim()).filter(Boolean), profile: values.profile,
      maxSteps: values["max-steps"] === undefined ? undefined : numberOption("max-steps", values["max-steps"], 8),
      maxTokens: values["max-tokens"] === undefined ? undefined : numberOption("max-tokens", values["max-tokens"], 512),
      temperature: values.temperature === undefined ? undefined : numberOption("temperature", values.temperature, 1.2),
      seed: numberOption("seed", values.seed, 0), embedder: values.embedder,
      judgeModel: values["judge-model"], judgeThreshold: numberOption("judge-threshold", values["judge-threshold"], 60),
      storePath: values.store!, pool: values.pool ?? values.env,
      onProgress: (stage, done, total) => {
        const line = `${stage} ${done}/${total}`;
        if (line === last) return;
        last = line;
        if (process.stderr.isTTY) process.stderr.write(`\r${line}   `);
        else if (done === total) process.stderr.write(`${line}\n`);
      },
    });
    if (process.stderr.isTTY) process.stderr.write("\n");
    if (values.json) {
      const { explorations: _explorations, candidates, ...summary } = report;
      console.log(JSON.stringify({ pool: values.pool ?? values.env, round, ...summary, accepted: candidates.filter((c) => c.status === "accepted").map((c) => c.id) }, null, 2));
      return 0;
    }
    console.log(roundLine(report));
    const { diversity } = report;
    console.log(`diversity: operations ${diversity.operations.used.length}/${diversity.operations.of}, entities ${diversity.entities.used.length}/${diversity.entities.of}, query spread ${diversity.querySpread.toFixed(2)}, ${diversity.distinctWords} distinct words`);
    console.log(`round ${round} → pool '${values.pool ?? values.env}' of ${values.store} (evolver tasks list --store ${values.store} --pool ${values.pool ?? values.env})`);
    return 0;
  },
};
