// Self-questioning's task pool, in the run store: every exploration and every candidate task of every synthesis
// round, accepted or not, with its provenance (the exploration that produced it, the synthesizer), status and
// reason. A pool is named: an evolve run's pool is its run id; `evolver tasks synthesize` names its own (--pool).
// Only synthetic tasks live here: held-out tasks are refused before they are written (pipeline.ts).
import type { Database } from "better-sqlite3";
import { Candidate, type Exploration, type SynthesisReport } from "../evolve/questioning/index.js";

export interface SyntheticTaskRecord extends Candidate {
  pool: string;
  round: string;
  createdAt: string;
}

/** A round's counts and reports, without its explorations and candidates (stored in their own rows). */
export type StoredRound = Omit<SynthesisReport, "explorations" | "candidates">;

export class TaskPool {
  constructor(private readonly db: Database) {}

  /** A whole round in one transaction: a round is in the pool entirely or not at all. */
  saveRound(pool: string, round: string, report: SynthesisReport): void {
    const now = new Date().toISOString();
    const exploration = this.db.prepare(
      "INSERT OR IGNORE INTO explorations (pool, id, round, env, entity, novel, error, body_json, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    );
    // The same task found twice keeps its first record (ids are hashes of the spec).
    const task = this.db.prepare(
      "INSERT OR IGNORE INTO synthetic_tasks (pool, id, round, env, exploration_id, synthesizer, status, reason, detail, check_text, spec_json, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    );
    const { explorations, candidates, ...summary } = report;
    this.db.transaction(() => {
      for (const e of explorations) exploration.run(pool, e.id, round, e.env, e.entity, e.novel, e.error ?? null, JSON.stringify(e), now);
      for (const c of candidates) {
        task.run(pool, c.id, round, c.env, c.explorationId, c.synthesizer, c.status, c.reason ?? null, c.detail ?? null, c.check, JSON.stringify(c.spec), now);
      }
      this.db.prepare("INSERT OR REPLACE INTO synthesis_rounds (pool, round, report_json, created_at) VALUES (?, ?, ?, ?)").run(pool, round, JSON.stringify(summary), now);
    })();
  }

  hasRound(pool: string, round: string): boolean {
    return this.db.prepare("SELECT 1 FROM synthesis_rounds WHERE pool = ? AND round = ?").get(pool, round) !== undefined;
  }

  rounds(pool: string): { round: string; report: StoredRound; createdAt: string }[] {
    const rows = this.db.prepare("SELECT * FROM synthesis_rounds WHERE pool = ? ORDER BY created_at, rowid").all(pool) as Record<string, string>[];
    return rows.map((r) => ({ round: r.round, report: JSON.parse(r.report_json) as StoredRound, createdAt: r.created_at }));
  }

  pools(): string[] {
    return (this.db.prepare("SELECT pool FROM synthesis_rounds UNION SELECT pool FROM synthetic_tasks ORDER BY pool").all() as { pool: string }[]).map((r) => r.pool);
  }

  list(pool: string, options: { status?: Candidate["status"] } = {}): SyntheticTaskRecord[] {
    const rows = (
      options.status
        ? this.db.prepare("SELECT * FROM synthetic_tasks WHERE pool = ? AND status = ? ORDER BY rowid").all(pool, options.status)
        : this.db.prepare("SELECT * FROM synthetic_tasks WHERE pool = ? ORDER BY rowid").all(pool)
    ) as Record<string, string | null>[];
    return rows.map(toRecord);
  }

  get(pool: string, id: string): SyntheticTaskRecord | undefined {
    const row = this.db.prepare("SELECT * FROM synthetic_tasks WHERE pool = ? AND id = ?").get(pool, id) as Record<string, string | null> | undefined;
    return row ? toRecord(row) : undefined;
  }

  exploration(pool: string, id: string): Exploration | undefined {
    const row = this.db.prepare("SELECT body_json FROM explorations WHERE pool = ? AND id = ?").get(pool, id) as { body_json: string } | undefined;
    return row ? (JSON.parse(row.body_json) as Exploration) : undefined;
  }
}

function toRecord(row: Record<string, string | null>): SyntheticTaskRecord {
  const candidate = Candidate.parse({
    id: row.id,
    env: row.env,
    explorationId: row.exploration_id,
    synthesizer: row.synthesizer,
    spec: JSON.parse(row.spec_json!),
    check: row.check_text,
    status: row.status,
    ...(row.reason ? { reason: row.reason } : {}),
    ...(row.detail ? { detail: row.detail } : {}),
  });
  return { ...candidate, pool: row.pool!, round: row.round!, createdAt: row.created_at! };
}
