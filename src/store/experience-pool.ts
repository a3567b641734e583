// The experience pool (self-navigating) in SQLite: experiences with their provenance (source trajectories and tasks,
// run, iteration, extractor), what each rollout was given (retrievals), how guided and unguided rollouts of the same
// group ended (outcomes), and work done once (extraction of a group, maintenance of an iteration), so a resumed run
// neither loses nor duplicates an experience. A pool is a file: by default the run's own (output_dir/RUN/
// experiences.db), or one shared across runs (navigating.pool, --pool PATH).
//
// Vectors sit in a sqlite-vec table (cosine distance) whose dimensions are the embedder's, made on first use, with a
// plain copy by id; the pool remembers which embedder filled it and refuses another. The file is the store; search
// goes through an in-memory VectorIndex (src/core/vector-index.ts) of the active experiences, loaded from the file on
// the first search and kept in step with this connection's writes (another connection's commit, e.g. a second run
// sharing the pool, makes the next search reload it). Its few best hits are re-ranked with the exact vectors, so the
// similarities are exact; sqlite-vec's exact search is the reference the bench measures recall against.
import Database from "better-sqlite3";
import { existsSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import * as sqliteVec from "sqlite-vec";
import { EvolverError } from "../core/errors.js";
import { dot, VectorIndex } from "../core/vector-index.js";
import {
  Experience,
  type ExperiencePool,
  type ExperienceStatus,
  type ExperienceUsage,
  type NewExperience,
  type RolloutKey,
  type ScoredExperience,
} from "../evolve/navigating/index.js";
import { migrate } from "./migrations.js";

/** Hits of the in-memory index re-ranked with exact vectors, beyond the k asked for. */
const RERANK_EXTRA = 8;

interface ExperienceRow {
  id: number;
  when_to_use: string;
  content: string;
  origin: string;
  extractor: string;
  source_trajectories_json: string;
  source_tasks_json: string;
  status: string;
  note: string | null;
  merges: number;
  run_id: string | null;
  iteration: number | null;
  created_at: string;
}

const now = () => new Date().toISOString();
const vectorBlob = (vector: Float32Array) => Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
const blobVector = (blob: Buffer) => new Float32Array(blob.buffer.slice(blob.byteOffset, blob.byteOffset + blob.byteLength));

export interface OpenPoolOptions {
  /** The embedder that fills and queries the pool; absent: read-only use (list, show, export). */
  embedder?: { id: string; dimensions: number };
  /** Refuse a path with no pool yet (a mistyped --pool). */
  mustExist?: boolean;
}

export class SqliteExperiencePool implements ExperiencePool {
  readonly db: Database.Database;
  readonly embedderId: string;
  private readonly dimensions: number;
  private index: VectorIndex | undefined;
  private readonly statements = new Map<string, Database.Statement>();
  /** SQLite's data_version when the index was loaded: it changes when another connection commits. */
  private indexVersion = -1;

  private constructor(readonly path: string, db: Database.Database, embedder: { id: string; dimensions: number } | undefined) {
    this.db = db;
    const stored = this.meta("embedder");
    const storedDimensions = Number(this.meta("dimensions") ?? 0);
    if (embedder && stored && (stored !== embedder.id || storedDimensions !== embedder.dimensions)) {
      throw new EvolverError(
        "EXPERIENCE_EMBEDDER_MISMATCH",
        `the experience pool ${path} holds vectors of ${stored} (${storedDimensions}-d); this run embeds with ${embedder.id} (${embedder.dimensions}-d). Use that embedder or another pool`,
        { details: { path, stored, wanted: embedder.id } },
      );
    }
    if (embedder && !stored) {
      this.setMeta("embedder", embedder.id);
      this.setMeta("dimensions", String(embedder.dimensions));
    }
    this.embedderId = embedder?.id ?? stored ?? "";
    this.dimensions = embedder?.dimensions ?? storedDimensions;
    if (this.dimensions > 0) {
      this.db.exec(`CREATE VIRTUAL TABLE IF NOT EXISTS experience_vectors USING vec0(embedding float[${this.dimensions}] distance_metric=cosine)`);
      // The same vectors by id in a plain table: re-ranking reads a few hundred by id, which vec0's chunked storage
      // answers far more slowly than a primary-key lookup.
      this.db.exec("CREATE TABLE IF NOT EXISTS experience_vector_blobs (id INTEGER PRIMARY KEY, vector BLOB NOT NULL)");
    }
  }

  static open(path: string, options: OpenPoolOptions = {}): SqliteExperiencePool {
    if (options.mustExist && path !== ":memory:" && !existsSync(path)) {
      throw new EvolverError("EXPERIENCE_POOL_NOT_FOUND", `no experience pool at ${path}`, { details: { path } });
    }
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    let db: Database.Database;
    try {
      db = new Database(path);
    } catch (error) {
      throw new EvolverError("STORE_OPEN", `cannot open the experience pool at ${path}: ${(error as Error).message}`, { cause: error });
    }
    try {
      db.pragma("journal_mode = WAL");
      db.pragma("synchronous = NORMAL");
      db.pragma("busy_timeout = 5000");
      sqliteVec.load(db);
      migrate(db);
      return new SqliteExperiencePool(path, db, options.embedder);
    } catch (error) {
      db.close();
      throw EvolverError.isInstance(error) ? error : new EvolverError("STORE_SCHEMA", `experience pool ${path}: ${(error as Error).message}`, { cause: error });
    }
  }

  close(): void {
    this.db.close();
  }

  transaction<T>(work: () => T): T {
    try {
      return this.db.transaction(work)();
    } catch (error) {
      // The in-memory index may hold writes the rollback undid: the next search reloads it from the file.
      this.index = undefined;
      throw error;
    }
  }

  add(items: { experience: NewExperience; vector: Float32Array }[], provenance: { runId: string | null; iteration: number | null; workKey?: string }): Experience[] {
    return this.transaction(() => {
      if (provenance.workKey !== undefined && !this.claim(provenance.workKey)) return [];
      const insert = this.sql(
        `INSERT INTO experiences (when_to_use, content, origin, extractor, source_trajectories_json, source_tasks_json, status, run_id, iteration, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, 'active', ?, ?, ?, ?)`,
      );
      const added: Experience[] = [];
      for (const { experience, vector } of items) {
        this.checkVector(vector);
        const at = now();
        const { lastInsertRowid } = insert.run(
          experience.whenToUse, experience.content, experience.origin, experience.extractor,
          JSON.stringify(experience.sourceTrajectories), JSON.stringify(experience.sourceTasks),
          provenance.runId, provenance.iteration, at, at,
        );
        const id = Number(lastInsertRowid);
        this.writeVector(id, vector);
        added.push(this.get(id));
      }
      return added;
    });
  }

  search(query: Float32Array, options: { k: number; threshold: number }): ScoredExperience[] {
    if (this.dimensions === 0 || options.k <= 0) return [];
    this.checkVector(query);
    const hits = this.vectorIndex().search(query, options.k + RERANK_EXTRA);
    const scored = this.vectors(hits.map((hit) => hit.id)).map(({ id, vector }) => ({ id, similarity: dot(query, vector) }));
    scored.sort((a, b) => b.similarity - a.similarity || a.id - b.id);
    return scored
      .slice(0, options.k)
      .filter((s) => s.similarity >= options.threshold)
      .map((s) => ({ experience: this.get(s.id), similarity: s.similarity }));
  }

  /** Exact top-k of every active experience (sqlite-vec): the reference the in-memory index is measured against. */
  exactSearch(query: Float32Array, k: number): { id: number; similarity: number }[] {
    const rows = this.sql("SELECT rowid AS id, distance FROM experience_vectors WHERE embedding MATCH ? AND k = ? ORDER BY distance")
      .all(vectorBlob(query), k) as { id: number; distance: number }[];
    return rows.map((row) => ({ id: Number(row.id), similarity: 1 - row.distance }));
  }

  get(id: number): Experience {
    const row = this.sql("SELECT * FROM experiences WHERE id = ?").get(id) as ExperienceRow | undefined;
    if (!row) throw new EvolverError("EXPERIENCE_NOT_FOUND", `no experience ${id} in ${this.path}`, { details: { id, path: this.path } });
    return toExperience(row);
  }

  list(options: { status?: ExperienceStatus | "all" } = {}): Experience[] {
    const status = options.status ?? "active";
    const rows = (status === "all"
      ? this.sql("SELECT * FROM experiences ORDER BY id").all()
      : this.sql("SELECT * FROM experiences WHERE status = ? ORDER BY id").all(status)) as ExperienceRow[];
    return rows.map(toExperience);
  }

  vector(id: number): Float32Array | undefined {
    return this.vectors([id])[0]?.vector;
  }

  update(id: number, fields: { whenToUse?: string; content?: string; vector?: Float32Array }): Experience {
    return this.transaction(() => {
      const current = this.get(id);
      this.db
        .prepare("UPDATE experiences SET when_to_use = ?, content = ?, updated_at = ? WHERE id = ?")
        .run(fields.whenToUse ?? current.whenToUse, fields.content ?? current.content, now(), id);
      if (fields.vector && current.status === "active") {
        this.checkVector(fields.vector);
        this.sql("DELETE FROM experience_vectors WHERE rowid = ?").run(BigInt(id));
        this.writeVector(id, fields.vector);
      }
      return this.get(id);
    });
  }

  setStatus(id: number, status: Exclude<ExperienceStatus, "active">, note: string): void {
    this.transaction(() => {
      this.get(id);
      this.sql("UPDATE experiences SET status = ?, note = ?, updated_at = ? WHERE id = ?").run(status, note, now(), id);
      // Out of the index, so retrieval never sees it; the row stays for provenance.
      if (this.dimensions > 0) {
        this.sql("DELETE FROM experience_vectors WHERE rowid = ?").run(BigInt(id));
        this.sql("DELETE FROM experience_vector_blobs WHERE id = ?").run(id);
      }
      this.index?.delete(id);
    });
  }

  /** Counts one near-duplicate merged into `id`. */
  countMerge(id: number): void {
    this.sql("UPDATE experiences SET merges = merges + 1, updated_at = ? WHERE id = ?").run(now(), id);
  }

  /** Adds to what the rollout was given: a rollout guided at several turns keeps every experience, each once. */
  recordRetrieval(key: RolloutKey, experienceIds: number[]): void {
    this.transaction(() => {
      const ids = [...new Set([...(this.retrieval(key) ?? []), ...experienceIds])];
      this.sql(
        "INSERT INTO experience_retrievals (run_id, iteration, group_key, sample_index, experience_ids_json) VALUES (?, ?, ?, ?, ?) " +
          "ON CONFLICT (run_id, iteration, group_key, sample_index) DO UPDATE SET experience_ids_json = excluded.experience_ids_json",
      ).run(key.runId, key.iteration, key.groupKey, key.sampleIndex, JSON.stringify(ids));
    });
  }

  retrieval(key: RolloutKey): number[] | undefined {
    const row = this.sql("SELECT experience_ids_json FROM experience_retrievals WHERE run_id = ? AND iteration = ? AND group_key = ? AND sample_index = ?")
      .get(key.runId, key.iteration, key.groupKey, key.sampleIndex) as { experience_ids_json: string } | undefined;
    return row ? (JSON.parse(row.experience_ids_json) as number[]) : undefined;
  }

  recordOutcome(_key: RolloutKey, trajectoryId: string, guided: boolean, experienceIds: number[], success: boolean): void {
    const insert = this.sql("INSERT OR IGNORE INTO experience_outcomes (experience_id, trajectory_id, guided, success) VALUES (?, ?, ?, ?)");
    this.transaction(() => {
      for (const id of experienceIds) insert.run(id, trajectoryId, guided ? 1 : 0, success ? 1 : 0);
    });
  }

  usage(): ExperienceUsage[] {
    const rows = this.sql(
        `SELECT experience_id AS experienceId,
                SUM(guided) AS guided, SUM(guided * success) AS guidedSuccesses,
                SUM(1 - guided) AS unguided, SUM((1 - guided) * success) AS unguidedSuccesses
         FROM experience_outcomes GROUP BY experience_id ORDER BY experience_id`,
      )
      .all() as ExperienceUsage[];
    return rows;
  }

  claim(workKey: string): boolean {
    return this.sql("INSERT OR IGNORE INTO experience_work (key, done_at) VALUES (?, ?)").run(workKey, now()).changes === 1;
  }

  isClaimed(workKey: string): boolean {
    return this.sql("SELECT 1 FROM experience_work WHERE key = ?").get(workKey) !== undefined;
  }

  private vectorIndex(): VectorIndex {
    const version = this.db.pragma("data_version", { simple: true }) as number;
    if (!this.index || version !== this.indexVersion) {
      const index = new VectorIndex(this.dimensions);
      const rows = this.sql(
        "SELECT b.id, b.vector FROM experience_vector_blobs b JOIN experiences e ON e.id = b.id WHERE e.status = 'active'",
      );
      for (const row of rows.iterate() as Iterable<{ id: number; vector: Buffer }>) index.set(row.id, blobVector(row.vector));
      this.index = index;
      this.indexVersion = version;
    }
    return this.index;
  }

  private vectors(ids: number[]): { id: number; vector: Float32Array }[] {
    if (ids.length === 0 || this.dimensions === 0) return [];
    const read = this.sql("SELECT vector FROM experience_vector_blobs WHERE id = ?");
    return ids.flatMap((id) => {
      const row = read.get(id) as { vector: Buffer } | undefined;
      return row ? [{ id, vector: blobVector(row.vector) }] : [];
    });
  }

  private writeVector(id: number, vector: Float32Array): void {
    this.sql("INSERT INTO experience_vectors (rowid, embedding) VALUES (?, ?)").run(BigInt(id), vectorBlob(vector));
    this.sql("INSERT OR REPLACE INTO experience_vector_blobs (id, vector) VALUES (?, ?)").run(id, vectorBlob(vector));
    this.index?.set(id, vector);
  }

  private checkVector(vector: Float32Array): void {
    if (vector.length !== this.dimensions) {
      throw new EvolverError("EXPERIENCE_EMBEDDER_MISMATCH", `a ${vector.length}-d vector for a pool of ${this.dimensions}-d vectors (${this.embedderId})`);
    }
  }

  /** A statement prepared once per connection: preparing costs more than a lookup by id. */
  private sql(source: string): Database.Statement {
    let statement = this.statements.get(source);
    if (!statement) this.statements.set(source, (statement = this.db.prepare(source)));
    return statement;
  }

  private meta(key: string): string | undefined {
    return (this.sql("SELECT value FROM experience_pool_meta WHERE key = ?").get(key) as { value: string } | undefined)?.value;
  }

  private setMeta(key: string, value: string): void {
    this.sql("INSERT OR REPLACE INTO experience_pool_meta (key, value) VALUES (?, ?)").run(key, value);
  }
}

function toExperience(row: ExperienceRow): Experience {
  return Experience.parse({
    id: row.id,
    whenToUse: row.when_to_use,
    content: row.content,
    origin: row.origin,
    extractor: row.extractor,
    sourceTrajectories: JSON.parse(row.source_trajectories_json),
    sourceTasks: JSON.parse(row.source_tasks_json),
    status: row.status,
    note: row.note,
    merges: row.merges,
    runId: row.run_id,
    iteration: row.iteration,
    createdAt: row.created_at,
  });
}
