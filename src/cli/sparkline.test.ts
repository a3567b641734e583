import { test } from "node:test";
import assert from "node:assert/strict";
import { sparkline } from "./sparkline.js";

test("sparkline: min to max over eight levels, a flat series flat, long series averaged into the width", () => {
  assert.equal(sparkline([0, 1, 2, 3, 4, 5, 6, 7]), "▁▂▃▄▅▆▇█");
  assert.equal(sparkline([3, 3, 3]), "▁▁▁");
  assert.equal(sparkline([]), "");
  // 8 values into 4 characters: bucket means 0.5, 2.5, 4.5, 6.5 → levels 0, 2.33, 4.67, 7 → ▁ ▃ ▆ █
  assert.equal(sparkline([0, 1, 2, 3, 4, 5, 6, 7], 4), "▁▃▆█");
  assert.equal(sparkline(Array.from({ length: 1000 }, (_, i) => i), 40).length, 40);
});
