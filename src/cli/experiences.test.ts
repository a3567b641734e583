// `evolver experiences` on the real CLI: import (embedded with the offline default), list, show, export, and the
// errors a user meets (a missing experience, a run without a pool), each named without a stack trace.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { RunStore } from "../store/index.js";
import { runEvolverCli } from "./test-support/spawn-cli.js";

const dir = mkdtempSync(join(tmpdir(), "evolver-experiences-cli-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("evolver experiences: import, list, show, export, errors", { timeout: 600_000 }, async () => {
  const pool = join(dir, "shared.db");
  const file = join(dir, "in.jsonl");
  const lines = [
    { when_to_use: "a file must be read before it is edited", content: "call cat on it first", origin: "failure", source_tasks: ["multi_turn_base_1"] },
    { when_to_use: "the user asks for the current directory", content: "call pwd, not ls", origin: "success" },
    { when_to_use: "anything at all", content: "a retired one is not imported", origin: "success", status: "retired" },
  ];
  writeFileSync(file, lines.map((l) => JSON.stringify(l)).join("\n") + "\n");
  const imported = await runEvolverCli(["experiences", "import", file, "--pool", pool]);
  assert.equal(imported.code, 0, imported.stderr);
  assert.match(imported.stdout, /imported 2 experience\(s\) into /);
  const again = await runEvolverCli(["experiences", "import", file, "--pool", pool]);
  assert.match(again.stdout, /imported 0 experience\(s\) into .* \(2 already there\)/);

  const listed = await runEvolverCli(["experiences", "list", "--pool", pool]);
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, /#1 active failure it -  unused\n  when a file must be read before it is edited: call cat on it first/);
  const shown = await runEvolverCli(["experiences", "show", "2", "--pool", pool]);
  assert.equal(JSON.parse(shown.stdout).content, "call pwd, not ls");
  const exported = await runEvolverCli(["experiences", "export", "--pool", pool]);
  const rows = exported.stdout.trim().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(rows.map((r) => [r.when_to_use, r.origin, r.extractor, r.source_tasks]), [
    ["a file must be read before it is edited", "failure", "import", ["multi_turn_base_1"]],
    ["the user asks for the current directory", "success", "import", []],
  ]);

  const missing = await runEvolverCli(["experiences", "show", "99", "--pool", pool]);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /EXPERIENCE_NOT_FOUND|no experience 99/);
  assert.doesNotMatch(missing.stderr, /\n\s+at /);
  const nowhere = await runEvolverCli(["experiences", "list", "--pool", join(dir, "nope.db")]);
  assert.match(nowhere.stderr, /no experience pool at .*nope\.db/);

  const store = new RunStore(join(dir, "runs.db"));
  const run = store.createRun("plain", { env: { type: "key-chain" }, policy: { base_model: "x" } });
  store.close();
  const noPool = await runEvolverCli(["experiences", "list", "--run", run.id, "--store", join(dir, "runs.db")]);
  assert.match(noPool.stderr, new RegExp(`run ${run.id} ran without an experience pool`));
});
