// The run store: everything an evolve run does is written here as it happens, in one SQLite file (WAL mode),
// so that a run killed at any moment resumes with nothing lost and nothing done twice, and so that the dashboard
// and `evolver runs` read the same facts. Token arrays are stored as binary blobs (int32 ids, float64 logprobs,
// uint8 mask): a trajectory is written exactly as it was sampled.
import Database from "better-sqlite3";
import { existsSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { randomUUID } from "node:crypto";
import { EvolverError } from "../core/errors.js";
// The schema file, not the agent barrel (which brings the model drivers and the OpenAI SDK): `evolver runs` reads
// the store and nothing else.
import { Trajectory, type Segment } from "../agent/trajectory.js";
import { migrate } from "./migrations.js";
import { acquireLease, effectiveRunStatus, readLease, type EffectiveRunStatus, type LeaseRecord, type RunLease } from "./run-lease.js";

export type RunStatus = "running" | "stopped" | "done" | "failed";
export type TrajectoryPurpose = "train" | "eval";

export interface RunRecord {
  id: string;
  name: string;
  status: RunStatus;
  config: unknown;
  createdAt: string;
  updatedAt: string;
  error: string | null;
}

export interface StoredVerdicts {
  trajectoryId: string;
  status: "ok" | "failed";
  judge: string;
  verdicts: unknown;
  error: string | null;
}

export interface CheckpointRecord {
  iteration: number;
  kind: "training" | "sampler";
  path: string;
}

interface SegmentMeta {
  source: Segment["source"];
  length: number;
  step?: number;
  sequence?: number;
  hasLogprobs: boolean;
}

const now = () => new Date().toISOString();

export class RunStore {
  readonly db: Database.Database;

  /**
   * `create: false` refuses a path with no store yet, instead of making an empty one there (a mistyped --store).
   * `readonly: true` is how readers (the dashboard) open a store another process may be writing: nothing is created,
   * migrated or written, and a file that is not a run store is refused (STORE_FOREIGN) rather than given our tables.
   */
  constructor(readonly path: string, options: { create?: boolean; readonly?: boolean } = {}) {
    if ((options.create === false || options.readonly) && path !== ":memory:" && !existsSync(path)) {
      throw new EvolverError("STORE_NOT_FOUND", `no run store at ${path}`, { details: { path } });
    }
    if (options.readonly) {
      this.db = openReadOnly(path);
      return;
    }
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    try {
      this.db = new Database(path);
    } catch (error) {
      throw new EvolverError("STORE_OPEN", `cannot open the run store at ${path}: ${(error as Error).message}`, { cause: error });
    }
    this.db.pragma("journal_mode = WAL");
    // NORMAL keeps WAL durable across a process kill (only an OS crash may lose the last commits).
    this.db.pragma("synchronous = NORMAL");
    this.db.pragma("foreign_keys = ON");
    this.db.pragma("busy_timeout = 5000");
    try {
      migrate(this.db);
    } catch (error) {
      this.db.close();
      throw EvolverError.isInstance(error) ? error : new EvolverError("STORE_SCHEMA", (error as Error).message, { cause: error });
    }
  }

  /** Whether the store has this table: features that land later (tasks synthesis, experiences) add theirs. */
  hasTable(name: string): boolean {
    return this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
  }

  close(): void {
    this.db.close();
  }

  // --- runs

  createRun(name: string, config: unknown, id = `run-${new Date().toISOString().slice(0, 10).replaceAll("-", "")}-${randomUUID().slice(0, 8)}`): RunRecord {
    const at = now();
    this.db
      .prepare("INSERT INTO runs (id, name, status, config_json, created_at, updated_at) VALUES (?, ?, 'running', ?, ?, ?)")
      .run(id, name, JSON.stringify(config), at, at);
    return this.getRun(id);
  }

  getRun(id: string): RunRecord {
    const row = this.db.prepare("SELECT * FROM runs WHERE id = ?").get(id) as Record<string, string> | undefined;
    if (!row) {
      const known = this.listRuns().slice(0, 10).map((r) => r.id);
      throw new EvolverError("RUN_UNKNOWN", `no run '${id}' in ${this.path}${known.length ? `; recent runs: ${known.join(", ")}` : " (the store is empty)"}`, {
        details: { id },
      });
    }
    return toRun(row);
  }

  listRuns(): RunRecord[] {
    return (this.db.prepare("SELECT * FROM runs ORDER BY created_at DESC").all() as Record<string, string>[]).map(toRun);
  }

  setRunStatus(id: string, status: RunStatus, error: string | null = null): void {
    this.db.prepare("UPDATE runs SET status = ?, error = ?, updated_at = ? WHERE id = ?").run(status, error, now(), id);
  }

  /** The run's status as readers should show it: "interrupted" for a run stored as running whose process is gone. */
  effectiveStatus(id: string): EffectiveRunStatus {
    const stored = this.getRun(id).status;
    // A store from before run leases (schema 1) has no lease to read: its status is what it says.
    return this.hasTable("run_leases") ? effectiveRunStatus(this.db, id, stored) : stored;
  }

  /** Takes the run for this process (run-lease.ts); RUN_BUSY when a live process holds it. */
  acquireLease(id: string): RunLease {
    this.getRun(id);
    return acquireLease(this.db, id);
  }

  /** Who holds the run's lease, live or stale; undefined when nobody has run it since the last clean end. */
  lease(id: string): LeaseRecord | undefined {
    return this.hasTable("run_leases") ? readLease(this.db, id) : undefined;
  }

  // --- tasks

  addTasks(runId: string, tasks: { taskId: string; split: string; source: string; payload?: unknown }[]): void {
    const insert = this.db.prepare(
      "INSERT OR IGNORE INTO tasks (run_id, task_id, split, source, payload_json) VALUES (?, ?, ?, ?, ?)",
    );
    this.db.transaction(() => {
      for (const t of tasks) insert.run(runId, t.taskId, t.split, t.source, JSON.stringify(t.payload ?? {}));
    })();
  }

  listTasks(runId: string, split?: string): { taskId: string; split: string; source: string; payload: unknown }[] {
    const rows = (
      split === undefined
        ? this.db.prepare("SELECT * FROM tasks WHERE run_id = ? ORDER BY rowid").all(runId)
        : this.db.prepare("SELECT * FROM tasks WHERE run_id = ? AND split = ? ORDER BY rowid").all(runId, split)
    ) as Record<string, string>[];
    return rows.map((r) => ({ taskId: r.task_id, split: r.split, source: r.source, payload: JSON.parse(r.payload_json) }));
  }

  /** Each task's latest group of train rollouts before `beforeIteration`: whether its rewards had zero variance (every
   * sample alike, so GRPO learned nothing from it). Errored rollouts are left out. */
  zeroVarianceTasks(runId: string, beforeIteration: number): Map<string, boolean> {
    const rows = this.db
      .prepare(
        `SELECT task_id, iteration, MIN(reward) AS low, MAX(reward) AS high, COUNT(*) AS n FROM trajectories
         WHERE run_id = ? AND purpose = 'train' AND iteration < ? AND termination != 'error' GROUP BY task_id, iteration ORDER BY iteration`,
      )
      .all(runId, beforeIteration) as { task_id: string; low: number; high: number; n: number }[];
    const latest = new Map<string, boolean>();
    for (const row of rows) latest.set(row.task_id, row.n > 1 && row.low === row.high);
    return latest;
  }

  // --- iterations: the phase an iteration has reached is what resume reads

  iterationPhase(runId: string, iteration: number): string | undefined {
    const row = this.db.prepare("SELECT phase FROM iterations WHERE run_id = ? AND iteration = ?").get(runId, iteration) as
      | { phase: string }
      | undefined;
    return row?.phase;
  }

  setIterationPhase(runId: string, iteration: number, phase: string): void {
    const at = now();
    this.db
      .prepare(
        `INSERT INTO iterations (run_id, iteration, phase, started_at, finished_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (run_id, iteration) DO UPDATE SET phase = excluded.phase, finished_at = excluded.finished_at`,
      )
      .run(runId, iteration, phase, at, phase === "done" ? at : null);
  }

  /** The highest iteration whose phase is "done", or -1. */
  lastCompletedIteration(runId: string): number {
    const row = this.db.prepare("SELECT max(iteration) AS i FROM iterations WHERE run_id = ? AND phase = 'done'").get(runId) as {
      i: number | null;
    };
    return row.i ?? -1;
  }

  // --- trajectories

  /** Idempotent: a trajectory with the same (run, iteration, purpose, group, sample) is kept, not duplicated. */
  saveTrajectory(runId: string, iteration: number, purpose: TrajectoryPurpose, trajectory: Trajectory): void {
    const { segments, ...body } = trajectory;
    const meta: SegmentMeta[] = segments.map((s) => ({
      source: s.source,
      length: s.tokens.length,
      ...(s.step === undefined ? {} : { step: s.step }),
      ...(s.sequence === undefined ? {} : { sequence: s.sequence }),
      hasLogprobs: s.logprobs !== undefined,
    }));
    const total = segments.reduce((n, s) => n + s.tokens.length, 0);
    const tokens = new Int32Array(total);
    const logprobs = new Float64Array(total);
    const mask = new Uint8Array(total);
    let offset = 0;
    for (const s of segments) {
      tokens.set(s.tokens, offset);
      if (s.logprobs) logprobs.set(s.logprobs, offset);
      mask.set(s.lossMask, offset);
      offset += s.tokens.length;
    }
    this.db
      .prepare(
        `INSERT OR IGNORE INTO trajectories (id, run_id, iteration, purpose, task_id, group_key, sample_index, reward, success,
           termination, body_json, segments_json, tokens, logprobs, loss_mask, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        trajectory.id,
        runId,
        iteration,
        purpose,
        trajectory.taskId,
        trajectory.groupKey,
        trajectory.sampleIndex,
        trajectory.reward,
        trajectory.success ? 1 : 0,
        trajectory.termination,
        JSON.stringify(body),
        JSON.stringify(meta),
        Buffer.from(tokens.buffer),
        Buffer.from(logprobs.buffer),
        Buffer.from(mask.buffer),
        now(),
      );
  }

  listTrajectories(runId: string, iteration: number, purpose: TrajectoryPurpose): Trajectory[] {
    const rows = this.db
      .prepare("SELECT * FROM trajectories WHERE run_id = ? AND iteration = ? AND purpose = ? ORDER BY group_key, sample_index")
      .all(runId, iteration, purpose) as Record<string, unknown>[];
    return rows.map(toTrajectory);
  }

  /** The rollouts of one group (one task's samples in one batch), in sample order. */
  listTrajectoryGroup(runId: string, iteration: number, purpose: TrajectoryPurpose, groupKey: string): Trajectory[] {
    const rows = this.db
      .prepare("SELECT * FROM trajectories WHERE run_id = ? AND iteration = ? AND purpose = ? AND group_key = ? ORDER BY sample_index")
      .all(runId, iteration, purpose, groupKey) as Record<string, unknown>[];
    return rows.map(toTrajectory);
  }

  /** The iterations that have trajectories of this purpose, in order. */
  trajectoryIterations(runId: string, purpose: TrajectoryPurpose): number[] {
    return (
      this.db.prepare("SELECT DISTINCT iteration FROM trajectories WHERE run_id = ? AND purpose = ? ORDER BY iteration").all(runId, purpose) as {
        iteration: number;
      }[]
    ).map((row) => row.iteration);
  }

  getTrajectory(id: string): Trajectory {
    const row = this.db.prepare("SELECT * FROM trajectories WHERE id = ?").get(id) as Record<string, unknown> | undefined;
    if (!row) throw new EvolverError("TRAJECTORY_UNKNOWN", `no trajectory '${id}'`);
    return toTrajectory(row);
  }

  // --- verdicts (self-attribution's audit trail)

  saveVerdicts(runId: string, v: StoredVerdicts): void {
    this.db
      .prepare(
        `INSERT INTO verdicts (trajectory_id, run_id, status, judge, verdicts_json, error, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (trajectory_id) DO UPDATE SET status = excluded.status, judge = excluded.judge,
           verdicts_json = excluded.verdicts_json, error = excluded.error`,
      )
      .run(v.trajectoryId, runId, v.status, v.judge, JSON.stringify(v.verdicts), v.error, now());
  }

  getVerdicts(trajectoryId: string): StoredVerdicts | undefined {
    const row = this.db.prepare("SELECT * FROM verdicts WHERE trajectory_id = ?").get(trajectoryId) as Record<string, string> | undefined;
    if (!row) return undefined;
    return { trajectoryId, status: row.status as "ok" | "failed", judge: row.judge, verdicts: JSON.parse(row.verdicts_json), error: row.error };
  }

  // --- metrics and checkpoints

  saveMetrics(runId: string, iteration: number, metrics: Record<string, number>): void {
    const insert = this.db.prepare(
      `INSERT INTO metrics (run_id, iteration, name, value, created_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (run_id, iteration, name) DO UPDATE SET value = excluded.value`,
    );
    const at = now();
    this.db.transaction(() => {
      for (const [name, value] of Object.entries(metrics)) if (Number.isFinite(value)) insert.run(runId, iteration, name, value, at);
    })();
  }

  listMetrics(runId: string): { iteration: number; name: string; value: number }[] {
    return this.db
      .prepare("SELECT iteration, name, value FROM metrics WHERE run_id = ? ORDER BY iteration, name")
      .all(runId) as { iteration: number; name: string; value: number }[];
  }

  saveCheckpoint(runId: string, checkpoint: CheckpointRecord): void {
    this.db
      .prepare(
        `INSERT INTO checkpoints (run_id, iteration, kind, path, created_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (run_id, iteration, kind) DO UPDATE SET path = excluded.path`,
      )
      .run(runId, checkpoint.iteration, checkpoint.kind, checkpoint.path, now());
  }

  latestCheckpoint(runId: string, kind: CheckpointRecord["kind"]): CheckpointRecord | undefined {
    const row = this.db
      .prepare("SELECT iteration, kind, path FROM checkpoints WHERE run_id = ? AND kind = ? ORDER BY iteration DESC LIMIT 1")
      .get(runId, kind) as CheckpointRecord | undefined;
    return row;
  }

  listCheckpoints(runId: string): CheckpointRecord[] {
    return this.db.prepare("SELECT iteration, kind, path FROM checkpoints WHERE run_id = ? ORDER BY iteration, kind").all(runId) as CheckpointRecord[];
  }

  counts(runId: string): { tasks: number; trajectories: number; verdicts: number; checkpoints: number } {
    const one = (sql: string) => (this.db.prepare(sql).get(runId) as { n: number }).n;
    return {
      tasks: one("SELECT count(*) AS n FROM tasks WHERE run_id = ?"),
      trajectories: one("SELECT count(*) AS n FROM trajectories WHERE run_id = ?"),
      verdicts: one("SELECT count(*) AS n FROM verdicts WHERE run_id = ?"),
      checkpoints: one("SELECT count(*) AS n FROM checkpoints WHERE run_id = ?"),
    };
  }
}

/** Opens a store for reading only, and checks that it is one: a run store's tables and a schema we can read. */
function openReadOnly(path: string): Database.Database {
  let db: Database.Database;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    db.pragma("busy_timeout = 5000");
  } catch (error) {
    throw new EvolverError("STORE_OPEN", `cannot open the run store at ${path}: ${(error as Error).message}`, { cause: error, details: { path } });
  }
  let tables: Set<string>;
  try {
    tables = new Set((db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((row) => row.name));
  } catch (error) {
    db.close();
    // SQLITE_NOTADB: any file that is not SQLite (a text file, a truncated or overwritten store)
    throw new EvolverError("STORE_FOREIGN", `${path} is not a run store: ${(error as Error).message}`, { cause: error, details: { path } });
  }
  const missing = ["schema_version", "runs", "trajectories", "metrics", "verdicts", "iterations", "checkpoints", "tasks"].filter((t) => !tables.has(t));
  if (missing.length > 0) {
    db.close();
    throw new EvolverError("STORE_FOREIGN", `${path} is an SQLite file but not a run store (no ${missing.join(", ")} table${missing.length > 1 ? "s" : ""})`, {
      details: { path, missing },
    });
  }
  return db;
}

function toRun(row: Record<string, string>): RunRecord {
  return {
    id: row.id,
    name: row.name,
    status: row.status as RunStatus,
    config: JSON.parse(row.config_json),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    error: row.error ?? null,
  };
}

function toTrajectory(row: Record<string, unknown>): Trajectory {
  const body = JSON.parse(row.body_json as string);
  const meta = JSON.parse(row.segments_json as string) as SegmentMeta[];
  const tokenBlob = row.tokens as Buffer;
  const logprobBlob = row.logprobs as Buffer;
  const maskBlob = row.loss_mask as Buffer;
  // Copy out of the blobs: their byte offsets need not be aligned for typed-array views.
  const tokens = new Int32Array(tokenBlob.buffer.slice(tokenBlob.byteOffset, tokenBlob.byteOffset + tokenBlob.byteLength));
  const logprobs = new Float64Array(logprobBlob.buffer.slice(logprobBlob.byteOffset, logprobBlob.byteOffset + logprobBlob.byteLength));
  const segments: Segment[] = [];
  let offset = 0;
  for (const m of meta) {
    const end = offset + m.length;
    segments.push({
      source: m.source,
      tokens: Array.from(tokens.subarray(offset, end)),
      ...(m.hasLogprobs ? { logprobs: Array.from(logprobs.subarray(offset, end)) } : {}),
      lossMask: Array.from(maskBlob.subarray(offset, end)) as (0 | 1)[],
      ...(m.step === undefined ? {} : { step: m.step }),
      ...(m.sequence === undefined ? {} : { sequence: m.sequence }),
    });
    offset = end;
  }
  return Trajectory.parse({ ...body, segments });
}
