// A process that takes a run's lease and holds it until it is killed: another process, as a running evolve is, for
// tests of what others see (running while it lives, interrupted once it is killed).
//   node --import tsx lease-holder-process.ts STORE RUN_ID
import { RunStore } from "../run-store.js";

const [storePath, runId] = process.argv.slice(2);
const store = new RunStore(storePath);
store.acquireLease(runId);
process.stdout.write("held\n");
setInterval(() => undefined, 1 << 30);
