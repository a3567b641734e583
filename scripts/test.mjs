#!/usr/bin/env node
// Runs the whole suite: the TypeScript tests (node's test runner through tsx) and the Python trainer's tests,
// then prints one plain closing line, `N passed, N failed`, that CI reads.
// Each result is printed as it arrives (the runners' output is passed through line by line while the counts are
// read from it), so a long suite shows its progress instead of nothing for minutes.
// Usage: npm test [-- path-prefix ...]   (only test files under the given prefixes)
import { spawn } from "node:child_process";
import { readdirSync, existsSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";

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

/**
 * Runs a command, copying the piped stream `watch` ("stdout" or "stderr") to ours line by line as it comes and
 * calling onLine with each line; the other stream is inherited. Resolves with the exit status.
 */
function run(command, args, watch, onLine) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", watch === "stdout" ? "pipe" : "inherit", watch === "stderr" ? "pipe" : "inherit"] });
    const out = watch === "stdout" ? process.stdout : process.stderr;
    const lines = createInterface({ input: child[watch], crlfDelay: Infinity });
    lines.on("line", (line) => {
      out.write(`${line}\n`);
      onLine(line);
    });
    child.once("error", reject);
    // "close" comes after the streams have ended, so every line has been seen.
    child.once("close", (status) => resolve(status));
  });
}

let passed = 0;
let failed = 0;

const tsFiles = findFiles("src", /\.test\.ts$/).filter(wanted);
if (tsFiles.length > 0) {
  const counts = { pass: 0, fail: 0 };
  const status = await run(
    process.execPath,
    ["--import", "tsx", "--test", "--test-reporter=spec", "--test-concurrency=2", ...tsFiles],
    "stdout",
    (line) => {
      const summary = /^ℹ (pass|fail) (\d+)$/.exec(line);
      if (summary) counts[summary[1]] = Number(summary[2]);
    },
  );
  passed += counts.pass;
  failed += counts.fail;
  if (status !== 0 && counts.fail === 0) failed += 1; // the runner itself broke
}

const pyFiles = findFiles("trainer", /^test_.*\.py$/).filter(wanted);
if (pyFiles.length > 0) {
  const python = process.env.EVOLVER_PYTHON ?? (existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3");
  const modules = pyFiles.map((f) => f.replace(/\.py$/, "").split("/").join("."));
  let ran = 0;
  let failures = 0;
  let errors = 0;
  let skipped = 0;
  const status = await run(python, ["-m", "unittest", "-v", ...modules], "stderr", (line) => {
    ran = Number((/^Ran (\d+) tests?/.exec(line) ?? [])[1] ?? ran);
    failures = Number((/failures=(\d+)/.exec(line) ?? [])[1] ?? failures);
    errors = Number((/errors=(\d+)/.exec(line) ?? [])[1] ?? errors);
    skipped = Number((/skipped=(\d+)/.exec(line) ?? [])[1] ?? skipped);
  });
  failed += failures + errors;
  passed += ran - failures - errors - skipped;
  if (status !== 0 && failures + errors === 0) failed += 1;
}

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
