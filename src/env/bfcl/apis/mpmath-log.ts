// MathAPI.logarithm's arithmetic as mpmath 1.3.0 (pure-Python backend) does it, bit for bit: `mp.dps = precision`
// sets a working precision of p bits, `log(value)` and `log(base)` are each computed by mpmath's own algorithm
// (fixed-point Taylor series around cached points, 20 guard bits) and rounded to p bits, their quotient is rounded
// to p bits, and repr prints it with `to_str` at repr_dps(p) digits.
//
// mpmath's log is not correctly rounded: where ln x lies very near a rounding midpoint (x = 1 + 2^-k, for one) its
// guard bits decide, so the algorithm itself is reproduced here, integer operation for integer operation. Above
// 2500 bits mpmath switches to an AGM method that is not reproduced; there the correctly rounded value is used.
import { bitLength, NAN, normalize, roundMpf, ZERO, type Mpf } from "./binary-float.js";
import { correctlyRoundedLog } from "./exact-log.js";
import { pyFloatPowForMpmath } from "./python-float.js";

/** math.log(10, 2) as CPython computes it; mpmath's digit/bit conversions use this double. */
const LOG2_10 = 3.3219280948873626;

/** Python's round() of a float to an int: halves go to even. */
function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** mpmath's dps_to_prec for an already int()-converted dps. */
export function dpsToPrec(dps: number): number {
  return Math.max(1, roundHalfEven((dps + 1) * LOG2_10));
}

function precToDps(prec: number): number {
  return Math.max(1, roundHalfEven(prec / LOG2_10) - 1);
}

/** mpmath's repr_dps: the digits `repr` prints at a precision of `prec` bits. */
export function reprDps(prec: number): number {
  const dps = precToDps(prec);
  return dps === 15 ? 17 : dps + 3;
}

/** Python's `a // b` (floor division); BigInt `/` truncates toward zero. */
function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return (a % b !== 0n) && ((a < 0n) !== (b < 0n)) ? q - 1n : q;
}

// ---- ln 2: a hyperbolic Machin formula with binary splitting, memoised as mpmath's constant_memo does

function acotSplit(q: bigint, a: number, b: number): [bigint, bigint, bigint] {
  if (b - a === 1) {
    const a1 = BigInt(2 * a + 3);
    return [1n, a1 * q * q, a1];
  }
  const m = Math.floor((a + b) / 2);
  const [p1, q1, r1] = acotSplit(q, a, m);
  const [p2, q2, r2] = acotSplit(q, m, b);
  return [q2 * p1 + r1 * p2, q1 * q2, r1 * r2];
}

function acothFixed(a: number, prec: number): bigint {
  const terms = Math.trunc((0.35 * prec) / Math.log(a) + 20);
  const [p, q] = acotSplit(BigInt(a), 0, terms);
  return ((p + q) << BigInt(prec)) / (q * BigInt(a));
}

let ln2Memo: { prec: number; value: bigint } = { prec: -1, value: 0n };

/** ln2_fixed(prec): floor-ish ln 2 * 2^prec, computed 5% + 10 bits wider and memoised for the process. */
function ln2Fixed(prec: number): bigint {
  if (prec > ln2Memo.prec) {
    const wide = Math.trunc(prec * 1.05 + 10);
    const extra = wide + 10;
    const sum = 18n * acothFixed(26, extra) - 2n * acothFixed(4801, extra) + 8n * acothFixed(8749, extra);
    ln2Memo = { prec: wide, value: sum >> 10n };
  }
  return ln2Memo.value >> BigInt(ln2Memo.prec - prec);
}

// ---- integer square roots as mpmath's pure-Python isqrt_fast computes them (approximate for large inputs)

function giantSteps(start: number, target: number): number[] {
  const steps = [target];
  while (steps[steps.length - 1]! > start * 2) steps.push(Math.floor(steps[steps.length - 1]! / 2) + 2);
  return steps.reverse();
}

const TWO_800 = 1n << 800n;

function isqrtFast(x: bigint): bigint {
  if (x < TWO_800) {
    let y = BigInt(Math.trunc(Math.sqrt(Number(x))));
    if (x >= 1n << 100n) {
      y = (y + x / y) >> 1n;
      if (x >= 1n << 200n) {
        y = (y + x / y) >> 1n;
        if (x >= 1n << 400n) y = (y + x / y) >> 1n;
      }
    }
    return y;
  }
  let bc = bitLength(x);
  const guardBits = 10;
  x <<= BigInt(2 * guardBits);
  bc += 2 * guardBits;
  bc += bc & 1;
  const hbc = bc / 2;
  const startprec = Math.min(50, hbc);
  // Newton iteration for 1/sqrt(x) from a floating-point start.
  const head = Number(x >> BigInt(bc - 2 * startprec));
  let r = BigInt(Math.trunc(2 ** (2 * startprec) * pyFloatPowForMpmath(head, -0.5)));
  let pp = startprec;
  let p = startprec;
  for (p of giantSteps(startprec, hbc)) {
    const r2 = (r * r) >> BigInt(2 * pp - p);
    const xr2 = ((x >> BigInt(bc - p)) * r2) >> BigInt(p);
    r = (r * ((3n << BigInt(p)) - xr2)) >> BigInt(pp + 1);
    pp = p;
  }
  return (r * (x >> BigInt(hbc))) >> BigInt(p + guardBits);
}

// ---- log_taylor and log_taylor_cached

const LOG_TAYLOR_PREC = 2500;
const LOG_TAYLOR_SHIFT = 9;

/** cache_prec_steps[prec]: the next power of two at or above prec (at most 2500), plus 20. */
function cachePrec(prec: number): number {
  let power = 2;
  while (power < prec) power *= 2;
  return Math.min(power, LOG_TAYLOR_PREC) + 20;
}

/** The series both log_taylor variants share: v + v^3/3 + v^5/5 + ... in fixed point, v >= 0, summed as mpmath
 * does (even and odd halves apart). */
function atanhSeriesSum(v: bigint, prec: number): bigint {
  const shift = BigInt(prec);
  const v2 = (v * v) >> shift;
  const v4 = (v2 * v2) >> shift;
  let s0 = v;
  let s1 = v / 3n;
  v = (v * v4) >> shift;
  let k = 5n;
  while (v !== 0n) {
    s0 += v / k;
    k += 2n;
    s1 += v / k;
    v = (v * v4) >> shift;
    k += 2n;
  }
  s1 = (s1 * v2) >> shift;
  return s0 + s1;
}

function logTaylor(x: bigint, prec: number, r: number): bigint {
  for (let i = 0; i < r; i++) x = isqrtFast(x << BigInt(prec));
  const one = 1n << BigInt(prec);
  let v = floorDiv((x - one) << BigInt(prec), x + one);
  const negative = v < 0n;
  if (negative) v = -v;
  const s = atanhSeriesSum(v, prec) << BigInt(1 + r);
  return negative ? -s : s;
}

const logTaylorCache = new Map<string, { a: bigint; logA: bigint }>();

function logTaylorCached(x: bigint, prec: number): bigint {
  const n = x >> BigInt(prec - LOG_TAYLOR_SHIFT);
  const cachedPrec = cachePrec(prec);
  const dprec = BigInt(cachedPrec - prec);
  const key = `${n},${cachedPrec}`;
  let entry = logTaylorCache.get(key);
  if (!entry) {
    const a = n << BigInt(cachedPrec - LOG_TAYLOR_SHIFT);
    entry = { a, logA: logTaylor(a, cachedPrec, 8) };
    logTaylorCache.set(key, entry);
  }
  const a = entry.a >> dprec;
  const logA = entry.logA >> dprec;
  const shift = BigInt(prec);
  const u = ((x - a) << shift) / a;
  const v = (u << shift) / ((2n << shift) + u);
  return logA + (atanhSeriesSum(v, prec) << 1n);
}

/** from_man_exp(m, -wp, prec): a signed fixed-point value rounded to prec bits. */
function fromFixed(m: bigint, wp: number, prec: number): Mpf {
  return m < 0n ? roundMpf(1, -m, -wp, prec) : roundMpf(0, m, -wp, prec);
}

/** mpf_log(x, prec) with round-to-nearest. Negative x has a complex logarithm: RangeError. */
export function mpfLog(x: Mpf, prec: number): Mpf {
  if (x.kind === "zero") return { kind: "inf", sign: 1 };
  if (x.kind === "nan") return NAN;
  if (x.kind === "inf") {
    if (x.sign === 1) throw new RangeError("logarithm of a negative number");
    return x;
  }
  if (x.sign === 1) throw new RangeError("logarithm of a negative number");
  const { man, exp } = normalize(x) as Mpf & { kind: "finite" };
  const bc = bitLength(man);
  let wp = prec + 20;
  if (man === 1n) {
    if (exp === 0) return ZERO;
    return fromFixed(BigInt(exp) * ln2Fixed(wp), wp, prec);
  }
  const mag = exp + bc;
  const absMag = Math.abs(mag);
  if (absMag <= 1) {
    // x - 1 as mpmath measures it (for mag = -1 it measures from 1/4, and mpmath then really returns that).
    const tsign = absMag === 0 ? 1 : 0;
    const tman = tsign ? (1n << BigInt(bc)) - man : man - (1n << BigInt(bc - 1));
    const tbc = bitLength(tman);
    const cancellation = bc - tbc;
    if (cancellation > wp) return roundMpf(tsign, tman, absMag - bc, prec);
    wp += cancellation;
  }
  if (wp > LOG_TAYLOR_PREC) return correctlyRoundedLog({ kind: "finite", sign: 0, man, exp }, prec);
  const shift = wp - bc;
  let m = logTaylorCached(shift >= 0 ? man << BigInt(shift) : man >> BigInt(-shift), wp);
  if (mag !== 0) m += BigInt(mag) * ln2Fixed(wp);
  return fromFixed(m, wp, prec);
}

/** mpf_div at prec bits, with mpmath's special cases; dividing by zero raises ZeroDivisionError (no message). */
export function mpfDiv(a: Mpf, b: Mpf, prec: number): Mpf {
  if (a.kind === "zero") {
    if (b.kind === "zero") throw new ZeroDivision();
    return b.kind === "nan" ? NAN : ZERO;
  }
  if (b.kind === "zero") throw new ZeroDivision();
  if (a.kind !== "finite" || b.kind !== "finite") {
    if (a.kind !== "finite" && b.kind !== "finite") return NAN;
    if (a.kind === "nan" || b.kind === "nan") return NAN;
    if (b.kind === "finite" && a.kind === "inf") return { kind: "inf", sign: a.sign === b.sign ? 0 : 1 };
    return ZERO;
  }
  const shift = Math.max(0, prec + bitLength(b.man) - bitLength(a.man) + 2);
  const scaled = a.man << BigInt(shift);
  const quotient = scaled / b.man;
  return roundMpf(a.sign === b.sign ? 0 : 1, quotient, a.exp - b.exp - shift, prec, quotient * b.man !== scaled);
}

export class ZeroDivision extends Error {}

/** mpmath's to_str(x, dps) with its defaults (strip zeros, fixed notation for exponents in (min_fixed, dps)). */
export function mpfToStr(x: Mpf, dps: number): string {
  if (x.kind === "zero") return "0.0";
  if (x.kind === "nan") return "nan";
  if (x.kind === "inf") return x.sign ? "-inf" : "+inf";
  const minFixed = Math.min(-Math.floor(dps / 3), -5);
  const maxFixed = dps;
  // to_digits_exp(x, dps + 3): floor of the value to enough decimal digits.
  const bc = bitLength(x.man);
  const bitprec = Math.trunc((dps + 3) * LOG2_10) + 10;
  const fixprec = Math.max(bitprec - x.exp - bc, 0);
  const fixdps = Math.trunc(fixprec / LOG2_10 + 0.5);
  const offset = x.exp + fixprec;
  const fixed = offset >= 0 ? x.man << BigInt(offset) : x.man >> BigInt(-offset);
  let digits = ((fixed * 10n ** BigInt(fixdps)) >> BigInt(fixprec)).toString();
  let exponent = digits.length - fixdps - 1;
  // Round to dps digits on the next digit (half up, as mpmath does on its truncated digits).
  if (digits.length > dps && digits[dps]! >= "5") {
    digits = digits.slice(0, dps);
    let i = dps - 1;
    while (i >= 0 && digits[i] === "9") i--;
    if (i >= 0) digits = digits.slice(0, i) + String(Number(digits[i]) + 1) + "0".repeat(dps - i - 1);
    else {
      digits = "1" + "0".repeat(dps - 1);
      exponent += 1;
    }
  } else {
    digits = digits.slice(0, dps);
  }
  let split: number;
  if (minFixed < exponent && exponent < maxFixed) {
    if (exponent < 0) {
      digits = "0".repeat(-exponent) + digits;
      split = 1;
    } else {
      split = exponent + 1;
      if (split > dps) digits += "0".repeat(split - dps);
    }
    exponent = 0;
  } else {
    split = 1;
  }
  digits = digits.slice(0, split) + "." + digits.slice(split);
  digits = digits.replace(/0+$/, "");
  if (digits.endsWith(".")) digits += "0";
  const sign = x.sign ? "-" : "";
  if (exponent === 0) return sign + digits;
  return exponent > 0 ? `${sign}${digits}e+${exponent}` : `${sign}${digits}e${exponent}`;
}
