import { test } from "node:test";
import assert from "node:assert/strict";
import { PY_ELLIPSIS, PyFloat, PyMpf, PyTuple, pyFloat } from "./value.js";
import { formatPyFloat, pyJsonDumps, pyRepr, pyStr, stringifyResult } from "./repr.js";

// Every expected string below was printed by CPython 3.11.

test("float repr: shortest digits, .0, exponent below 1e-4 and from 1e16", () => {
  const cases: [number, string][] = [
    [25000, "25000.0"],
    [1e-5, "1e-05"],
    [1e16, "1e+16"],
    [1e15 + 0.5, "1000000000000000.5"],
    [0.0001, "0.0001"],
    [0.1 + 0.2, "0.30000000000000004"],
    [123456789012345678, "1.2345678901234568e+17"],
    [1.5e-7, "1.5e-07"],
    [-2.5, "-2.5"],
    [1e22, "1e+22"],
    [5e-324, "5e-324"],
    [1.7976931348623157e308, "1.7976931348623157e+308"],
    [9999999999999998, "9999999999999998.0"],
    [0.00012345, "0.00012345"],
    [100, "100.0"],
    [-0, "-0.0"],
    [Infinity, "inf"],
    [-Infinity, "-inf"],
    [NaN, "nan"],
  ];
  for (const [x, expected] of cases) assert.equal(formatPyFloat(x), expected, `repr(${x})`);
});

test("str repr picks quotes like Python and escapes control and non-printable characters", () => {
  assert.equal(pyRepr("it's"), `"it's"`);
  assert.equal(pyRepr('say "hi"'), `'say "hi"'`);
  assert.equal(pyRepr(`both ' and "`), `'both \\' and "'`);
  assert.equal(
    pyRepr("tab\tnl\nbs\\ \x7f \x00 é \u200b \u{1F600} \u00a0 \ud800"),
    "'tab\\tnl\\nbs\\\\ \\x7f \\x00 é \\u200b \u{1F600} \\xa0 \\ud800'",
  );
});

test("repr of containers, tuples, ints versus floats, mpf and Ellipsis", () => {
  assert.equal(pyRepr(new PyTuple([1])), "(1,)");
  assert.equal(pyRepr(new PyTuple([])), "()");
  assert.equal(pyRepr(new Map<number | string, PyFloat | string>([[1, "a"], ["b", pyFloat(2)]])), "{1: 'a', 'b': 2.0}");
  assert.equal(pyStr([null, "x", PY_ELLIPSIS]), "[None, 'x', Ellipsis]");
  assert.equal(pyRepr({ result: new PyMpf("2.0") }), "{'result': mpf('2.0')}");
  assert.equal(pyStr(new PyMpf("1.3027")), "1.3027");
  assert.equal(pyStr([10, pyFloat(10), 2.5, true]), "[10, 10.0, 2.5, True]");
  assert.equal(pyRepr(new Set<number>()), "set()");
});

test("json.dumps defaults: ensure_ascii, int keys as strings, NaN, tuples as lists", () => {
  const value = new Map<number | string, unknown>([
    ["a", 'é\u{1F600}\x7f"\\'],
    [1, [pyFloat(1), 2, null, true]],
    ["f", pyFloat(NaN)],
    ["t", new PyTuple([1, 2])],
  ]);
  assert.equal(
    pyJsonDumps(value as never),
    '{"a": "\\u00e9\\ud83d\\ude00\\u007f\\"\\\\", "1": [1.0, 2, null, true], "f": NaN, "t": [1, 2]}',
  );
  assert.equal(pyJsonDumps({ a: "é", b: [1, pyFloat(2)] }, { compact: true, ensureAscii: false }), '{"a":"é","b":[1,2.0]}');
});

test("stringifyResult: str kept, dict as JSON or repr, the rest through str()", () => {
  assert.equal(stringifyResult("plain"), "plain");
  assert.equal(stringifyResult({ current_working_directory: "document" }), '{"current_working_directory": "document"}');
  assert.equal(stringifyResult({ result: new PyMpf("1.3027") }), "{'result': mpf('1.3027')}");
  assert.equal(stringifyResult({ s: new Set([3, 1]) }), "{'s': {3, 1}}");
  assert.equal(stringifyResult(null), "None");
  assert.equal(stringifyResult(["RMS", "SBK"]), "['RMS', 'SBK']");
  assert.equal(stringifyResult(pyFloat(25000)), "25000.0");
  assert.equal(stringifyResult(false), "False");
});
