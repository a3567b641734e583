export { RunStore, type RunRecord, type RunStatus, type StoredVerdicts, type CheckpointRecord, type TrajectoryPurpose } from "./run-store.js";
