// Schema migrations, applied in order inside one transaction each. Never edit a shipped migration: add a new one.
import type { Database } from "better-sqlite3";
import { EvolverError } from "../core/errors.js";

export const migrations: { version: number; description: string; sql: string }[] = [
  {
    version: 1,
    description: "runs, tasks, iterations, trajectories, verdicts, metrics, checkpoints",
    sql: `
      CREATE TABLE runs (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('running', 'stopped', 'done', 'failed')),
        config_json TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        error TEXT
      );
      CREATE TABLE tasks (
        run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        task_id TEXT NOT NULL,
        split TEXT NOT NULL,
        source TEXT NOT NULL,
        payload_json TEXT NOT NULL DEFAULT '{}',
        PRIMARY KEY (run_id, task_id)
      );
      CREATE TABLE iterations (
        run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        iteration INTEGER NOT NULL,
        phase TEXT NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        PRIMARY KEY (run_id, iteration)
      );
      CREATE TABLE trajectories (
        id TEXT PRIMARY KEY,
        run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        iteration INTEGER NOT NULL,
        purpose TEXT NOT NULL,
        task_id TEXT NOT NULL,
        group_key TEXT NOT NULL,
        sample_index INTEGER NOT NULL,
        reward REAL NOT NULL,
        success INTEGER NOT NULL,
        termination TEXT NOT NULL,
        body_json TEXT NOT NULL,
        segments_json TEXT NOT NULL,
        tokens BLOB NOT NULL,
        logprobs BLOB NOT NULL,
        loss_mask BLOB NOT NULL,
        created_at TEXT NOT NULL,
        UNIQUE (run_id, iteration, purpose, group_key, sample_index)
      );
      CREATE INDEX trajectories_by_iteration ON trajectories (run_id, iteration, purpose);
      CREATE TABLE verdicts (
        trajectory_id TEXT PRIMARY KEY REFERENCES trajectories(id) ON DELETE CASCADE,
        run_id TEXT NOT NULL,
        status TEXT NOT NULL,
        judge TEXT NOT NULL,
        verdicts_json TEXT NOT NULL,
        error TEXT,
        created_at TEXT NOT NULL
      );
      CREATE TABLE metrics (
        run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        iteration INTEGER NOT NULL,
        name TEXT NOT NULL,
        value REAL NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (run_id, iteration, name)
      );
      CREATE TABLE checkpoints (
        run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        iteration INTEGER NOT NULL,
        kind TEXT NOT NULL,
        path TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (run_id, iteration, kind)
      );
    `,
  },
  {
    version: 2,
    description: "run leases: which process is running a run, so a killed run shows as interrupted and two cannot run one",
    sql: `
      CREATE TABLE run_leases (
        run_id TEXT PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
        pid INTEGER NOT NULL,
        host TEXT NOT NULL,
        acquired_at TEXT NOT NULL,
        heartbeat_ms INTEGER NOT NULL
      );
    `,
  },
  {
    version: 3,
    description: "self-questioning: explorations, synthetic tasks (accepted, rejected, duplicate) with provenance, synthesis rounds",
    sql: `
      CREATE TABLE explorations (
        pool TEXT NOT NULL,
        id TEXT NOT NULL,
        round TEXT NOT NULL,
        env TEXT NOT NULL,
        entity TEXT NOT NULL,
        novel INTEGER NOT NULL,
        error TEXT,
        body_json TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (pool, id)
      );
      CREATE TABLE synthetic_tasks (
        pool TEXT NOT NULL,
        id TEXT NOT NULL,
        round TEXT NOT NULL,
        env TEXT NOT NULL,
        exploration_id TEXT NOT NULL,
        synthesizer TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('accepted', 'rejected', 'duplicate')),
        reason TEXT,
        detail TEXT,
        check_text TEXT NOT NULL,
        spec_json TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (pool, id)
      );
      CREATE INDEX synthetic_tasks_by_status ON synthetic_tasks (pool, status);
      CREATE TABLE synthesis_rounds (
        pool TEXT NOT NULL,
        round TEXT NOT NULL,
        report_json TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (pool, round)
      );
    `,
  },
  {
    version: 4,
    description: "experience pool (self-navigating): experiences with provenance, retrievals, outcomes, work done once",
    // The vectors live in a sqlite-vec table made on first use (its dimensions are the embedder's): see
    // src/store/experience-pool.ts.
    sql: `
      CREATE TABLE experiences (
        id INTEGER PRIMARY KEY,
        when_to_use TEXT NOT NULL,
        content TEXT NOT NULL,
        origin TEXT NOT NULL,
        extractor TEXT NOT NULL,
        source_trajectories_json TEXT NOT NULL,
        source_tasks_json TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('active', 'merged', 'retired', 'deleted')),
        note TEXT,
        merges INTEGER NOT NULL DEFAULT 0,
        run_id TEXT,
        iteration INTEGER,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      CREATE TABLE experience_pool_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE experience_retrievals (
        run_id TEXT NOT NULL,
        iteration INTEGER NOT NULL,
        group_key TEXT NOT NULL,
        sample_index INTEGER NOT NULL,
        experience_ids_json TEXT NOT NULL,
        PRIMARY KEY (run_id, iteration, group_key, sample_index)
      );
      CREATE TABLE experience_outcomes (
        experience_id INTEGER NOT NULL,
        trajectory_id TEXT NOT NULL,
        guided INTEGER NOT NULL,
        success INTEGER NOT NULL,
        PRIMARY KEY (experience_id, trajectory_id)
      );
      CREATE TABLE experience_work (key TEXT PRIMARY KEY, done_at TEXT NOT NULL);
    `,
  },
];

export function migrate(db: Database): number {
  db.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
  const applied = new Set((db.prepare("SELECT version FROM schema_version").all() as { version: number }[]).map((row) => row.version));
  const latest = Math.max(...migrations.map((m) => m.version));
  const newest = Math.max(0, ...applied);
  if (newest > latest) {
    throw new EvolverError("STORE_SCHEMA", `the run store has schema version ${newest}, newer than this Evolver knows (${latest}); upgrade Evolver`);
  }
  // Every migration not applied yet, in order, including one numbered below the newest applied (branches that
  // reserved their numbers may land in any order).
  for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
    if (applied.has(migration.version)) continue;
    db.transaction(() => {
      db.exec(migration.sql);
      db.prepare("INSERT INTO schema_version (version) VALUES (?)").run(migration.version);
    })();
  }
  return latest;
}
