// The backends against BFCL's own execution vectors (data README, "Vector format"): every ground-truth call of
// the 400 dev entries is replayed; each result string must be byte-identical and each state equal by value.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeError } from "../../core/errors.js";
import { BFCL_CATEGORIES, parseJsonLines, resolveBfclDataDir } from "./data.js";
import { compareVector, firstDifference, replayCalls, replayEntry, replayVectorFile, serializeVector, type BfclVector } from "./replay.js";
import { parsePythonJson } from "./python/json.js";
import { pyFloat } from "./python/value.js";

function loadVectors(category: string): BfclVector[] {
  const path = join(resolveBfclDataDir(), "vectors", `multi_turn_${category}.vectors.jsonl`);
  return parseJsonLines(readFileSync(path, "utf8"), path) as unknown as BfclVector[];
}

for (const category of BFCL_CATEGORIES) {
  test(`replay reproduces BFCL's ${category} vectors`, () => {
    const vectors = loadVectors(category);
    assert.equal(vectors.length, 100);
    const failures: string[] = [];
    for (const expected of vectors) {
      let message: string | undefined;
      try {
        message = compareVector(expected, replayEntry(expected, replayCalls(expected)))?.message;
      } catch (error) {
        message = `${expected.id}: replay threw ${describeError(error)}`;
      }
      if (message) failures.push(message);
    }
    const summary = `${category}: ${vectors.length - failures.length}/${vectors.length} entries match`;
    assert.equal(failures.length, 0, `${summary}\nfirst mismatches:\n${failures.slice(0, 3).join("\n")}`);
  });
}

test("state comparison: key order ignored, numbers by value, arrays ordered, types otherwise kept", () => {
  assert.equal(firstDifference({ a: 1, b: [1, 2] }, { b: [1, 2], a: 1 }), undefined);
  assert.equal(firstDifference({ x: 10 }, { x: pyFloat(10) }), undefined);
  assert.equal(firstDifference({ t: new Map([[1, "a"]]) }, { t: { "1": "a" } }), undefined);
  assert.equal(firstDifference({ a: [1, 2] }, { a: [2, 1] }), "a[0]");
  assert.equal(firstDifference({ a: { b: true } }, { a: { b: 1 } }), "a.b");
  assert.equal(firstDifference({ a: 1 }, { a: 1, c: 2 }), "c (unexpected)");
});

test("a vector serialises as Python wrote it: key order, compact, floats with .0, non-ASCII kept", () => {
  const line = '{"id":"x_1","involved_classes":["MathAPI"],"initial_config":{"A":{"f":10.0,"s":"é"}},"turns":[{"calls":[],"state":{"MathAPI":{}}}]}';
  assert.equal(serializeVector(parsePythonJson(line) as unknown as BfclVector), line);
});

test("a replay error names the file, the line and the entry once", () => {
  const dir = mkdtempSync(join(tmpdir(), "evolver-replay-error-"));
  try {
    const input = join(dir, "in.jsonl");
    const entry = { id: "multi_turn_base_0", involved_classes: ["Nope"], initial_config: {}, turns: [{ calls: [] }] };
    writeFileSync(input, `${JSON.stringify(entry)}\n`);
    assert.throws(() => replayVectorFile(input, join(dir, "out.jsonl")), (error: Error) => {
      assert.match(error.message, new RegExp(`^${input.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:1: entry multi_turn_base_0: `));
      assert.equal(error.message.split("entry multi_turn_base_0").length - 1, 1, error.message);
      return true;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
