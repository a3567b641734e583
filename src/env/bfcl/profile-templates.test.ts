import { test } from "node:test";
import assert from "node:assert/strict";
import { loadBfclFuncDocs } from "./data.js";
import { BFCL_OPERATION_TEMPLATES } from "./profile-templates.js";

test("every function of the eight BFCL classes has a request template naming only its required parameters", () => {
  const docs = loadBfclFuncDocs();
  assert.deepEqual([...docs.keys()].sort(), ["GorillaFileSystem", "MathAPI", "MessageAPI", "TicketAPI", "TradingBot", "TravelAPI", "TwitterAPI", "VehicleControlAPI"]);
  const functions = [...docs.values()].flat();
  assert.deepEqual(functions.filter((doc) => !Object.hasOwn(BFCL_OPERATION_TEMPLATES, doc.name)).map((doc) => doc.name), []);
  assert.deepEqual(Object.keys(BFCL_OPERATION_TEMPLATES).filter((name) => !functions.some((doc) => doc.name === name)), [], "no template for a function BFCL lacks");
  for (const doc of functions) {
    // A placeholder the call may leave out (an optional parameter) would leave the template unfilled and the request
    // would fall back to the bare description: templates name required parameters only, the rest is added after.
    const required = (doc.parameters as { required?: string[] }).required ?? [];
    for (const [, name] of BFCL_OPERATION_TEMPLATES[doc.name].matchAll(/\{(\w+)\}/g)) {
      assert.ok(required.includes(name), `${doc.name}: {${name}} is not a required parameter (${required.join(", ")})`);
    }
  }
});
