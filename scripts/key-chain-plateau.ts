// What a key-chain run's plateau is made of: at every held-out evaluation, the digits whose locks the greedy policy
// gets wrong and what it answers there; and for each such digit, per 10 training iterations, how often its right
// letter was sampled at it (at the rollout temperature) and the answers sampled most. The quick start's plateaus
// (docs/training.md, "Plateaus") came from this: the digit left is the one whose letter no learnt digit uses, and that
// letter is sampled about as seldom as a byte of junk. Key-chain runs only (task ids kc-<digits>). Run:
//   node --import tsx scripts/key-chain-plateau.ts .evolver/runs.db [RUN-ID-OR-NAME]…
import { z } from "zod";
import { lockSteps, openStoreOrExit } from "./key-chain-store.js";
import { KeyChainEnvironment, KeyChainOptions } from "../src/env/toy/key-chain.js";

const [path, ...wanted] = process.argv.slice(2);
if (!path) {
  console.error("usage: node --import tsx scripts/key-chain-plateau.ts RUNS.db [RUN-ID-OR-NAME]…");
  process.exit(2);
}
const Config = z.looseObject({ env: z.looseObject({ type: z.string(), options: z.record(z.string(), z.unknown()).default({}) }) });

const db = openStoreOrExit(path);

/** Per step of every trajectory of one iteration and purpose: the digit asked, the answer's first character, right or not. */
function steps(runId: string, iteration: number, purpose: "train" | "eval") {
  const rows = db.prepare("SELECT task_id, body_json FROM trajectories WHERE run_id = ? AND iteration = ? AND purpose = ?").all(runId, iteration, purpose) as { task_id: string; body_json: string }[];
  return rows.flatMap((row) => lockSteps(row.task_id, row.body_json).map((s) => ({ digit: Number(s.digit), answer: s.answer || "(empty)", right: s.right })));
}

const top = (answers: string[], n: number) => {
  const counts = new Map<string, number>();
  for (const a of answers) counts.set(a, (counts.get(a) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, n).map(([a, c]) => `${JSON.stringify(a)} ${c}`).join(", ");
};

const runs = db.prepare("SELECT id, name, config_json FROM runs ORDER BY created_at").all() as { id: string; name: string; config_json: string }[];
for (const run of runs.filter((r) => wanted.length === 0 || wanted.includes(r.id) || wanted.includes(r.name))) {
  const config = Config.parse(JSON.parse(run.config_json));
  if (config.env.type !== "key-chain") continue;
  const secret = new KeyChainEnvironment(KeyChainOptions.parse(config.env.options)).secret;
  console.log(`${run.name} (${run.id}), secret ${secret.map((letter, digit) => `${digit}=${letter}`).join(" ")}`);
  const evaluations = (db.prepare("SELECT DISTINCT iteration FROM trajectories WHERE run_id = ? AND purpose = 'eval' ORDER BY iteration").all(run.id) as { iteration: number }[]).map((r) => r.iteration);
  // the digits learnt last: wrong at the most evaluations before the first with every lock right (or the end)
  const wrongAt = new Map<number, number>();
  let solvedOnce = false;
  for (const iteration of evaluations) {
    const all = steps(run.id, iteration, "eval");
    const wrong = [...new Set(all.filter((s) => !s.right).map((s) => s.digit))].sort();
    solvedOnce ||= wrong.length === 0;
    if (!solvedOnce) wrong.forEach((d) => wrongAt.set(d, (wrongAt.get(d) ?? 0) + 1));
    const detail = wrong.map((d) => {
      const at = all.filter((s) => s.digit === d);
      return `${d} (${at.filter((s) => s.right).length}/${at.length} right; wrong: ${top(at.filter((s) => !s.right).map((s) => s.answer), 3)})`;
    }).join("; ");
    console.log(`  held-out after ${iteration + 1}: ${wrong.length === 0 ? "every lock right" : `wrong at digit ${detail}`}`);
  }
  const last = (db.prepare("SELECT max(iteration) AS last FROM trajectories WHERE run_id = ? AND purpose = 'train'").get(run.id) as { last: number | null }).last ?? -1;
  const most = Math.max(0, ...wrongAt.values());
  const lastLearnt = [...wrongAt.entries()].filter(([, n]) => n === most).map(([d]) => d).sort();
  for (const digit of lastLearnt) {
    const windows: string[] = [];
    for (let from = 0; from <= last; from += 10) {
      const at: { answer: string; right: boolean }[] = [];
      for (let i = from; i < Math.min(from + 10, last + 1); i++) at.push(...steps(run.id, i, "train").filter((s) => s.digit === digit));
      windows.push(`${from + 1}-${Math.min(from + 10, last + 1)}: ${at.filter((s) => s.right).length}/${at.length} (${top(at.map((s) => s.answer), 3)})`);
    }
    console.log(`  digit ${digit}, its letter "${secret[digit]}" sampled at it in training, per 10 iterations:\n    ${windows.join("\n    ")}`);
  }
}
