// `evolver tasks list|show|export`: the synthetic tasks of a pool in a run store (an evolve run's pool is its run id).
// export writes JSON Lines, or for bfcl-v3 tasks BFCL's own question and possible-answer files.
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { EvolverError } from "../core/errors.js";
import { bfclTaskLines } from "../env/index.js";
import { RunStore, TaskPool, type SyntheticTaskRecord } from "../store/index.js";
import type { Command } from "./command.js";
import { parseOptions } from "./command.js";

const usage =
  "evolver tasks list [--store .evolver/runs.db] [--pool NAME] [--status accepted|rejected|duplicate] [--json]\n" +
  "   or: evolver tasks show ID [--store S] [--pool NAME]\n" +
  "   or: evolver tasks export --out PATH [--store S] [--pool NAME] [--format jsonl|bfcl] [--status accepted]\n" +
  "  (--format bfcl: PATH is a folder; BFCL_v3_multi_turn_synthetic.json and possible_answer/ in BFCL's line format)";

const flags = {
  store: { type: "string", default: ".evolver/runs.db" }, pool: { type: "string" }, status: { type: "string" }, json: { type: "boolean", default: false },
  out: { type: "string" }, format: { type: "string", default: "jsonl" },
} as const;

function pickPool(taskPool: TaskPool, pool: string | undefined): string {
  const pools = taskPool.pools();
  if (pool !== undefined) {
    if (!pools.includes(pool)) throw new EvolverError("CLI_USAGE", `no task pool '${pool}'; pools: ${pools.join(", ") || "none"}`);
    return pool;
  }
  if (pools.length === 1) return pools[0];
  throw new EvolverError("CLI_USAGE", pools.length === 0 ? "the store has no synthetic tasks (evolver tasks synthesize makes some)" : `name a pool with --pool: ${pools.join(", ")}`);
}

function status(value: string | undefined): SyntheticTaskRecord["status"] | undefined {
  if (value === undefined || value === "accepted" || value === "rejected" || value === "duplicate") return value;
  throw new EvolverError("CLI_USAGE", `--status must be accepted, rejected or duplicate, got '${value}'`);
}

export const tasksCommand: Command = {
  usage,
  async run(argv) {
    const { values, positionals } = parseOptions(argv, flags, usage, true);
    const [action, id] = positionals;
    if (!["list", "show", "export"].includes(action ?? "") || (action === "show" && !id)) throw new EvolverError("CLI_USAGE", `usage: ${usage}`);
    if (!existsSync(values.store!)) throw new EvolverError("STORE_NOT_FOUND", `no run store at ${values.store}`);
    const store = new RunStore(values.store!);
    try {
      const taskPool = new TaskPool(store.db);
      const pool = pickPool(taskPool, values.pool);
      if (action === "show") {
        const task = taskPool.get(pool, id);
        if (!task) throw new EvolverError("CLI_USAGE", `pool '${pool}' has no task '${id}'`);
        const exploration = taskPool.exploration(pool, task.explorationId);
        console.log(JSON.stringify({ ...task, exploration: exploration && { id: exploration.id, entity: exploration.entity, steps: exploration.steps.length, novel: exploration.novel } }, null, 2));
        return 0;
      }
      const tasks = taskPool.list(pool, { status: action === "export" ? (status(values.status) ?? "accepted") : status(values.status) });
      if (action === "list") {
        if (values.json) console.log(JSON.stringify(tasks, null, 2));
        else for (const t of tasks) console.log(`${t.id}  ${t.status.padEnd(9)} ${(t.reason ?? "").padEnd(19)} ${t.synthesizer.padEnd(10)} ${t.spec.turns.join(" / ").slice(0, 100)}`);
        if (!values.json) console.log(`${tasks.length} task(s) in pool '${pool}'`);
        return 0;
      }
      if (!values.out) throw new EvolverError("CLI_USAGE", `export needs --out\nusage: ${usage}`);
      if (values.format === "jsonl") {
        writeFileSync(values.out, tasks.map((t) => JSON.stringify(t)).join("\n") + (tasks.length > 0 ? "\n" : ""));
      } else if (values.format === "bfcl") {
        const foreign = tasks.find((t) => t.env !== "bfcl-v3");
        if (foreign) throw new EvolverError("CLI_USAGE", `--format bfcl is for bfcl-v3 tasks; ${foreign.id} is of ${foreign.env}`);
        const lines = tasks.map((t, i) => bfclTaskLines(`multi_turn_synthetic_${i}`, t.spec));
        mkdirSync(join(values.out, "possible_answer"), { recursive: true });
        writeFileSync(join(values.out, "BFCL_v3_multi_turn_synthetic.json"), lines.map((l) => `${l.question}\n`).join(""));
        writeFileSync(join(values.out, "possible_answer", "BFCL_v3_multi_turn_synthetic.json"), lines.map((l) => `${l.answer}\n`).join(""));
      } else throw new EvolverError("CLI_USAGE", `--format must be jsonl or bfcl, got '${values.format}'`);
      console.log(`${tasks.length} task(s) of pool '${pool}' → ${values.out}`);
      return 0;
    } finally {
      store.close();
    }
  },
};
