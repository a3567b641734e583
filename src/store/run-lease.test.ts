// Run leases against real processes: a run whose process lives shows as running and cannot be taken; once that
// process is SIGKILLed the run shows as interrupted at once and can be taken again.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { EvolverError } from "../core/errors.js";
import { migrations } from "./migrations.js";
import { LEASE_STALE_MS } from "./run-lease.js";
import { RunStore } from "./run-store.js";
import { holdLease } from "./test-support/lease-holder.js";

test("run lease: running while its process lives, refused to a second taker, interrupted once the process is killed", { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "evolver-lease-"));
  const storePath = join(dir, "runs.db");
  const store = new RunStore(storePath);
  try {
    const run = store.createRun("leased", {});
    // stored as running with no lease: nobody is running it
    assert.equal(store.effectiveStatus(run.id), "interrupted");

    const other = await holdLease(storePath, run.id);
    assert.equal(store.effectiveStatus(run.id), "running");
    assert.throws(() => store.acquireLease(run.id), (error: unknown) => {
      assert.ok(EvolverError.isInstance(error));
      assert.equal(error.code, "RUN_BUSY");
      assert.match(error.message, new RegExp(`run ${run.id} is already going: pid ${other.pid} on ${hostname()}`));
      return true;
    });
    assert.equal(store.lease(run.id)?.pid, other.pid, "the refused taker left the lease alone");

    await other.kill();
    assert.equal(store.effectiveStatus(run.id), "interrupted");
    const ours = store.acquireLease(run.id);
    assert.equal(store.effectiveStatus(run.id), "running");
    assert.equal(store.lease(run.id)?.pid, process.pid);
    ours.release();
    assert.equal(store.lease(run.id), undefined);

    for (const status of ["done", "failed", "stopped"] as const) {
      store.setRunStatus(run.id, status);
      assert.equal(store.effectiveStatus(run.id), status);
    }
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("run lease: a heartbeat older than the limit is stale whatever its pid; another host's fresh one is live", () => {
  const store = new RunStore(":memory:");
  try {
    const run = store.createRun("leased", {});
    const put = (pid: number, host: string, ageMs: number) =>
      store.db.prepare("INSERT OR REPLACE INTO run_leases (run_id, pid, host, acquired_at, heartbeat_ms) VALUES (?, ?, ?, ?, ?)").run(run.id, pid, host, "t", Date.now() - ageMs);
    put(process.pid, hostname(), LEASE_STALE_MS + 1_000); // our own pid, but silent for too long (a reused pid)
    assert.equal(store.effectiveStatus(run.id), "interrupted");
    put(1, "another-host", 1_000);
    assert.equal(store.effectiveStatus(run.id), "running");
    assert.throws(() => store.acquireLease(run.id), /RUN_BUSY|already going: pid 1 on another-host/);
    put(1, "another-host", LEASE_STALE_MS + 1_000);
    assert.equal(store.effectiveStatus(run.id), "interrupted");
    store.acquireLease(run.id).release();
  } finally {
    store.close();
  }
});

test("migrations: a store of schema version 1 gets the lease table when opened", () => {
  const dir = mkdtempSync(join(tmpdir(), "evolver-migrate-"));
  const path = join(dir, "runs.db");
  try {
    const old = new Database(path);
    old.exec("CREATE TABLE schema_version (version INTEGER NOT NULL)");
    old.exec(migrations.find((m) => m.version === 1)!.sql);
    old.prepare("INSERT INTO schema_version (version) VALUES (1)").run();
    old.prepare("INSERT INTO runs (id, name, status, config_json, created_at, updated_at) VALUES ('r1', 'old', 'running', '{}', 't', 't')").run();
    old.close();
    const store = new RunStore(path);
    try {
      assert.equal(store.effectiveStatus("r1"), "interrupted");
      const versions = (store.db.prepare("SELECT version FROM schema_version ORDER BY version").all() as { version: number }[]).map((r) => r.version);
      assert.deepEqual(versions, migrations.map((m) => m.version).sort((a, b) => a - b));
    } finally {
      store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
