import { existsSync } from "node:fs";
import { RunStore } from "../store/index.js";
import { EvolverError } from "../core/errors.js";
import type { Command } from "./command.js";
import { parseOptions } from "./command.js";

const usage = "evolver runs [--store .evolver/runs.db] [--json]   (and: runs show RUN, runs audit RUN)";

/** Opens a store for reading: nothing is created or written, and a missing store is named (a mistyped --store). */
export function openStoreForReading(path: string): RunStore {
  if (!existsSync(path)) throw new EvolverError("STORE_NOT_FOUND", `no run store at ${path} (evolver evolve creates one; --store names another)`);
  return new RunStore(path, { readonly: true });
}

export const runsCommand: Command = {
  usage,
  async run(argv) {
    const { values, positionals } = parseOptions(argv, { store: { type: "string", default: ".evolver/runs.db" }, json: { type: "boolean", default: false } }, usage, true);
    if (positionals.length > 0) throw new EvolverError("CLI_USAGE", `unknown runs subcommand '${positionals[0]}'\nusage: ${usage}`);
    const store = openStoreForReading(values.store!);
    try {
      const runs = store.listRuns();
      // A run stored as running whose process is gone (killed, crashed) shows as interrupted.
      if (values.json) {
        console.log(JSON.stringify(runs.map((r) => ({ ...r, status: store.effectiveStatus(r.id), iterations: store.lastCompletedIteration(r.id) + 1 })), null, 2));
        return 0;
      }
      if (runs.length === 0) console.log(`no runs in ${values.store}`);
      for (const r of runs) {
        console.log(`${r.id}  ${store.effectiveStatus(r.id).padEnd(11)} ${String(store.lastCompletedIteration(r.id) + 1).padStart(4)} it  ${r.createdAt.slice(0, 19)}  ${r.name}`);
      }
      return 0;
    } finally {
      store.close();
    }
  },
};
