#!/usr/bin/env node
// Runs the whole suite: the TypeScript tests (node's test runner through tsx) and the Python trainer's tests,
// then prints one plain closing line, `N passed, N failed`, that CI reads.
// Usage: npm test [-- path-prefix ...]   (only test files under the given prefixes)
import { spawnSync } from "node:child_process";
import { readdirSync, existsSync } from "node:fs";
import { join } from "node:path";

const prefixes = process.argv.slice(2);
const wanted = (file) => prefixes.length === 0 || prefixes.some((p) => file.startsWith(p.replace(/^\.\//, "")));

function findFiles(dir, pattern) {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...findFiles(path, pattern));
    else if (pattern.test(entry.name)) out.push(path);
  }
  return out.sort();
}

let passed = 0;
let failed = 0;

const tsFiles = findFiles("src", /\.test\.ts$/).filter(wanted);
if (tsFiles.length > 0) {
  const result = spawnSync(
    process.execPath,
    ["--import", "tsx", "--test", "--test-reporter=spec", "--test-concurrency=2", ...tsFiles],
    { stdio: ["ignore", "pipe", "inherit"], encoding: "utf8", maxBuffer: 1 << 30 },
  );
  process.stdout.write(result.stdout);
  const count = (name) => Number((result.stdout.match(new RegExp(`^ℹ ${name} (\\d+)$`, "m")) ?? [])[1] ?? 0);
  passed += count("pass");
  failed += count("fail");
  if (result.status !== 0 && count("fail") === 0) failed += 1; // the runner itself broke
}

const pyFiles = findFiles("trainer", /^test_.*\.py$/).filter(wanted);
if (pyFiles.length > 0) {
  const python = process.env.EVOLVER_PYTHON ?? (existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3");
  const modules = pyFiles.map((f) => f.replace(/\.py$/, "").split("/").join("."));
  const result = spawnSync(python, ["-m", "unittest", "-v", ...modules], {
    stdio: ["ignore", "inherit", "pipe"],
    encoding: "utf8",
    maxBuffer: 1 << 30,
  });
  process.stderr.write(result.stderr);
  const ran = Number((result.stderr.match(/^Ran (\d+) tests?/m) ?? [])[1] ?? 0);
  const failures = Number((result.stderr.match(/failures=(\d+)/) ?? [])[1] ?? 0);
  const errors = Number((result.stderr.match(/errors=(\d+)/) ?? [])[1] ?? 0);
  const skipped = Number((result.stderr.match(/skipped=(\d+)/) ?? [])[1] ?? 0);
  failed += failures + errors;
  passed += ran - failures - errors - skipped;
  if (result.status !== 0 && failures + errors === 0) failed += 1;
}

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
