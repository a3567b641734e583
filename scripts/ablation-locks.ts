// Which locks an ablation's runs open, digit by digit: for every run in a run store, its last held-out evaluation,
// per digit the locks right of those asked and the answer given most often, and how many held-out chains avoid a
// digit (the ceiling of a run that never learns that digit); and its training success (the share of the iteration's
// rollouts that solved their task, at the rollout temperature) averaged over the iterations, and the first iteration
// where it reached 0.8: how fast the policy learnt the tasks it trained on, which held-out success does not show. The per-digit figures in docs/ablation.md ("Self-
// attributing alone") came from this. Key-chain runs only (task ids kc-<digits>). Run:
//   node --import tsx scripts/ablation-locks.ts .evolver/ablation/runs.db [digit]
import { lockSteps, openStoreOrExit } from "./key-chain-store.js";

const [path, avoid = "5"] = process.argv.slice(2);
if (!path) {
  console.error("usage: node --import tsx scripts/ablation-locks.ts RUNS.db [digit]");
  process.exit(2);
}

const db = openStoreOrExit(path);
const runs = db.prepare("SELECT id, name FROM runs ORDER BY created_at").all() as { id: string; name: string }[];
for (const run of runs) {
  const { last } = db.prepare("SELECT max(iteration) AS last FROM trajectories WHERE run_id = ? AND purpose = 'eval'").get(run.id) as { last: number | null };
  if (last === null) continue;
  const rows = db
    .prepare("SELECT task_id, body_json, success FROM trajectories WHERE run_id = ? AND purpose = 'eval' AND iteration = ?")
    .all(run.id, last) as { task_id: string; body_json: string; success: number }[];
  const perDigit = new Map<string, { right: number; of: number; answers: Map<string, number> }>();
  let successes = 0;
  let avoiding = 0;
  for (const row of rows) {
    const digits = /^kc-(\d+)$/.exec(row.task_id)?.[1];
    if (!digits) continue;
    successes += row.success;
    if (!digits.includes(avoid)) avoiding += 1;
    for (const step of lockSteps(row.task_id, row.body_json)) {
      const entry = perDigit.get(step.digit) ?? { right: 0, of: 0, answers: new Map<string, number>() };
      entry.of += 1;
      if (step.right) entry.right += 1;
      const answer = JSON.stringify(step.answer);
      entry.answers.set(answer, (entry.answers.get(answer) ?? 0) + 1);
      perDigit.set(step.digit, entry);
    }
  }
  const training = (db.prepare("SELECT value FROM metrics WHERE run_id = ? AND name = 'train/success' ORDER BY iteration").all(run.id) as { value: number }[]).map((r) => r.value);
  const trainMean = training.reduce((a, b) => a + b, 0) / Math.max(1, training.length);
  const firstAt = training.findIndex((v) => v >= 0.8);
  const locks = [...perDigit.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([digit, e]) => `${digit}: ${e.right}/${e.of} (${[...e.answers.entries()].sort((a, b) => b[1] - a[1])[0][0]})`);
  console.log(
    `${run.name}: training success ${trainMean.toFixed(3)} over ${training.length} iterations (0.8 first at ${firstAt < 0 ? "never" : firstAt + 1}); ` +
      `held-out after iteration ${last + 1}: success ${successes}/${rows.length}; without digit ${avoid}: ${avoiding}/${rows.length}; ${locks.join(", ")}`,
  );
}
