// The dashboard server over HTTP: every view on a store written as a run writes it, the JSON API, query checks,
// and what it does with a store it cannot read (a page naming the problem; the server goes on). The browser test
// (browser.test.ts) renders the same pages from a real run in chromium.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { RunStore } from "../store/index.js";
import { migrate } from "../store/migrations.js";
import { startDashboard, type Dashboard } from "./server.js";
import { saveLabels, syntheticConfig, syntheticTrajectory, writeSyntheticRun } from "./test-support/synthetic-run.js";

const dir = mkdtempSync(join(tmpdir(), "evolver-dashboard-"));
const storePath = join(dir, "runs.db");
let dashboard: Dashboard;
let runId = "";
let killedId = "";

before(async () => {
  const store = new RunStore(storePath);
  runId = writeSyntheticRun(store, { iterations: 12, tasksPerIteration: 4, groupSize: 4, evalEvery: 4, evalTasks: 10, evalK: 2 });
  // A run stored as running that no process holds (killed): interrupted, with the command that resumes it.
  killedId = store.createRun("killed", syntheticConfig({ attribution: { enabled: false } })).id;
  const hostile = syntheticTrajectory({ id: "hostile", taskId: "kc-<b>", groupKey: "h", sampleIndex: 0, reward: 0, steps: [{ action: "<script>alert(1)</script>", observation: "<img src=x>" }] });
  store.saveTrajectory(killedId, 0, "train", hostile);
  // A task self-questioning synthesized for the run (its pool is the run id), solved once in two rollouts.
  const at = new Date().toISOString();
  store.db.prepare("INSERT INTO explorations (pool, id, round, env, entity, novel, error, body_json, created_at) VALUES (?, 'x1', '0', 'key-chain', 'digit 7', 1, NULL, '{}', ?)").run(runId, at);
  for (const [id, status] of [["syn-1", "accepted"], ["syn-2", "rejected"], ["syn-3", "duplicate"]]) {
    store.db
      .prepare("INSERT INTO synthetic_tasks (pool, id, round, env, exploration_id, synthesizer, status, reason, detail, check_text, spec_json, created_at) VALUES (?, ?, '0', 'key-chain', 'x1', 'hindsight', ?, NULL, NULL, 'answers h for 7', '{}', ?)")
      .run(runId, id, status, at);
  }
  store.addTasks(runId, [{ taskId: "syn-1", split: "train", source: "synthetic", payload: { explorationId: "x1" } }]);
  for (const sample of [0, 1]) {
    store.saveTrajectory(runId, 11, "train", syntheticTrajectory({ id: `syn-1/${sample}`, taskId: "syn-1", groupKey: "syn-1#11", sampleIndex: sample, reward: sample, steps: [{ action: "h", observation: "7" }] }));
  }
  saveLabels(store, killedId, hostile, ["BAD"]);
  store.close();
  dashboard = await startDashboard({ storePath, port: 0 });
});
after(() => dashboard?.close());

const get = async (path: string) => {
  const response = await fetch(dashboard.url + path);
  return { status: response.status, type: response.headers.get("content-type") ?? "", text: await response.text() };
};
const getJson = async (path: string) => {
  const response = await get(path);
  return { status: response.status, body: JSON.parse(response.text) };
};

test("binds 127.0.0.1 by default", () => {
  assert.match(dashboard.url, /^http:\/\/127\.0\.0\.1:\d+$/);
});

test("runs: every run with its status (a killed run is interrupted), method, seed, progress and resume command", async () => {
  const home = await get("/");
  assert.equal(home.status, 200);
  assert.match(home.type, /text\/html/);
  assert.match(home.text, new RegExp(`href="/runs/${runId}">synthetic</a>[\\s\\S]*?<span class="status done">done</span>`));
  assert.match(home.text, new RegExp(`href="/runs/${killedId}">killed</a>[\\s\\S]*?status interrupted">interrupted<[\\s\\S]*?<td>GRPO</td><td>3</td>[\\s\\S]*?evolver evolve --resume ${killedId} --store ${storePath}`));
  const { body } = await getJson("/api/runs");
  const done = body.runs.find((r: { id: string }) => r.id === runId);
  assert.deepEqual([done.status, done.completedIterations, done.plannedIterations, done.seed, done.resumeCommand], ["done", 12, 12, 3, undefined]);
});

test("curves: the stored metrics per chart, one line per run; several runs on one chart", async () => {
  const store = new RunStore(storePath, { readonly: true });
  const rewards = store.listMetrics(runId).filter((m) => m.name === "train/reward");
  store.close();
  const { body } = await getJson(`/api/curves?runs=${runId}`);
  const reward = body.charts.find((c: { title: string }) => c.title === "train/reward");
  assert.deepEqual(reward.lines[0].x, rewards.map((m) => m.iteration));
  assert.deepEqual(reward.lines[0].y, rewards.map((m) => m.value));
  assert.ok(body.charts.some((c: { title: string }) => c.title === "eval/best@2"), "best@k with the run's k");
  const both = await getJson(`/api/curves?runs=${runId}&runs=${killedId}&metrics=attribution/judged`);
  assert.deepEqual(both.body.charts.map((c: { title: string }) => c.title).slice(-1), ["attribution/judged"], "an extra metric asked for by name");
  const compare = await get(`/compare?runs=${runId}&runs=${killedId}`);
  assert.match(compare.text, /data-url="\/api\/curves\?runs=.*&amp;runs=/);
  const overview = await get(`/runs/${runId}`);
  assert.match(overview.text, /<th>method<\/th><td>ADCA-GRPO \(rule judge, alpha 0\.5\)<\/td>/);
  assert.match(overview.text, /<span id="iterations">12<\/span> of 12/);
});

test("trajectories: filtered by iteration, task and outcome, a page at a time, steps coloured by verdict", async () => {
  const all = await getJson(`/api/runs/${runId}/trajectories`);
  assert.equal(all.body.total, 12 * 4 * 4 + 2); // and the two rollouts of the synthetic task
  assert.equal(all.body.rows.length, 50);
  assert.equal(all.body.pages, 4);
  assert.equal(all.body.rows[0].iteration, 11, "newest iteration first");
  const last = await getJson(`/api/runs/${runId}/trajectories?page=4`);
  assert.equal(last.body.rows.length, 194 - 150);
  const filtered = await getJson(`/api/runs/${runId}/trajectories?iteration=3&outcome=success`);
  assert.ok(filtered.body.total > 0);
  for (const row of filtered.body.rows) assert.deepEqual([row.iteration, row.success, row.labels], [3, true, ["GOOD", "GOOD", "GOOD"]]);
  const task = all.body.rows[0].taskId;
  const byTask = await getJson(`/api/runs/${runId}/trajectories?task=${task}`);
  assert.ok(byTask.body.rows.every((r: { taskId: string }) => r.taskId === task));
  const evals = await getJson(`/api/runs/${runId}/trajectories?purpose=eval&iteration=-1`);
  assert.equal(evals.body.total, 20);
  const page = await get(`/runs/${runId}/trajectories?iteration=3&outcome=failure`);
  assert.match(page.text, /<span class="chip bad" title="step \d: BAD">/);
  assert.match(page.text, /<option selected>failure<\/option>/);
});

test("one trajectory: each step with its verdict, reason, advantage, sampled tokens and observations", async () => {
  const { body: list } = await getJson(`/api/runs/${runId}/trajectories?iteration=5`);
  const id = list.rows[0].id;
  const { body } = await getJson(`/api/runs/${runId}/trajectory?id=${encodeURIComponent(id)}`);
  assert.equal(body.trajectory.id, id);
  assert.equal(body.advantages.source, "adca");
  assert.equal(body.advantages.stepAdvantages.length, 3);
  const page = await get(`/runs/${runId}/trajectory?id=${encodeURIComponent(id)}`);
  for (const [step, label] of body.judgment.verdicts.map((v: { label: string }, i: number) => [i, v.label])) {
    const advantage = body.advantages.stepAdvantages[step];
    const shown = Number.isInteger(advantage) ? String(advantage) : advantage.toFixed(4);
    assert.match(page.text, new RegExp(`<section class="step ${label === "GOOD" ? "good" : "bad"}">\\s*<h3>Step ${step}: <span class="verdict">${label}</span> <span class="advantage">advantage ${shown.replace(".", "\\.").replace("-", "\\-")}</span>`));
    assert.match(page.text, new RegExp(`<p class="reason">step ${step} was ${label === "GOOD" ? "right" : "wrong"}</p>`));
  }
  assert.match(page.text, /<span class="token trained" title="logprob -0\.5000, trained with advantage/);
  assert.match(page.text, /<span class="role">user<\/span><pre>digit \d<\/pre>/);
});

test("text from the store is escaped, never markup", async () => {
  const page = await get(`/runs/${killedId}/trajectory?id=hostile`);
  assert.equal(page.status, 200);
  assert.doesNotMatch(page.text, /<script>alert|<img src=x>|<b>/);
  assert.match(page.text, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  assert.match(page.text, /advantage 0</, "GRPO on a group of one: advantage 0");
});

test("evaluations: avg@k and best@k per category and overall, at each evaluated iteration", async () => {
  const { body } = await getJson(`/api/runs/${runId}/evaluations`);
  assert.deepEqual(body.evaluations.map((e: { iteration: number }) => e.iteration), [-1, 3, 7, 11]);
  assert.deepEqual(body.categories, ["even", "odd"]);
  const store = new RunStore(storePath, { readonly: true });
  const stored = store.listMetrics(runId).filter((m) => m.name === "eval/success");
  store.close();
  // The run stored the fraction of successful samples; avg@k is the mean over tasks of each task's fraction: the
  // same number when every task has k samples.
  assert.deepEqual(body.evaluations.map((e: { overall: { avgAtK: number } }) => e.overall.avgAtK.toFixed(10)), stored.map((m) => m.value.toFixed(10)));
  for (const e of body.evaluations) {
    assert.equal(e.overall.tasks, 10);
    assert.ok(e.overall.bestAtK >= e.overall.avgAtK);
    assert.equal(e.categories.even.tasks + e.categories.odd.tasks, 10);
  }
  assert.deepEqual(body.charts.map((c: { title: string }) => c.title), ["overall: avg@2 and best@2", "even: avg@2 and best@2", "odd: avg@2 and best@2"]);
});

test("tasks: seed and synthetic, with provenance and how often the policy solved each", async () => {
  const store = new RunStore(storePath, { readonly: true });
  const solved = store.db.prepare("SELECT task_id, count(*) AS n, sum(success) AS c FROM trajectories WHERE run_id = ? AND purpose = 'train' GROUP BY task_id").all(runId) as { task_id: string; n: number; c: number }[];
  store.close();
  const { body } = await getJson(`/api/runs/${runId}/tasks?source=seed&split=train`);
  assert.equal(body.total, 150);
  const byId = new Map(solved.map((s) => [s.task_id, s]));
  for (const row of body.rows) assert.deepEqual([row.rollouts, row.successes], [byId.get(row.taskId)?.n ?? 0, byId.get(row.taskId)?.c ?? 0], row.taskId);
  const synthetic = await getJson(`/api/runs/${runId}/tasks?source=synthetic`);
  assert.deepEqual(synthetic.body.rows, [
    { taskId: "syn-1", split: "train", source: "synthetic", rollouts: 2, successes: 1, provenance: { round: "0", synthesizer: "hindsight", explorationId: "x1", entity: "digit 7", check: "answers h for 7" } },
  ]);
  assert.deepEqual(synthetic.body.candidates, { accepted: 1, duplicate: 1, rejected: 1 });
  const page = await get(`/runs/${runId}/tasks?source=synthetic`);
  assert.match(page.text, /<td class="solved">0\.5000<\/td>\s*<td>round 0, hindsight, from exploration <code>x1<\/code> of digit 7/);
  assert.match(page.text, />Tasks<\/a>/, "a tab of the run");
});

test("experiences: the run's pool, read-only, with how often each experience helped; the tab only for runs that had navigating on", async () => {
  const pool = join(dir, "experiences.db");
  const store = new RunStore(storePath);
  const navigated = store.createRun("navigated", syntheticConfig({ navigating: { enabled: true, pool } })).id;
  store.setRunStatus(navigated, "done");
  store.close();
  const empty = await get(`/runs/${navigated}/experiences`);
  assert.match(empty.text, /0 experiences/, "no pool file yet");
  const db = new Database(pool);
  migrate(db);
  const at = new Date().toISOString();
  const insert = db.prepare(
    "INSERT INTO experiences (id, when_to_use, content, origin, extractor, source_trajectories_json, source_tasks_json, status, note, merges, run_id, iteration, created_at, updated_at) VALUES (?, ?, ?, 'success', 'rule', '[]', ?, ?, NULL, 0, ?, 2, ?, ?)",
  );
  insert.run(1, "the user names digit 4", "answer <k>", '["kc-004"]', "active", navigated, at, at);
  insert.run(2, "the user names digit 5", "answer m", '["kc-005"]', "retired", navigated, at, at);
  const outcome = db.prepare("INSERT INTO experience_outcomes (experience_id, trajectory_id, guided, success) VALUES (1, ?, ?, ?)");
  // guided: 3 of 4 solved; unguided: 1 of 4: lift 0.75 - 0.25 = 0.5
  [[1, 1], [1, 1], [1, 1], [1, 0], [0, 1], [0, 0], [0, 0], [0, 0]].forEach(([guided, success], i) => outcome.run(`t${i}`, guided, success));
  db.close();
  const { body } = await getJson(`/api/runs/${navigated}/experiences`);
  assert.equal(body.total, 1, "active ones by default");
  assert.deepEqual([body.rows[0].guided, body.rows[0].guidedSuccesses, body.rows[0].unguided, body.rows[0].unguidedSuccesses, body.rows[0].lift], [4, 3, 4, 1, 0.5]);
  assert.equal((await getJson(`/api/runs/${navigated}/experiences?status=all`)).body.total, 2);
  const page = await get(`/runs/${navigated}/experiences`);
  assert.match(page.text, /answer &lt;k&gt;/);
  assert.match(page.text, /<td>3 \/ 4<\/td><td>1 \/ 4<\/td>\s*<td class="good">0\.5000<\/td>/);
  assert.match(page.text, />Experiences<\/a>/);
  const other = await get(`/runs/${runId}`);
  assert.doesNotMatch(other.text, />Experiences<\/a>/, "no tab for a run without navigating");
  assert.equal((await get(`/runs/${runId}/experiences`)).status, 404);
});

test("bad requests are named: query parameters, unknown runs, views, paths, methods; nothing outside the store is served", async () => {
  const badQuery = await getJson(`/api/runs/${runId}/trajectories?iteration=two&outcome=maybe&extra=1`);
  assert.equal(badQuery.status, 400);
  assert.equal(badQuery.body.error.code, "WEB_BAD_QUERY");
  assert.match(badQuery.body.error.message, /iteration: .*; outcome: .*; query: Unrecognized key: "extra"/);
  const unknownRun = await get("/runs/run-nope");
  assert.equal(unknownRun.status, 404);
  assert.match(unknownRun.text, /RUN_UNKNOWN<\/code>: no run &#39;run-nope&#39;/);
  assert.equal((await get(`/runs/${runId}/nope`)).status, 404);
  for (const path of ["/assets/..%2F..%2Fpackage.json", "/assets/../../package.json", "/etc/passwd", "/assets/server.ts", "/assets/uPlot.cjs.js"]) {
    const response = await get(path);
    assert.equal(response.status, 404, path);
    assert.doesNotMatch(response.text, /"name": "evolver"|root:/);
  }
  assert.equal((await get("/assets/uPlot.iife.min.js")).status, 200);
  const post = await fetch(`${dashboard.url}/api/runs`, { method: "POST", body: "{}" });
  assert.equal(post.status, 405);
});

test("a store that is not one, or breaks under the server: a page naming the problem, the file untouched, the server goes on", async () => {
  const foreignDir = mkdtempSync(join(tmpdir(), "evolver-dashboard-foreign-"));
  const path = join(foreignDir, "runs.db");
  writeFileSync(path, "not a database at all\n".repeat(50));
  const server = await startDashboard({ storePath: path, port: 0 });
  try {
    const page = await fetch(server.url + "/");
    assert.equal(page.status, 503);
    const text = await page.text();
    assert.match(text, /The run store cannot be read/);
    assert.match(text, /STORE_FOREIGN<\/code>: .*runs\.db is not a run store/);
    const api = await fetch(server.url + "/api/runs");
    assert.equal(((await api.json()) as { error: { code: string } }).error.code, "STORE_FOREIGN");
    // An SQLite file of something else.
    const other = new (await import("better-sqlite3")).default(join(foreignDir, "other.db"));
    other.exec("CREATE TABLE notes (text TEXT)");
    other.close();
    copyFileSync(join(foreignDir, "other.db"), path);
    const sqlite = await fetch(server.url + "/");
    assert.equal(sqlite.status, 503);
    assert.match(await sqlite.text(), /is an SQLite file but not a run store \(no schema_version, runs, /);
    // The real store put in its place: the next request reads it.
    copyFileSync(storePath, path);
    const fixed = await fetch(server.url + "/");
    assert.equal(fixed.status, 200);
    assert.match(await fixed.text(), /synthetic/);
  } finally {
    await server.close();
  }
  const missing = await startDashboard({ storePath: join(foreignDir, "none.db"), port: 0 });
  try {
    const page = await fetch(missing.url + "/");
    assert.equal(page.status, 503);
    assert.match(await page.text(), /STORE_NOT_FOUND<\/code>: no run store at .*none\.db/);
  } finally {
    await missing.close();
  }
});
