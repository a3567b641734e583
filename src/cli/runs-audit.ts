import { EvolverError } from "../core/errors.js";
import { renderAuditMarkdown } from "../evolve/attributing/index.js";
import { auditRun } from "../recipe/index.js";
import type { Command } from "./command.js";
import { numberOption, parseOptions } from "./command.js";
import { openStoreForReading } from "./runs.js";

const usage = "evolver runs audit RUN [--store .evolver/runs.db] [--format md|jsonl] [--iteration N]";

export const runsAuditCommand: Command = {
  usage,
  async run(argv) {
    const { values, positionals } = parseOptions(
      argv,
      { store: { type: "string", default: ".evolver/runs.db" }, format: { type: "string", default: "md" }, iteration: { type: "string" } },
      usage,
      true,
    );
    if (positionals.length !== 1) throw new EvolverError("CLI_USAGE", `name one run\nusage: ${usage}`);
    if (values.format !== "md" && values.format !== "jsonl") throw new EvolverError("CLI_USAGE", `--format is md or jsonl, got '${values.format}'`);
    const iteration = values.iteration === undefined ? undefined : numberOption("iteration", values.iteration, 0);
    const store = openStoreForReading(values.store!);
    try {
      let count = 0;
      for (const entry of auditRun(store, positionals[0], { iteration })) {
        if (values.format === "jsonl") console.log(JSON.stringify(entry));
        else console.log(`${count > 0 ? "\n" : ""}<!-- iteration ${entry.iteration} -->\n${renderAuditMarkdown(entry)}`);
        count += 1;
      }
      if (count === 0) console.error(`run ${positionals[0]} has no judged trajectories${iteration === undefined ? "" : ` in iteration ${iteration}`} (attribution off, or no iteration got that far)`);
      return 0;
    } finally {
      store.close();
    }
  },
};
