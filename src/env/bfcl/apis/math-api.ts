// BFCL's MathAPI (math_api.py at the v3 data commit): stateless arithmetic helpers. Results keep Python's types
// (int stays int, `/` always gives a float, a float anywhere makes a float), and a TypeError inside a method
// becomes the method's own `{"error": ...}` dict, as the upstream try/except blocks do. Other exceptions
// (ZeroDivisionError from `**`, OverflowError) escape as they do upstream.
//
// Not reproduced: Python results that have no value in our model. `square_root` returns a decimal.Decimal,
// `**` or `log` of a negative number give a complex, and an int beyond 2^53 (`power(10, 24)`) loses digits as a
// JS number. The first two raise BfclCallError instead. No ground-truth call uses any of them.
import { pyRepr, pyStringRepr } from "../python/repr.js";
import { PyFloat, PyMpf, describePyType, isPyDict, type PyDict, type PyValue } from "../python/value.js";
import { arg, method } from "./method-table.js";
import { mpfFromDouble, mpfFromRational, type Mpf } from "./binary-float.js";
import { dpsToPrec, mpfDiv, mpfLog, mpfToStr, reprDps, ZeroDivision } from "./mpmath-log.js";
import {
  isFloatValue,
  isPyNumeric,
  pyAbs,
  pyAdd,
  pyCompare,
  pyEquals,
  pyIterate,
  pyMul,
  pySub,
  pyTrueDiv,
  pyTruthy,
  PyValueError,
} from "./python-ops.js";
import { FLOAT_OVERFLOW, PyArithmeticError, pyFloatPow, pyRoundFloatExact, pyRoundInt } from "./python-float.js";
import { BfclCallError, type BfclApi, type BfclApiClass, type BfclMethod } from "./types.js";

/** Runs `body`; a TypeError becomes `{"error": message}`, as the upstream `except TypeError` blocks do. */
function catchTypeError(message: string, body: () => PyValue): PyValue {
  try {
    return body();
  } catch (error) {
    if (isTypeError(error)) return { error: message };
    throw error;
  }
}

// python-ops raises TypeErrors as plain BfclCallErrors, except ValueErrors and division by zero.
function isTypeError(error: unknown): boolean {
  return (
    error instanceof BfclCallError &&
    !(error instanceof PyArithmeticError) &&
    !(error instanceof PyValueError) &&
    !/division by zero/.test(error.message)
  );
}

/** Python's numeric value of an int, bool or float. */
function numberOf(value: PyValue): number {
  if (typeof value === "boolean") return value ? 1 : 0;
  return typeof value === "number" ? value : (value as PyFloat).value;
}

/** Python `sum(values)`: int 0 plus each item from left to right (a float makes the rest float). */
function pySum(values: PyValue): PyValue {
  let total: PyValue = 0;
  for (const item of pyIterate(values)) total = pyAdd(total, item);
  return total;
}

function pyLen(value: PyValue): number {
  if (typeof value === "string") return [...value].length;
  if (Array.isArray(value)) return value.length;
  if (value instanceof Map || value instanceof Set) return value.size;
  if (isPyDict(value)) return Object.keys(value).length;
  throw new BfclCallError(`object of type '${describePyType(value)}' has no len()`);
}

function mean(numbers: PyValue): PyValue {
  if (!pyTruthy(numbers)) return { error: "Cannot calculate mean of an empty list" };
  return catchTypeError("All elements in the list must be numbers", () => ({
    result: pyTrueDiv(pySum(numbers), pyLen(numbers)),
  }));
}

function standardDeviation(numbers: PyValue): PyValue {
  if (!pyTruthy(numbers)) return { error: "Cannot calculate standard deviation of an empty list" };
  return catchTypeError("All elements in the list must be numbers", () => {
    const items = pyIterate(numbers);
    const average = pyTrueDiv(pySum(numbers), pyLen(numbers));
    let total: PyValue = 0;
    for (const x of items) {
      // (x - mean) ** 2 is a float squared; x*x is its correctly rounded value.
      const deviation = (pySub(x, average) as PyFloat).value;
      const square = deviation * deviation;
      // float ** raises OverflowError where a finite base overflows.
      if (square === Infinity && Number.isFinite(deviation)) throw new PyArithmeticError(FLOAT_OVERFLOW);
      total = pyAdd(total, new PyFloat(square));
    }
    return { result: new PyFloat(Math.sqrt(pyTrueDiv(total, pyLen(numbers)).value)) };
  });
}

/** `key not in table` for a str-keyed table; an unhashable key raises TypeError as in Python. */
function lookup(table: Record<string, number>, key: PyValue): number | undefined {
  if (typeof key === "string") return Object.hasOwn(table, key) ? table[key] : undefined;
  if (Array.isArray(key) || key instanceof Map || key instanceof Set || isPyDict(key)) {
    throw new BfclCallError(`unhashable type: '${describePyType(key)}'`);
  }
  return undefined;
}

const TO_METERS: Record<string, number> = { km: 1000, m: 1, cm: 0.01, mm: 0.001, um: 1e-6, nm: 1e-9 };

function siUnitConversion(value: PyValue, unitIn: PyValue, unitOut: PyValue): PyValue {
  if (!isPyNumeric(value)) return { error: "Value must be a number" };
  const toMeters = lookup(TO_METERS, unitIn);
  const fromMeters = toMeters === undefined ? undefined : lookup(TO_METERS, unitOut);
  if (toMeters === undefined || fromMeters === undefined) {
    return { error: `Conversion from '${pyText(unitIn)}' to '${pyText(unitOut)}' is not supported` };
  }
  // from_meters = 1 / factor is always a float, so the result is a float.
  return { result: new PyFloat(numberOf(value) * toMeters * (1 / fromMeters)) };
}

const IMPERIAL: Record<string, number> = {
  cm_to_in: 0.393701,
  in_to_cm: 2.54,
  m_to_ft: 3.28084,
  ft_to_m: 0.3048,
  m_to_yd: 1.09361,
  yd_to_m: 0.9144,
  km_to_miles: 0.621371,
  miles_to_km: 1.60934,
  kg_to_lb: 2.20462,
  lb_to_kg: 0.453592,
  celsius_to_fahrenheit: 1.8,
  fahrenheit_to_celsius: 5 / 9,
};

function imperialSiConversion(value: PyValue, unitIn: PyValue, unitOut: PyValue): PyValue {
  if (!isPyNumeric(value)) return { error: "Value must be a number" };
  if (pyEquals(unitIn, unitOut)) return { result: value };
  const key = `${pyText(unitIn)}_to_${pyText(unitOut)}`;
  if (!Object.hasOwn(IMPERIAL, key)) {
    return { error: `Conversion from '${pyText(unitIn)}' to '${pyText(unitOut)}' is not supported` };
  }
  const factor = IMPERIAL[key]!;
  const x = numberOf(value);
  if (unitIn === "celsius" && unitOut === "fahrenheit") return { result: new PyFloat(x * factor + 32) };
  if (unitIn === "fahrenheit" && unitOut === "celsius") return { result: new PyFloat((x - 32) * factor) };
  return { result: new PyFloat(x * factor) };
}

/** str(value), as an f-string prints it. */
function pyText(value: PyValue): string {
  return typeof value === "string" ? value : pyRepr(value);
}

function divide(a: PyValue, b: PyValue): PyValue {
  if (pyEquals(b, 0)) return { error: "Cannot divide by zero" };
  return catchTypeError("Both inputs must be numbers", () => ({ result: pyTrueDiv(a, b) }));
}

function power(base: PyValue, exponent: PyValue): PyValue {
  if (!isPyNumeric(base) || !isPyNumeric(exponent)) {
    // Python's ** raises TypeError for everything else met here (str, list, None, ...).
    return { error: "Both inputs must be numbers" };
  }
  const x = numberOf(base);
  const y = numberOf(exponent);
  if (!isFloatValue(base) && !isFloatValue(exponent) && y >= 0) {
    // int ** non-negative int stays an exact int (beyond 2^53 it can only be approximated here).
    if (Math.abs(x) > 1 && Math.log2(Math.abs(x)) * y > 100000) return { result: Math.pow(x, y) };
    return { result: Number(BigInt(x) ** BigInt(y)) };
  }
  return { result: new PyFloat(pyFloatPow(x, y)) };
}

function roundNumber(number: PyValue, decimalPlaces: PyValue): PyValue {
  const failure = { error: "First input must be a number, second input must be an integer" };
  if (!isPyNumeric(number)) return failure;
  if (decimalPlaces === null) {
    // round(x, None) is round(x): an int, ties to even.
    if (!isFloatValue(number)) return { result: numberOf(number) };
    const x = numberOf(number);
    if (Number.isNaN(x)) throw new BfclCallError("cannot convert float NaN to integer");
    if (!Number.isFinite(x)) throw new BfclCallError("cannot convert float infinity to integer");
    return { result: pyRoundFloatExact(x, 0) };
  }
  if (typeof decimalPlaces !== "boolean" && (typeof decimalPlaces !== "number" || !Number.isInteger(decimalPlaces))) {
    return failure;
  }
  const digits = numberOf(decimalPlaces);
  if (!isFloatValue(number)) return { result: pyRoundInt(numberOf(number), digits) };
  return { result: new PyFloat(pyRoundFloatExact(numberOf(number), digits)) };
}

function percentage(part: PyValue, whole: PyValue): PyValue {
  if (pyEquals(whole, 0)) return { error: "Whole value cannot be zero" };
  return catchTypeError("Both inputs must be numbers", () => ({ result: new PyFloat(pyTrueDiv(part, whole).value * 100) }));
}

/** Python `a < b` / `a > b`, including lists, which compare at their first unequal item. */
function pyOrder(a: PyValue, op: "<" | ">", b: PyValue): boolean {
  if (Array.isArray(a) && Array.isArray(b)) {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) if (!pyEquals(a[i], b[i])) return pyOrder(a[i] as PyValue, op, b[i] as PyValue);
    return op === "<" ? a.length < b.length : a.length > b.length;
  }
  return pyCompare(a, op, b);
}

/** Python's min()/max(): the first item that no later item beats, compared with < or >. */
function extreme(numbers: PyValue, op: "<" | ">", emptyError: string): PyValue {
  if (!pyTruthy(numbers)) return { error: emptyError };
  return catchTypeError("All elements in the list must be numbers", () => {
    const items = pyIterate(numbers);
    let best: PyValue = items[0] as PyValue;
    for (const item of items.slice(1)) if (pyOrder(item, op, best)) best = item;
    return { result: best };
  });
}

function sumValues(numbers: PyValue): PyValue {
  if (!pyTruthy(numbers)) return { error: "Cannot calculate sum of an empty list" };
  return catchTypeError("All elements in the list must be numbers", () => ({ result: pySum(numbers) }));
}

// ---- logarithm: mpmath at a precision set from `precision`

/** Python int() of the value `mp.dps` is set to. */
function pyInt(value: PyValue): number {
  if (typeof value === "boolean") return value ? 1 : 0;
  if (typeof value === "number") return Math.trunc(value);
  if (value instanceof PyFloat) {
    if (Number.isNaN(value.value)) throw new BfclCallError("cannot convert float NaN to integer");
    if (!Number.isFinite(value.value)) throw new BfclCallError("cannot convert float infinity to integer");
    return Math.trunc(value.value);
  }
  if (typeof value === "string") {
    const text = value.trim();
    if (/^[+-]?\d+(?:_\d+)*$/.test(text)) return Number(text.replace(/_/g, ""));
    throw new BfclCallError(`invalid literal for int() with base 10: ${pyStringRepr(value)}`);
  }
  throw new BfclCallError(`int() argument must be a string, a bytes-like object or a real number, not '${describePyType(value)}'`);
}

// A Python float literal (underscores allowed between digits), the strings mpmath's from_str accepts.
const DIGITS = "\\d(?:_?\\d)*";
const DECIMAL_LITERAL = new RegExp(`^[+-]?(?:${DIGITS}(?:\\.(?:${DIGITS})?)?|\\.${DIGITS})(?:e[+-]?${DIGITS})?$`);

/** mpmath's convert() of a log argument at `prec` bits. */
function toMpf(value: PyValue, prec: number): Mpf {
  if (isPyNumeric(value)) return mpfFromDouble(numberOf(value));
  if (typeof value === "string") {
    const text = value.toLowerCase().trim();
    if (text === "inf" || text === "+inf") return { kind: "inf", sign: 0 };
    if (text === "-inf") return { kind: "inf", sign: 1 };
    if (text === "nan") return { kind: "nan" };
    if (DECIMAL_LITERAL.test(text)) return decimalToMpf(text.replace(/_/g, ""), prec);
    if (text.includes("j") || text.includes("/")) throw new BfclCallError("complex or fraction strings are not supported");
  }
  throw new BfclCallError(`cannot create mpf from ${pyRepr(value)}`);
}

function decimalToMpf(text: string, prec: number): Mpf {
  const [mantissa, exponentText] = text.split("e");
  let exponent = exponentText === undefined ? 0 : Number(exponentText);
  const [whole, fraction = ""] = mantissa!.split(".");
  const fractionDigits = fraction.replace(/0+$/, "");
  exponent -= fractionDigits.length;
  const man = BigInt((whole! + fractionDigits).replace(/^[+-]/, "") || "0") * (whole!.startsWith("-") ? -1n : 1n);
  if (exponent >= 0) return mpfFromRational(man * 10n ** BigInt(exponent), 1n, prec);
  return mpfFromRational(man, 10n ** BigInt(-exponent), prec);
}

// Far beyond any sensible request; Python would take minutes or hours there too.
const MAX_PREC_BITS = 20000;

function logarithm(value: PyValue, base: PyValue, precision: PyValue): PyValue {
  try {
    const prec = dpsToPrec(pyInt(precision));
    if (prec > MAX_PREC_BITS) throw new BfclCallError(`precision ${pyText(precision)} is too large`);
    const lnValue = mpfLog(toMpf(value, prec), prec);
    const lnBase = mpfLog(toMpf(base, prec), prec);
    return { result: new PyMpf(mpfToStr(mpfDiv(lnValue, lnBase, prec), reprDps(prec))) };
  } catch (error) {
    if (error instanceof ZeroDivision) return { error: "" };
    if (error instanceof RangeError) throw new BfclCallError("the complex logarithm of a negative number is not supported");
    if (error instanceof BfclCallError && !/not supported|too large/.test(error.message)) return { error: error.message };
    throw error;
  }
}

function squareRoot(): PyValue {
  throw new BfclCallError("square_root returns a decimal.Decimal, which is not supported");
}

class MathApiInstance implements BfclApi {
  readonly methods: Record<string, BfclMethod> = {
    logarithm: method("value, base, precision", (a) => logarithm(a.value!, a.base!, a.precision!)),
    mean: method("numbers", (a) => mean(a.numbers!)),
    standard_deviation: method("numbers", (a) => standardDeviation(a.numbers!)),
    si_unit_conversion: method("value, unit_in, unit_out", (a) => siUnitConversion(a.value!, a.unit_in!, a.unit_out!)),
    imperial_si_conversion: method("value, unit_in, unit_out", (a) => imperialSiConversion(a.value!, a.unit_in!, a.unit_out!)),
    add: method("a, b", (a) => catchTypeError("Both inputs must be numbers", () => ({ result: pyAdd(a.a!, a.b!) }))),
    subtract: method("a, b", (a) => catchTypeError("Both inputs must be numbers", () => ({ result: pySub(a.a!, a.b!) }))),
    multiply: method("a, b", (a): PyValue =>
      isPyNumeric(a.a!) && isPyNumeric(a.b!) ? { result: pyMul(a.a!, a.b!) } : { error: "Both inputs must be numbers" },
    ),
    divide: method("a, b", (a) => divide(a.a!, a.b!)),
    power: method("base, exponent", (a) => power(a.base!, a.exponent!)),
    square_root: method("number, precision", () => squareRoot()),
    absolute_value: method("number", (a) => catchTypeError("Input must be a number", () => ({ result: pyAbs(a.number!) }))),
    round_number: method("number, decimal_places=", (a) => roundNumber(a.number!, arg(a, "decimal_places", 0))),
    percentage: method("part, whole", (a) => percentage(a.part!, a.whole!)),
    min_value: method("numbers", (a) => extreme(a.numbers!, "<", "Cannot find minimum of an empty list")),
    max_value: method("numbers", (a) => extreme(a.numbers!, ">", "Cannot find maximum of an empty list")),
    sum_values: method("numbers", (a) => sumValues(a.numbers!)),
  };

  /** MathAPI is stateless: BFCL never loads a scenario into it. */
  loadScenario(_config: PyDict, _longContext: boolean): void {}

  state(): PyDict {
    return {};
  }
}

export const MathAPI: BfclApiClass = {
  className: "MathAPI",
  docFile: "math_api",
  create: () => new MathApiInstance(),
};
