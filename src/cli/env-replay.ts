// `evolver env replay`: re-executes BFCL entries' calls with our backends and writes BFCL's vector format.
import { EvolverError } from "../core/errors.js";
// The replay code alone, not the env barrel, and from its built bundle where there is one: one process per category
// replays in well under a second, so loading (the registry, the service, zod; compiling every function) would be
// much of it.
import { loadReplay } from "../env/bfcl/replay-bundle.js";
import type { Command } from "./command.js";
import { parseOptions } from "./command.js";

const usage = "evolver env replay --env bfcl-v3 --vectors IN.jsonl --out OUT.jsonl [--data DIR] [--check]";

export const envReplayCommand: Command = {
  usage,
  async run(argv) {
    const { values } = parseOptions(
      argv,
      {
        env: { type: "string", default: "bfcl-v3" },
        vectors: { type: "string" },
        out: { type: "string" },
        data: { type: "string" },
        check: { type: "boolean", default: false },
      },
      usage,
    );
    if (values.env !== "bfcl-v3") throw new EvolverError("CLI_USAGE", `env replay supports --env bfcl-v3 only, got '${values.env}'`);
    if (!values.vectors || !values.out) throw new EvolverError("CLI_USAGE", `--vectors and --out are required\nusage: ${usage}`);
    const started = performance.now();
    const { replayVectorFile } = await loadReplay();
    const result = replayVectorFile(values.vectors, values.out, { dataDir: values.data });
    const seconds = (performance.now() - started) / 1000;
    console.log(`replayed ${result.entries} entries (${result.calls} calls) in ${seconds.toFixed(2)} s -> ${values.out}`);
    if (result.mismatches.length > 0) {
      console.log(`${result.mismatches.length} entries differ from the input's results or states; first:\n${result.mismatches[0].message}`);
    }
    return values.check && result.mismatches.length > 0 ? 1 : 0;
  },
};
