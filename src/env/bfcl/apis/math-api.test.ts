// MathAPI against BFCL's Python class: every expected string below was printed by the upstream math_api.py under
// CPython with mpmath 1.3.0 (the pure-Python backend BFCL installs).
import { test } from "node:test";
import assert from "node:assert/strict";
import { BfclExecution } from "../executor.js";
import { mpfFromDouble } from "./binary-float.js";
import { correctlyRoundedLog } from "./exact-log.js";
import { mpfLog, mpfToStr } from "./mpmath-log.js";

function math(): BfclExecution {
  return new BfclExecution({ id: "test_0", involved_classes: ["MathAPI"], initial_config: {} });
}

const CASES: [string, string][] = [
  // logarithm: ln of each argument rounded to p bits, the quotient rounded to p bits, repr at repr_dps(p) digits.
  ["logarithm(value=20, base=10, precision=2)", "{'result': mpf('1.3027')}"],
  ["logarithm(value=980.0, base=20, precision=10)", "{'result': mpf('2.299121531134')}"],
  ["logarithm(value=8, base=2, precision=50)", "{'result': mpf('3.0')}"],
  // ln(1 + 2^-47) sits next to a rounding midpoint; mpmath's guard bits round it down (correct rounding: up).
  ["logarithm(value=1.8966102603512098, base=1.000000000000007, precision=13)", "{'result': mpf('90081593562956.0')}"],
  // mpmath measures "x - 1" from 1/4 for x in [1/4, 1/2) and returns it as the logarithm when it is tiny.
  ["logarithm(value=0.25000000000000006, base=2, precision=3)", "{'result': mpf('3.20382e-16')}"],
  ["logarithm(value=10, base=1, precision=5)", '{"error": ""}'], // ZeroDivisionError() has no message
  ["logarithm(value=0, base=10, precision=5)", "{'result': mpf('-inf')}"],
  ["logarithm(value='abc', base=2, precision=3)", `{"error": "cannot create mpf from 'abc'"}`],
  ["mean(numbers=[227.16, 2.552, 227.11, 227.09])", '{"result": 170.978}'],
  ["mean(numbers=[3288])", '{"result": 3288.0}'],
  ["mean(numbers=[])", '{"error": "Cannot calculate mean of an empty list"}'],
  ["mean(numbers=['a'])", '{"error": "All elements in the list must be numbers"}'],
  ["standard_deviation(numbers=[100, 95, 85, 90, 88, 92])", '{"result": 4.85340659285368}'],
  ["round_number(number=2.675, decimal_places=2)", '{"result": 2.67}'], // 2.675 is 2.67499999...
  ["round_number(number=0.125, decimal_places=2)", '{"result": 0.12}'], // an exact tie goes to even
  ["round_number(number=1250, decimal_places=-2)", '{"result": 1200}'],
  ["round_number(number=2.5)", '{"result": 2.0}'],
  ["round_number(number=2.5, decimal_places=None)", '{"result": 2}'],
  ["power(base=5, exponent=0.3333333333333333)", '{"result": 1.7099759466766968}'], // V8's Math.pow: ...697
  ["power(base=2, exponent=10)", '{"result": 1024}'],
  ["power(base=2, exponent=-2)", '{"result": 0.25}'],
  ["power(base=0, exponent=-1)", "Error during execution: 0.0 cannot be raised to a negative power"],
  ["divide(a=1, b=0)", '{"error": "Cannot divide by zero"}'],
  ["divide(a=7, b=2)", '{"result": 3.5}'],
  ["add(a='ab', b='cd')", '{"result": "abcd"}'],
  ["multiply(a='ab', b=2)", '{"error": "Both inputs must be numbers"}'],
  ["si_unit_conversion(value=5, unit_in='km', unit_out='um')", '{"result": 5000000000.0}'],
  ["imperial_si_conversion(value=100, unit_in='celsius', unit_out='fahrenheit')", '{"result": 212.0}'],
  ["min_value(numbers=[3, 1.0, 1, 2])", '{"result": 1.0}'],
  ["max_value(numbers=[[1], [2]])", '{"result": [2]}'],
  ["sum_values(numbers=[1, 2, 3.5])", '{"result": 6.5}'],
  ["percentage(part=1, whole=3)", '{"result": 33.33333333333333}'],
  ["absolute_value(number=-0.0)", '{"result": 0.0}'],
];

test("MathAPI calls print exactly what BFCL's Python class printed", () => {
  const api = math();
  const mismatches = CASES.filter(([call, expected]) => api.executeText(call) !== expected).map(
    ([call, expected]) => `${call}: got ${api.executeText(call)}, want ${expected}`,
  );
  assert.deepEqual(mismatches, []);
});

test("mpmath's log equals the correctly rounded value away from midpoints, and differs only next to one", () => {
  for (const x of [2, 3, 10, 0.1, 1234.5678, 1e300, 5e-324]) {
    for (const prec of [7, 53, 113, 400]) {
      const mine = mpfToStr(mpfLog(mpfFromDouble(x), prec), 200);
      const exact = mpfToStr(correctlyRoundedLog(mpfFromDouble(x) as never, prec), 200);
      assert.equal(mine, exact, `ln(${x}) at ${prec} bits`);
    }
  }
  const nearMidpoint = mpfFromDouble(1.000000000000007);
  assert.notEqual(mpfToStr(mpfLog(nearMidpoint, 47), 40), mpfToStr(correctlyRoundedLog(nearMidpoint as never, 47), 40));
});

test("MathAPI is stateless", () => {
  const api = math();
  api.executeText("add(a=1, b=2)");
  assert.deepEqual(api.state(), { MathAPI: {} });
});
