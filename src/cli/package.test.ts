// The npm package carries what it needs: the files `npm pack` would publish are copied into a fresh temporary folder
// (where no ../shared exists), the CLI is compiled into its dist/ as `npm run build` lays it out (the replay's bundle
// and code cache included), and `evolver env replay` of BFCL's base questions runs from that copy alone, reproducing
// BFCL's own vectors.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import ts from "typescript";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));

/** The package's file list as npm computes it from package.json `files` (scripts skipped: no build here). */
function packedFiles(): string[] {
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const out = execFileSync(npm, ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: repoRoot, encoding: "utf8" });
  return (JSON.parse(out) as { files: { path: string }[] }[])[0].files.map((file) => file.path);
}

/** src/**.ts → dist/**.js (ES modules: the package is "type": "module"), with tsconfig.build.json's exclusions; per-file transpiling, types are checked elsewhere. */
function buildDist(into: string): void {
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return entry.name === "test-support" ? [] : walk(path);
      return entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts") ? [path] : [];
    });
  const src = join(repoRoot, "src");
  for (const file of walk(src)) {
    const { outputText } = ts.transpileModule(readFileSync(file, "utf8"), {
      compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ES2022, esModuleInterop: true },
      fileName: file,
    });
    const out = join(into, "dist", relative(src, file).replace(/\.ts$/, ".js"));
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, outputText);
  }
}

test("the packed package runs a BFCL replay on its own, with no ../shared beside it", { timeout: 300_000 }, () => {
  const files = packedFiles();
  assert.ok(files.includes("data/bfcl-v3/BFCL_v3_multi_turn_base.json"), "the BFCL questions are in the package");
  assert.ok(files.includes("data/bfcl-v3/LICENSE") && files.includes("data/bfcl-v3/README.md"), "with their licence and source note");
  assert.ok(!files.some((file) => file.startsWith("data/bfcl-v3/vectors/")), "the test vectors stay out of the package");

  const work = mkdtempSync(join(tmpdir(), "evolver-package-"));
  try {
    const pkg = join(work, "package");
    for (const file of files.filter((f) => !f.startsWith("dist/"))) {
      mkdirSync(dirname(join(pkg, file)), { recursive: true });
      cpSync(join(repoRoot, file), join(pkg, file));
    }
    buildDist(pkg);
    // The build's last step: `env replay` as one file with V8's code cache (src/env/bfcl/replay-bundle.ts).
    execFileSync(process.execPath, [join(repoRoot, "scripts/bundle-replay.mjs"), join(pkg, "dist")], { stdio: "pipe" });
    const bundle = join(pkg, "dist/env/bfcl/replay.bundle.cjs");
    const accepted = spawnSync(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `import { readFileSync } from "node:fs";
         import { REPLAY_BUNDLE, REPLAY_CODE_CACHE, runReplayBundle } from ${JSON.stringify(pathToFileURL(join(pkg, "dist/env/bfcl/replay-bundle.js")).href)};
         const { script } = runReplayBundle(REPLAY_BUNDLE, readFileSync(REPLAY_BUNDLE, "utf8"), readFileSync(REPLAY_CODE_CACHE));
         console.log(script.cachedDataRejected ? "rejected" : "accepted");`,
      ],
      { encoding: "utf8" },
    );
    assert.equal(accepted.stdout.trim(), "accepted", `the code cache of ${bundle} is accepted by a plain node: ${accepted.stderr}`);
    // The runtime dependencies, as an install would put them beside the package.
    symlinkSync(join(repoRoot, "node_modules"), join(pkg, "node_modules"), "dir");
    assert.equal(existsSync(join(pkg, "..", "shared")), false);

    const env = { ...process.env };
    delete env.EVOLVER_BFCL_DATA;
    const out = join(work, "out.jsonl");
    const questions = join(pkg, "data/bfcl-v3/BFCL_v3_multi_turn_base.json");
    const run = spawnSync(process.execPath, [join(pkg, "dist/cli/main.js"), "env", "replay", "--vectors", questions, "--out", out], {
      cwd: work,
      env,
      encoding: "utf8",
    });
    assert.equal(run.status, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /replayed 200 entries/);

    // Every even id's line must be byte-identical to BFCL's own vector (the repository keeps those for the tests).
    const replayed = new Map(readFileSync(out, "utf8").split("\n").filter(Boolean).map((line) => [JSON.parse(line).id as string, line]));
    const expected = readFileSync(join(repoRoot, "data/bfcl-v3/vectors/multi_turn_base.vectors.jsonl"), "utf8").split("\n").filter(Boolean);
    assert.equal(expected.length, 100);
    for (const line of expected) assert.equal(replayed.get(JSON.parse(line).id as string), line);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test("the build marks the CLI executable, so that `npx evolver` runs in a fresh clone", () => {
  const pkg = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as { scripts: Record<string, string>; bin: Record<string, string> };
  assert.match(pkg.scripts.build, /node scripts\/cli-executable\.mjs$/, "npm run build ends by marking the bin executable");
  assert.equal(pkg.scripts.prepare, "npm run build", "npm's prepare step (a clone's npm install) is the same build");
  // the script on a bin laid out as tsc writes it (0644)
  const dir = mkdtempSync(join(tmpdir(), "evolver-bin-"));
  try {
    mkdirSync(join(dir, "dist", "cli"), { recursive: true });
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "x", bin: pkg.bin }));
    const bin = join(dir, Object.values(pkg.bin)[0]);
    writeFileSync(bin, "#!/usr/bin/env node\n", { mode: 0o644 });
    const run = spawnSync(process.execPath, [join(repoRoot, "scripts", "cli-executable.mjs")], { cwd: dir, encoding: "utf8" });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(statSync(bin).mode & 0o777, 0o755);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
