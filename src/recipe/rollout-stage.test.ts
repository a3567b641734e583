// Trajectories that end in one turn of the event loop are written together (savedTogether, rollout-stage.ts).
import assert from "node:assert/strict";
import { test } from "node:test";
import { savedTogether } from "./rollout-stage.js";

test("items that arrive in one turn are saved in one call, each promise settling after it; the next turn makes another", async () => {
  const calls: number[][] = [];
  const save = savedTogether<number>((items) => void calls.push(items));
  const first = [save(1), save(2), save(3)];
  assert.deepEqual(calls, []); // nothing written before the turn ends
  await Promise.all(first);
  assert.deepEqual(calls, [[1, 2, 3]]);
  await save(4);
  assert.deepEqual(calls, [[1, 2, 3], [4]]);
});

test("a failed save rejects every item of its batch and none of the next", async () => {
  let fail = true;
  const save = savedTogether<number>(() => {
    if (fail) throw new Error("disk full");
  });
  const results = await Promise.allSettled([save(1), save(2)]);
  assert.deepEqual(results.map((r) => r.status), ["rejected", "rejected"]);
  assert.match(String((results[0] as PromiseRejectedResult).reason), /disk full/);
  fail = false;
  await save(3);
});
