import { test } from "node:test";
import assert from "node:assert/strict";
import { EvolverError, describeError } from "./errors.js";

test("EvolverError carries a code and is recognized across copies", () => {
  const error = new EvolverError("ENV_UNKNOWN", "unknown environment type 'x'", { details: { name: "x" } });
  assert.equal(EvolverError.isInstance(error), true);
  assert.equal(EvolverError.isInstance(new Error("plain")), false);
  assert.equal(describeError(error), "ENV_UNKNOWN: unknown environment type 'x'");
  assert.equal(error.details.name, "x");
});
