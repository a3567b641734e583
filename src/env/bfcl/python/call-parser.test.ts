import { test } from "node:test";
import assert from "node:assert/strict";
import { EvolverError } from "../../../core/errors.js";
import { PyFloat, PyTuple } from "./value.js";
import { formatBfclCall, parseBfclCall, parseBfclCalls } from "./call-parser.js";

test("keyword and positional literals as in the ground truth", () => {
  assert.deepEqual(parseBfclCall("cd(folder='document')"), { name: "cd", positional: [], keyword: [["folder", "document"]] });
  assert.deepEqual(parseBfclCall("sort('final_report.pdf')"), { name: "sort", positional: ["final_report.pdf"], keyword: [] });
  const call = parseBfclCall("logarithm(value=36.0,base=6, precision=-4, flag=True, none=None, neg=-2.5e-3)");
  assert.deepEqual(call.keyword, [
    ["value", new PyFloat(36)],
    ["base", 6],
    ["precision", -4],
    ["flag", true],
    ["none", null],
    ["neg", new PyFloat(-0.0025)],
  ]);
  assert.ok(call.keyword[0][1] instanceof PyFloat, "36.0 stays a float");
});

test("strings: both quotes, escapes, raw and adjacent literals", () => {
  const call = parseBfclCall(String.raw`echo(content='a\'b\n\tc\\d \x41\u00e9\U0001F600 \q', other="say \"hi\"", raw=r'\n', joined='a' "b")`);
  assert.deepEqual(call.keyword, [
    ["content", "a'b\n\tc\\d Aé\u{1F600} \\q"],
    ["other", 'say "hi"'],
    ["raw", "\\n"],
    ["joined", "ab"],
  ]);
});

test("containers: list, dict (str keys → object, int keys → Map), tuple, set, trailing commas", () => {
  const call = parseBfclCall("f(a=['@Julia', 1,], b={'priority': 2, 'x': [1.5]}, c={1: 'a'}, d=(1,), e=(2), g=(), h={'x', 'y'}, i={})");
  const args = Object.fromEntries(call.keyword);
  assert.deepEqual(args.a, ["@Julia", 1]);
  assert.deepEqual(args.b, { priority: 2, x: [new PyFloat(1.5)] });
  assert.deepEqual(args.c, new Map([[1, "a"]]));
  assert.deepEqual(args.d, new PyTuple([1]));
  assert.equal(args.e, 2);
  assert.deepEqual(args.g, new PyTuple([]));
  assert.deepEqual(args.h, new Set(["x", "y"]));
  assert.deepEqual(args.i, {});
});

test("BFCL's prompting format: a list of calls, with or without brackets or a code fence", () => {
  const calls = parseBfclCalls(' [func(a=1, b="x"), g()] ');
  assert.deepEqual(calls.map((c) => c.name), ["func", "g"]);
  assert.deepEqual(parseBfclCalls("ls(a=True)").map((c) => c.name), ["ls"]);
  assert.deepEqual(parseBfclCalls("```python\n[cd(folder='x')]\n```").map((c) => c.name), ["cd"]);
  assert.deepEqual(parseBfclCalls("[]"), []);
});

test("formatBfclCall writes Python source that parses back to the same call", () => {
  const call = parseBfclCall("f('it\\'s', 10.0, n=10, l=[None, True], d={'k': -1})");
  const text = formatBfclCall(call);
  assert.equal(text, `f("it's",10.0,n=10,l=[None, True],d={'k': -1})`);
  assert.deepEqual(parseBfclCall(text), call);
});

test("malformed input is a BFCL_PARSE error naming the problem", () => {
  const cases: [string, RegExp][] = [
    ["cd(folder='document'", /expected/],
    ["cd(folder='document)", /unterminated string/],
    ["cd(folder=document)", /only literals are allowed, found the name 'document'/],
    ["cd(folder=open('x'))", /only literals/],
    ["cd(a=1, 2)", /positional argument follows keyword argument/],
    ["cd(a=1, a=2)", /keyword argument repeated: a/],
    ["os.system('ls')", /dotted names/],
    ["cd() extra", /unexpected text after the call/],
    ["", /expected a function name/],
    ["f(x=1j)", /complex/],
    ["f(x=-'a')", /unary/],
    ["Here is my answer: none", /./],
  ];
  for (const [text, message] of cases) {
    assert.throws(
      () => (text.startsWith("Here") ? parseBfclCalls(text) : parseBfclCall(text)),
      (error: unknown) => EvolverError.isInstance(error) && error.code === "BFCL_PARSE" && message.test(error.message),
      text,
    );
  }
});
