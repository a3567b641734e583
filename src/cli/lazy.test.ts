// Each command loads only what it uses: `evolver --help` reads no dependency at all, and a command loads its own
// module graph only when it is the one that runs. A child process records every module it resolves.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const recorder = fileURLToPath(new URL("./test-support/record-imports.mjs", import.meta.url));

/** The module URLs `evolver ...args` resolved (tsx's own and node: built-ins left out), and its stdout. */
function modulesLoadedBy(...args: string[]): { modules: string[]; stdout: string } {
  const dir = mkdtempSync(join(tmpdir(), "evolver-imports-"));
  try {
    const log = join(dir, "imports.log");
    const run = spawnSync(process.execPath, ["--import", "tsx", "--import", recorder, join(repoRoot, "src/cli/main.ts"), ...args], {
      cwd: repoRoot,
      env: { ...process.env, EVOLVER_IMPORT_LOG: log },
      encoding: "utf8",
    });
    assert.equal(run.status, 0, run.stderr);
    const modules = [...new Set(readFileSync(log, "utf8").split("\n"))].filter((url) => url !== "" && !url.startsWith("node:") && !url.includes("/node_modules/tsx/"));
    return { modules, stdout: run.stdout };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const heavy = ["node-llama-cpp", "better-sqlite3", "sqlite-vec", "@energetic-ai", "openai", "zod", "yaml"];
const fromPackage = (modules: string[], name: string) => modules.filter((url) => url.includes(`/node_modules/${name}/`));

test("evolver --help loads the command table and nothing else: no dependency, no command module", { timeout: 120_000 }, () => {
  const { modules, stdout } = modulesLoadedBy("--help");
  assert.match(stdout, /^usage: evolver <command>/);
  assert.match(stdout, /env replay/);
  assert.deepEqual(modules.filter((url) => url.includes("/node_modules/")), []);
  assert.deepEqual(modules.map((url) => url.slice(url.indexOf("/src/") + 1)).sort(), ["src/cli/commands.ts", "src/cli/main.ts", "src/cli/run-cli.ts", "src/core/errors.ts"]);
});

test("a command loads what it uses: runs reads SQLite, and neither it nor env replay loads llama.cpp; env profile --help loads nothing heavy", { timeout: 120_000 }, () => {
  const runs = modulesLoadedBy("runs", "--help").modules;
  assert.match(runs.join("\n"), /src\/cli\/runs\.ts/);
  assert.notEqual(fromPackage(runs, "better-sqlite3").length, 0, "the recorder sees a dependency when one is loaded");
  assert.deepEqual(fromPackage(runs, "node-llama-cpp"), []);
  const replay = modulesLoadedBy("env", "replay", "--help").modules;
  for (const name of heavy) assert.deepEqual(fromPackage(replay, name), [], `env replay loads ${name}`);
  // env profile loads its model and environment stacks inside the command: its help needs none of them.
  const profile = modulesLoadedBy("env", "profile", "--help").modules;
  for (const name of heavy) assert.deepEqual(fromPackage(profile, name), [], `env profile --help loads ${name}`);
});
