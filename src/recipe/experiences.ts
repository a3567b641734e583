// The experience pool from outside a run (`evolver experiences`): which file a run's pool is, listing with usage,
// and export/import as JSON lines. An export carries each experience's text, origin and provenance, never vectors:
// an import embeds with the pool's own embedder, so the pools of two embedders never mix.
import { existsSync } from "node:fs";
import { z } from "zod";
import { EvolverError } from "../core/errors.js";
import { ExperienceOrigin, usageLift, type Experience, type ExperienceUsage } from "../evolve/navigating/index.js";
import { createEmbedder } from "../llm/index.js";
import { RunStore, SqliteExperiencePool } from "../store/index.js";
import { parseConfig } from "./config.js";
import { poolPath } from "./navigating-stage.js";

/** --pool PATH, or the pool of run RUN in the store at `store`. */
export function resolvePoolPath(options: { pool?: string; run?: string; store?: string }): string {
  if (options.pool) return options.pool;
  if (!options.run) throw new EvolverError("CLI_USAGE", "name a pool (--pool PATH) or a run (--run RUN)");
  const storePath = options.store ?? ".evolver/runs.db";
  if (!existsSync(storePath)) throw new EvolverError("STORE_NOT_FOUND", `no run store at ${storePath}`, { details: { path: storePath } });
  const store = new RunStore(storePath, { create: false });
  try {
    const run = store.getRun(options.run);
    const config = parseConfig(run.config, `the stored config of ${run.id}`);
    if (!config.navigating.enabled) throw new EvolverError("EXPERIENCE_POOL_NOT_FOUND", `run ${run.id} ran without an experience pool (navigating.enabled: false)`);
    return poolPath(config, run.id);
  } finally {
    store.close();
  }
}

export interface ListedExperience extends Experience {
  usage?: ExperienceUsage;
  /** Success with it minus success of comparable rollouts without it. */
  lift?: number;
}

export function listExperiences(pool: SqliteExperiencePool, options: { all?: boolean } = {}): ListedExperience[] {
  const usage = new Map(pool.usage().map((u) => [u.experienceId, u]));
  return pool.list({ status: options.all ? "all" : "active" }).map((e) => {
    const u = usage.get(e.id);
    const lift = u ? usageLift(u) : undefined;
    return { ...e, ...(u ? { usage: u } : {}), ...(lift === undefined ? {} : { lift }) };
  });
}

/** One line of an export. */
export const ExportedExperience = z.object({
  when_to_use: z.string().min(1),
  content: z.string().min(1),
  origin: ExperienceOrigin,
  extractor: z.string().default("import"),
  source_trajectories: z.array(z.string()).default([]),
  source_tasks: z.array(z.string()).default([]),
  run_id: z.string().nullable().default(null),
  iteration: z.number().int().nullable().default(null),
  status: z.string().optional(),
});

export function exportExperiences(pool: SqliteExperiencePool, options: { all?: boolean } = {}): string {
  return pool
    .list({ status: options.all ? "all" : "active" })
    .map((e) =>
      JSON.stringify({
        id: e.id, when_to_use: e.whenToUse, content: e.content, origin: e.origin, extractor: e.extractor, source_trajectories: e.sourceTrajectories,
        source_tasks: e.sourceTasks, run_id: e.runId, iteration: e.iteration, status: e.status, note: e.note, merges: e.merges,
      }),
    )
    .map((line) => `${line}\n`)
    .join("");
}

/**
 * Adds the active experiences of an export to the pool at `path` (created with `embedder` when new; an existing
 * pool embeds with its own). Lines already in the pool (same when_to_use and content) are passed over; a line that
 * is not a valid experience stops the import before anything is added, naming the line.
 */
export async function importExperiences(path: string, text: string, options: { embedder?: string; embedderBaseUrl?: string } = {}): Promise<{ added: number; skipped: number }> {
  const items: z.infer<typeof ExportedExperience>[] = [];
  text.split("\n").forEach((line, index) => {
    if (line.trim() === "") return;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      throw new EvolverError("EXPERIENCE_IMPORT", `line ${index + 1} is not JSON`);
    }
    const parsed = ExportedExperience.safeParse(json);
    if (!parsed.success) throw new EvolverError("EXPERIENCE_IMPORT", `line ${index + 1} is not an experience: ${z.prettifyError(parsed.error)}`);
    if (parsed.data.status === undefined || parsed.data.status === "active") items.push(parsed.data);
  });
  let existing: string | undefined;
  if (existsSync(path)) {
    const probe = SqliteExperiencePool.open(path);
    existing = probe.embedderId || undefined;
    probe.close();
  }
  const embedder = await createEmbedder(existing ?? options.embedder ?? "use-lite", { baseUrl: options.embedderBaseUrl });
  try {
    const pool = SqliteExperiencePool.open(path, { embedder });
    try {
      const have = new Set(pool.list().map((e) => `${e.whenToUse}\u0000${e.content}`));
      const fresh = items.filter((item) => !have.has(`${item.when_to_use}\u0000${item.content}`));
      const vectors = fresh.length > 0 ? await embedder.embed(fresh.map((item) => item.when_to_use)) : [];
      pool.transaction(() => {
        fresh.forEach((item, i) => {
          pool.add(
            [{
              experience: { whenToUse: item.when_to_use, content: item.content, origin: item.origin, extractor: item.extractor, sourceTrajectories: item.source_trajectories, sourceTasks: item.source_tasks },
              vector: vectors[i],
            }],
            { runId: item.run_id, iteration: item.iteration },
          );
        });
      });
      return { added: fresh.length, skipped: items.length - fresh.length };
    } finally {
      pool.close();
    }
  } finally {
    await embedder.close?.();
  }
}
