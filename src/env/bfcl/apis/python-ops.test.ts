import assert from "node:assert/strict";
import { test } from "node:test";
import { PyFloat, pyFloat } from "../python/value.js";
import { pyAdd, pyCompare, pyContains, pyEquals, pyMul, pyRoundFloat, pySub, pyToFloat, pyTrueDiv } from "./python-ops.js";
import { dateTimeOrder, strptime } from "./python-time.js";
import { BfclCallError } from "./types.js";

test("pyRoundFloat rounds the exact binary value half to even, as Python's round(x, n)", () => {
  // Expected values printed by CPython 3.11. 0.125 and 0.375 are exact ties (to even); 2.675, 1.005 and 0.285
  // are stored just below the half, so they round down.
  const cases: Array<[number, number, number]> = [
    [0.125, 2, 0.12], [0.375, 2, 0.38], [2.675, 2, 2.67], [1.005, 2, 1.0], [0.285, 2, 0.28], [-0.125, 2, -0.12],
    [-2.5, 0, -2], [0.5, 0, 0], [1.5, 0, 2], [100 / 7, 2, 14.29], [5e-324, 2, 0], [1e20 / 3, 2, 1e20 / 3],
  ];
  for (const [x, digits, expected] of cases) assert.equal(pyRoundFloat(x, digits).value, expected, `round(${x}, ${digits})`);
});

test("arithmetic keeps Python's int and float types and error texts", () => {
  assert.equal(pyAdd(2, 3), 5);
  assert.deepEqual(pyAdd(2, pyFloat(3)), pyFloat(5));
  assert.deepEqual(pySub(pyFloat(10), 10), pyFloat(0));
  assert.equal(pyMul(true, 7), 7);
  assert.deepEqual(pyMul(["a"], 2), ["a", "a"]);
  assert.deepEqual(pyTrueDiv(10, 5), pyFloat(2));
  assert.throws(() => pyTrueDiv(1, 0), new BfclCallError("division by zero"));
  assert.throws(() => pyTrueDiv(pyFloat(1), 0), new BfclCallError("float division by zero"));
  assert.throws(() => pySub(null, 1, "-="), new BfclCallError("unsupported operand type(s) for -=: 'NoneType' and 'int'"));
  assert.throws(() => pyAdd("Navigating to ", 5), new BfclCallError('can only concatenate str (not "int") to str'));
  assert.throws(() => pyMul("5", pyFloat(0.5)), new BfclCallError("can't multiply sequence by non-int of type 'float'"));
});

test("comparison, equality and membership follow Python", () => {
  assert.equal(pyEquals(1, pyFloat(1)), true);
  assert.equal(pyEquals(true, 1), true);
  assert.equal(pyEquals("1", 1), false);
  assert.equal(pyEquals({ a: [1, pyFloat(2)] }, new Map<number | string, never>([["a", [pyFloat(1), 2] as never]])), true);
  assert.equal(pyCompare(pyFloat(2.5), "<=", 3), true);
  assert.throws(() => pyCompare("a", "<", 1), new BfclCallError("'<' not supported between instances of 'str' and 'int'"));
  assert.equal(pyContains(new Map([[12345, null]]), pyFloat(12345)), true);
  assert.equal(pyContains({ "1": null }, 1), false);
  assert.equal(pyContains({ constructor: null }, "toString"), false);
  assert.throws(() => pyContains({}, ["a"]), new BfclCallError("unhashable type: 'list'"));
  assert.equal(pyContains(["NVDA"], "NVDA"), true);
});

test("pyToFloat parses what Python's float() accepts", () => {
  assert.deepEqual(pyToFloat(" 1_000.5 "), pyFloat(1000.5));
  assert.equal(pyToFloat("-inf").value, -Infinity);
  assert.ok(pyToFloat(3) instanceof PyFloat);
  assert.throws(() => pyToFloat("far"), new BfclCallError("could not convert string to float: 'far'"));
  assert.throws(() => pyToFloat(null), new BfclCallError("float() argument must be a string or a real number, not 'NoneType'"));
});

test("strptime matches _strptime's leniency and ValueError texts", () => {
  assert.deepEqual(strptime("2024-2-29", "%Y-%m-%d"), { year: 2024, month: 2, day: 29, hour: 0, minute: 0, second: 0 });
  assert.equal(strptime("2024-09-01 7:5:3", "%Y-%m-%d %H:%M:%S").second, 3);
  assert.equal(strptime("12:15 am", "%I:%M %p").hour, 0);
  assert.equal(strptime("12:15 PM", "%I:%M %p").hour, 12);
  assert.equal(strptime("1:15  pm", "%I:%M %p").hour, 13);
  assert.throws(() => strptime("2023-02-29", "%Y-%m-%d"), new BfclCallError("day is out of range for month"));
  assert.throws(() => strptime(" 2024-09-01", "%Y-%m-%d"), new BfclCallError("time data ' 2024-09-01' does not match format '%Y-%m-%d'"));
  assert.throws(() => strptime("2024-09-011", "%Y-%m-%d"), new BfclCallError("unconverted data remains: 1"));
  assert.throws(() => strptime(null, "%Y-%m-%d"), new BfclCallError("strptime() argument 1 must be str, not None"));
  assert.ok(dateTimeOrder(strptime("2024-09-01", "%Y-%m-%d")) < dateTimeOrder(strptime("2024-09-01 00:00:01", "%Y-%m-%d %H:%M:%S")));
});
