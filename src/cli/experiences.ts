// `evolver experiences list|show|export|import`: the experience pool of a run (--run RUN [--store]) or a shared
// pool file (--pool PATH).
import { readFileSync, writeFileSync } from "node:fs";
import { EvolverError } from "../core/errors.js";
import { exportExperiences, importExperiences, listExperiences, resolvePoolPath, type ListedExperience } from "../recipe/index.js";
import { SqliteExperiencePool } from "../store/index.js";
import type { Command } from "./command.js";
import { parseOptions } from "./command.js";

const usage =
  "evolver experiences list|show ID|export [--out FILE.jsonl]|import FILE.jsonl  (--pool PATH | --run RUN [--store .evolver/runs.db]) [--all] [--json] [--embedder use-lite]";

export const experiencesCommand: Command = {
  usage,
  async run(argv) {
    const { values, positionals } = parseOptions(
      argv,
      {
        pool: { type: "string" }, run: { type: "string" }, store: { type: "string" }, all: { type: "boolean", default: false },
        json: { type: "boolean", default: false }, out: { type: "string" }, embedder: { type: "string" },
      },
      usage,
      true,
    );
    const [action, argument] = positionals;
    const path = resolvePoolPath({ pool: values.pool, run: values.run, store: values.store });
    if (action === "import") {
      if (!argument) throw new EvolverError("CLI_USAGE", `import needs the file to read\nusage: ${usage}`);
      const { added, skipped } = await importExperiences(path, readFileSync(argument, "utf8"), { embedder: values.embedder });
      console.log(`imported ${added} experience(s) into ${path}${skipped > 0 ? ` (${skipped} already there)` : ""}`);
      return 0;
    }
    const pool = SqliteExperiencePool.open(path, { mustExist: true });
    try {
      if (action === "list") return list(listExperiences(pool, { all: values.all }), values.json!, path);
      if (action === "show" && argument) {
        const id = Number(argument);
        const found = listExperiences(pool, { all: true }).find((e) => e.id === id);
        if (!found) pool.get(id); // says which id is missing, and where
        console.log(JSON.stringify(found, null, 2));
        return 0;
      }
      if (action === "export") {
        const text = exportExperiences(pool, { all: values.all });
        if (values.out) {
          writeFileSync(values.out, text);
          console.log(`exported ${text.split("\n").filter(Boolean).length} experience(s) to ${values.out}`);
        } else {
          process.stdout.write(text);
        }
        return 0;
      }
      console.error(`usage: ${usage}`);
      return 2;
    } finally {
      pool.close();
    }
  },
};

function list(experiences: ListedExperience[], json: boolean, path: string): number {
  if (json) {
    console.log(JSON.stringify(experiences, null, 2));
    return 0;
  }
  if (experiences.length === 0) console.log(`no experiences in ${path}`);
  for (const e of experiences) {
    const used = e.usage ? `used ${e.usage.guided} (${e.usage.guidedSuccesses} ok) vs ${e.usage.unguided} without (${e.usage.unguidedSuccesses} ok)` : "unused";
    const lift = e.lift === undefined ? "" : ` lift ${e.lift >= 0 ? "+" : ""}${e.lift.toFixed(2)}`;
    console.log(`#${e.id} ${e.status} ${e.origin} it ${e.iteration ?? "-"}  ${used}${lift}\n  when ${e.whenToUse}: ${e.content}`);
  }
  return 0;
}
