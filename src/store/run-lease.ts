// Who is running a run. The process that runs a run holds its lease: a row naming its pid and host, with a heartbeat
// it renews every few seconds. The lease expires with its process: on the same host as soon as the pid is gone
// (SIGKILL, a crash, a reboot), and anywhere once the heartbeat is older than LEASE_STALE_MS. So a run killed
// mid-way shows as interrupted rather than running, and a second process cannot take a run that is still going.
import type { Database } from "better-sqlite3";
import { hostname } from "node:os";
import { EvolverError } from "../core/errors.js";

/** How often the holder renews its lease. */
export const LEASE_HEARTBEAT_MS = 5_000;
/** A lease not renewed for this long is stale, whatever its pid (a pid reused by another process, another host). */
export const LEASE_STALE_MS = 60_000;

/** A run's status as a reader should show it: a run stored as running whose process is gone is interrupted. */
export type EffectiveRunStatus = "running" | "interrupted" | "done" | "failed" | "stopped";

export interface LeaseRecord {
  runId: string;
  pid: number;
  host: string;
  acquiredAt: string;
  heartbeatMs: number;
}

export interface RunLease {
  readonly record: LeaseRecord;
  /** Stops the heartbeat and removes the lease (when it is still ours). Safe to call twice. */
  release(): void;
}

export function readLease(db: Database, runId: string): LeaseRecord | undefined {
  const row = db.prepare("SELECT * FROM run_leases WHERE run_id = ?").get(runId) as Record<string, string | number> | undefined;
  if (!row) return undefined;
  return { runId, pid: Number(row.pid), host: String(row.host), acquiredAt: String(row.acquired_at), heartbeatMs: Number(row.heartbeat_ms) };
}

/** Whether the lease's process still holds it. */
export function leaseIsLive(lease: LeaseRecord, now = Date.now()): boolean {
  if (now - lease.heartbeatMs > LEASE_STALE_MS) return false;
  return lease.host !== hostname() || processExists(lease.pid);
}

/**
 * Takes the run's lease for this process, or refuses with RUN_BUSY naming the process that holds it. The check and
 * the take are one write transaction, so of two processes racing for one run exactly one gets it.
 */
export function acquireLease(db: Database, runId: string): RunLease {
  const record: LeaseRecord = { runId, pid: process.pid, host: hostname(), acquiredAt: new Date().toISOString(), heartbeatMs: Date.now() };
  db.transaction(() => {
    const held = readLease(db, runId);
    if (held && leaseIsLive(held)) {
      const seconds = Math.round((Date.now() - held.heartbeatMs) / 1000);
      throw new EvolverError(
        "RUN_BUSY",
        `run ${runId} is already going: pid ${held.pid} on ${held.host} has held it since ${held.acquiredAt} (last heartbeat ${seconds} s ago); ` +
          "stop that process first (it can be resumed afterwards)",
        { details: { runId, pid: held.pid, host: held.host } },
      );
    }
    db.prepare(
      `INSERT INTO run_leases (run_id, pid, host, acquired_at, heartbeat_ms) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (run_id) DO UPDATE SET pid = excluded.pid, host = excluded.host, acquired_at = excluded.acquired_at, heartbeat_ms = excluded.heartbeat_ms`,
    ).run(runId, record.pid, record.host, record.acquiredAt, record.heartbeatMs);
  }).immediate();
  const ours = "run_id = ? AND pid = ? AND host = ? AND acquired_at = ?";
  const key = [runId, record.pid, record.host, record.acquiredAt];
  const heartbeat = setInterval(() => {
    try {
      db.prepare(`UPDATE run_leases SET heartbeat_ms = ? WHERE ${ours}`).run(Date.now(), ...key);
    } catch {
      // The store was closed under us (the run ended): nothing left to renew.
      clearInterval(heartbeat);
    }
  }, LEASE_HEARTBEAT_MS);
  // The heartbeat alone never keeps a process alive.
  heartbeat.unref();
  let released = false;
  return {
    record,
    release() {
      if (released) return;
      released = true;
      clearInterval(heartbeat);
      if (db.open) db.prepare(`DELETE FROM run_leases WHERE ${ours}`).run(...key);
    },
  };
}

/** The status to show: a run stored as running is running only while a live process holds its lease. */
export function effectiveRunStatus(db: Database, runId: string, stored: string): EffectiveRunStatus {
  if (stored !== "running") return stored as EffectiveRunStatus;
  const lease = readLease(db, runId);
  return lease && leaseIsLive(lease) ? "running" : "interrupted";
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
