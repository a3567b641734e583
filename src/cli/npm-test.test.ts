// `npm test` (scripts/test.mjs) prints each result as it finishes and still ends with `N passed, N failed`. A fixture
// project has, in each language, a first test that passes at once and a second that waits until a gate file exists;
// this test creates the gate only after it has read the first result from the script's output. If the script held its
// output back to the end, the second test would give up waiting and fail, and the closing line would say so.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const python = process.env.EVOLVER_PYTHON ?? (existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3");

test("npm test streams each result as it finishes, then prints the closing count", { timeout: 300_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "evolver-npm-test-"));
  try {
    const gates = { ts: join(dir, "gate-ts"), py: join(dir, "gate-py") };
    mkdirSync(join(dir, "src"));
    mkdirSync(join(dir, "trainer"));
    symlinkSync(join(repoRoot, "node_modules"), join(dir, "node_modules"), "dir");
    writeFileSync(
      join(dir, "src", "gate.test.ts"),
      `import { test } from "node:test";
import { existsSync } from "node:fs";
test("ts first", () => {});
test("ts second waits for the gate", async () => {
  for (let i = 0; i < 1200 && !existsSync(${JSON.stringify(gates.ts)}); i++) await new Promise((r) => setTimeout(r, 100));
  if (!existsSync(${JSON.stringify(gates.ts)})) throw new Error("no gate: the first result was not printed in time");
});
`,
    );
    writeFileSync(join(dir, "trainer", "__init__.py"), "");
    writeFileSync(
      join(dir, "trainer", "test_gate.py"),
      `import os, time, unittest
class Gate(unittest.TestCase):
    def test_a_first(self):
        pass
    def test_b_second_waits_for_the_gate(self):
        for _ in range(1200):
            if os.path.exists(${JSON.stringify(gates.py)}):
                return
            time.sleep(0.1)
        self.fail("no gate: the first result was not printed in time")
`,
    );

    // NODE_TEST_CONTEXT would tell the script's own `node --test` that it runs inside a test file, and it would skip.
    const env: NodeJS.ProcessEnv = { ...process.env, EVOLVER_PYTHON: python };
    delete env.NODE_TEST_CONTEXT;
    const child = spawn(process.execPath, [join(repoRoot, "scripts", "test.mjs")], {
      cwd: dir,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const seen: string[] = [];
    const watch = (stream: NodeJS.ReadableStream) =>
      createInterface({ input: stream }).on("line", (line) => {
        seen.push(line);
        if (/✔ ts first/.test(line)) writeFileSync(gates.ts, "");
        if (/test_a_first .*\.\.\. ok/.test(line)) writeFileSync(gates.py, "");
      });
    watch(child.stdout);
    watch(child.stderr);
    const status = await new Promise<number | null>((resolve) => child.once("close", resolve));
    const output = seen.join("\n");
    assert.equal(seen.filter((line) => line.trim() !== "").at(-1), "4 passed, 0 failed", output);
    assert.equal(status, 0, output);
    // Each first result came before the second test finished: the gate lines prove the order, these the content.
    assert.ok(seen.findIndex((l) => /✔ ts first/.test(l)) < seen.findIndex((l) => /✔ ts second/.test(l)), output);
    assert.ok(seen.findIndex((l) => /test_a_first/.test(l)) < seen.findIndex((l) => /test_b_second/.test(l)), output);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
