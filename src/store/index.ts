export { RunStore, type RunRecord, type RunStatus, type StoredVerdicts, type CheckpointRecord, type TrajectoryPurpose } from "./run-store.js";
export { LEASE_HEARTBEAT_MS, LEASE_STALE_MS, type EffectiveRunStatus, type LeaseRecord, type RunLease } from "./run-lease.js";
export { TaskPool, type SyntheticTaskRecord, type StoredRound } from "./task-pool.js";
export { SqliteExperiencePool, type OpenPoolOptions } from "./experience-pool.js";
