import { test } from "node:test";
import assert from "node:assert/strict";
import { PyRandom } from "./random.js";

// Expected values printed by CPython 3.11 (`random.Random(seed)`); MT19937 is unchanged since 3.2.

test("random() and randint match CPython for seed 42", () => {
  const rng = new PyRandom(42);
  assert.equal(rng.random(), 0.6394267984578837);
  assert.equal(rng.randint(1, 100), 4);
  assert.equal(new PyRandom(42).randint(1, 100), 82);
});

test("MessageAPI seed 200191 gives CPython's five-digit ids", () => {
  const rng = new PyRandom(200191);
  assert.deepEqual(
    Array.from({ length: 5 }, () => rng.randint(10000, 99999)),
    [67410, 41772, 24547, 24421, 60424],
  );
});

test("wide ranges draw two words; uniform uses random()", () => {
  // randint(10**11, 10**12-1) needs 40 bits: two 32-bit words, the high one shifted right by 24.
  const rng = new PyRandom(141053);
  assert.equal(rng.randint(100000, 999999), 251675);
  assert.equal(rng.randint(10 ** 11, 10 ** 12 - 1), 391310425148);
  assert.equal(rng.randint(10000, 99999), 58617);
  assert.equal(rng.uniform(-10.0, 40.0), -0.4873295338339041);
});

test("getrandbits over 53 bits returns a bigint; 0 bits draws nothing", () => {
  const rng = new PyRandom(1053520);
  assert.equal(rng.randint(0, 86400), 69015);
  assert.equal(rng.getrandbits(70), 876115077928931915230n);
  assert.equal(rng.getrandbits(0), 0);
  assert.equal(rng.getrandbits(33), 2743181192);
});

test("seeds 0, negative and above 32 bits", () => {
  assert.equal(new PyRandom(0).random(), 0.8444218515250481);
  assert.equal(new PyRandom(-5).random(), 0.6229016948897019); // |seed| is used
  assert.equal(new PyRandom(2 ** 40 + 7).random(), 0.6137037779936511);
});
