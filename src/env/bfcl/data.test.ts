import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { BFCL_CATEGORIES, bfclDocToTool, loadBfclFuncDocs, loadBfclGroundTruth, loadBfclLongContext, loadBfclQuestions, resolveBfclDataDir } from "./data.js";
import { PY_ELLIPSIS, PyFloat } from "./python/value.js";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url)).replace(/\/$/, "");

test("data dir: option, then EVOLVER_BFCL_DATA, then the copy in the package (not the cwd)", () => {
  assert.equal(resolveBfclDataDir("/x/y"), "/x/y");
  const saved = process.env.EVOLVER_BFCL_DATA;
  try {
    process.env.EVOLVER_BFCL_DATA = "/from/env";
    assert.equal(resolveBfclDataDir(), "/from/env");
    delete process.env.EVOLVER_BFCL_DATA;
    const cwd = process.cwd();
    process.chdir("/");
    try {
      assert.equal(resolveBfclDataDir(), join(repoRoot, "data", "bfcl-v3"));
    } finally {
      process.chdir(cwd);
    }
  } finally {
    if (saved === undefined) delete process.env.EVOLVER_BFCL_DATA;
    else process.env.EVOLVER_BFCL_DATA = saved;
  }
  assert.throws(() => loadBfclQuestions("base", join("/nonexistent", "bfcl")), /cannot read BFCL data file \/nonexistent\/bfcl\/BFCL_v3_multi_turn_base\.json/);
});

test("questions and ground truth: 200 per category, floats in configs kept", () => {
  for (const category of BFCL_CATEGORIES) {
    const questions = loadBfclQuestions(category);
    assert.equal(questions.length, 200);
    assert.equal(loadBfclGroundTruth(category).size, 200);
  }
  // Every fuelLevel in the data is written with a fraction ("fuelLevel": 10.0), so each must load as a float.
  const levels = loadBfclQuestions("base").flatMap((e) => {
    const vehicle = e.initial_config.VehicleControlAPI as Record<string, unknown> | undefined;
    return vehicle && "fuelLevel" in vehicle ? [vehicle.fuelLevel] : [];
  });
  assert.ok(levels.length > 0 && levels.every((level) => level instanceof PyFloat));
  const longContext = loadBfclLongContext();
  const watch = longContext.WATCH_LIST_EXTENSION as unknown[];
  assert.equal(watch.at(-1), PY_ELLIPSIS);
});

test("function docs become OpenAI tools: dict → object, float → number, descriptions and required kept", () => {
  const docs = loadBfclFuncDocs();
  assert.equal(docs.size, 8);
  const add = docs.get("MathAPI")!.find((d) => d.name === "add")!;
  const tool = bfclDocToTool(add);
  assert.equal(tool.function.name, "add");
  assert.match(tool.function.description, /Add two numbers/);
  assert.deepEqual(tool.function.parameters, {
    type: "object",
    properties: { a: { type: "number", description: "First number." }, b: { type: "number", description: "Second number. " } },
    required: ["a", "b"],
  });
  const all = [...docs.values()].flat().map(bfclDocToTool);
  const types = new Set<string>();
  const visit = (schema: Record<string, unknown>) => {
    if (typeof schema.type === "string") types.add(schema.type);
    for (const sub of Object.values((schema.properties as Record<string, Record<string, unknown>>) ?? {})) visit(sub);
    if (schema.items) visit(schema.items as Record<string, unknown>);
  };
  all.forEach((t) => visit(t.function.parameters));
  assert.deepEqual([...types].sort(), ["array", "boolean", "integer", "number", "object", "string"]);
});
