import { test } from "node:test";
import assert from "node:assert/strict";
import { parseBfclCallsAsJson, toolCallToBfclCall } from "./tool-calls.js";
import { PyFloat } from "./python/value.js";

test("BFCL text → JSON arguments: floats keep .0, positional arguments take the doc's parameter names", () => {
  assert.deepEqual(parseBfclCallsAsJson("[add(a=1.0, b=2), sort('final_report.pdf'), ls()]"), [
    { name: "add", arguments: '{"a": 1.0, "b": 2}' },
    { name: "sort", arguments: '{"file_name": "final_report.pdf"}' },
    { name: "ls", arguments: "{}" },
  ]);
  assert.throws(() => parseBfclCallsAsJson("[no_such_function(1)]"), /name the arguments/);
  assert.throws(() => parseBfclCallsAsJson("[sort('a', file_name='b')]"), /multiple values/);
  assert.throws(() => parseBfclCallsAsJson("[f(s={1, 2})]"), /not JSON serializable/);
});

test("a native tool call keeps 10.0 a float; like BFCL's json.loads, empty and non-object arguments do not decode", () => {
  const call = toolCallToBfclCall({ id: "1", type: "function", function: { name: "fillFuelTank", arguments: '{"fuelAmount": 10.0}' } });
  assert.deepEqual(call, { name: "fillFuelTank", positional: [], keyword: [["fuelAmount", new PyFloat(10)]] });
  assert.deepEqual(toolCallToBfclCall({ id: "2", type: "function", function: { name: "ls", arguments: " {} " } }).keyword, []);
  assert.throws(() => toolCallToBfclCall({ id: "3", type: "function", function: { name: "ls", arguments: "" } }), /not valid JSON/);
  for (const text of ["[1]", "null", '"{}"', "3"]) {
    assert.throws(() => toolCallToBfclCall({ id: "4", type: "function", function: { name: "ls", arguments: text } }), /must be a JSON object/, text);
  }
});
