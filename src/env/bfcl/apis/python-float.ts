// Exact float operations for MathAPI where JavaScript's shortcuts differ from CPython: round(x, n) for any n
// (CPython rounds the exact binary value, ties to even), round(int, -n), and `**`, computed exactly for an
// integral exponent and correctly rounded through exp(y ln x) otherwise, as glibc's pow (nearly always) rounds;
// V8's Math.pow can be 1 ulp off. Exact halfway results (10.0 ** 23) go to even here; glibc is not consistent.
import { BfclCallError } from "./types.js";
import { bitLength, mpfFromDouble } from "./binary-float.js";
import { ln2Truncated, lnApprox } from "./exact-log.js";

/** p / q (p >= 0, q > 0) rounded to the nearest double, ties to even, subnormals and overflow included. */
export function rationalToDouble(p: bigint, q: bigint): number {
  if (p === 0n) return 0;
  // Aim for a 53-bit integer quotient p * 2^-e / q.
  let e = bitLength(p) - bitLength(q) - 53;
  if (e < -1074) e = -1074;
  const quotientAt = (shift: number): { quotient: bigint; sticky: boolean } => {
    const num = shift < 0 ? p << BigInt(-shift) : p;
    const den = shift > 0 ? q << BigInt(shift) : q;
    const quotient = num / den;
    return { quotient, sticky: quotient * den !== num };
  };
  let quotient = quotientAt(e).quotient;
  while (bitLength(quotient) > 53) quotient = quotientAt(++e).quotient;
  while (bitLength(quotient) < 53 && e > -1074) quotient = quotientAt(--e).quotient;
  // One extra bit decides the rounding; the bits below it break ties.
  const wide = quotientAt(e - 1);
  if ((wide.quotient & 1n) === 1n && (wide.sticky || (quotient & 1n) === 1n)) quotient += 1n;
  return Number(quotient) * 2 ** e;
}

function absExact(x: number): { num: bigint; den: bigint } {
  const m = mpfFromDouble(Math.abs(x));
  if (m.kind !== "finite") return { num: 0n, den: 1n };
  return m.exp >= 0 ? { num: m.man << BigInt(m.exp), den: 1n } : { num: m.man, den: 1n << BigInt(-m.exp) };
}

/** num / den rounded to an integer, ties to even. */
function divRoundHalfEven(num: bigint, den: bigint): bigint {
  const quotient = num / den;
  const twice = 2n * (num - quotient * den);
  if (twice > den || (twice === den && (quotient & 1n) === 1n)) return quotient + 1n;
  return quotient;
}

/** CPython's round(x, ndigits) for a float x and an int ndigits. */
export function pyRoundFloatExact(x: number, ndigits: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  if (ndigits > 323) return x;
  if (ndigits < -308) return 0 * x;
  const { num, den } = absExact(x);
  const power = 10n ** BigInt(Math.abs(ndigits));
  const rounded = ndigits >= 0 ? divRoundHalfEven(num * power, den) : divRoundHalfEven(num, den * power);
  const magnitude = ndigits >= 0 ? rationalToDouble(rounded, power) : rationalToDouble(rounded * power, 1n);
  if (magnitude === Infinity) throw new PyArithmeticError("rounded value too large to represent");
  return x < 0 ? -magnitude : magnitude;
}

/** CPython's round(n, ndigits) for an int n: unchanged for ndigits >= 0, else to a multiple of 10^-ndigits. */
export function pyRoundInt(n: number, ndigits: number): number {
  if (ndigits >= 0) return n;
  const power = 10n ** BigInt(-ndigits);
  const value = BigInt(n);
  const magnitude = divRoundHalfEven(value < 0n ? -value : value, power) * power;
  return Number(value < 0n ? -magnitude : magnitude);
}

/** ZeroDivisionError or OverflowError: not a TypeError, so MathAPI's `except TypeError` lets it through. */
export class PyArithmeticError extends BfclCallError {}

/** str() of the OverflowError CPython raises when float ** overflows (errno ERANGE). */
export const FLOAT_OVERFLOW = "(34, 'Numerical result out of range')";

/** CPython's float ** float (float_pow) for finite or special operands; complex results are refused. */
export function pyFloatPow(base: number, exponent: number): number {
  if (exponent === 0) return 1;
  if (Number.isNaN(base)) return base;
  if (Number.isNaN(exponent)) return base === 1 ? 1 : exponent;
  if (!Number.isFinite(exponent)) {
    const size = Math.abs(base);
    if (size === 1) return 1;
    return (size > 1) === exponent > 0 ? Infinity : 0;
  }
  const odd = Number.isInteger(exponent) && Math.abs(exponent % 2) === 1;
  if (!Number.isFinite(base)) {
    if (exponent > 0) return odd ? base : Math.abs(base);
    return odd ? (base < 0 ? -0 : 0) : 0;
  }
  if (base === 0) {
    if (exponent < 0) throw new PyArithmeticError("0.0 cannot be raised to a negative power");
    return odd ? base : 0;
  }
  let negate = false;
  if (base < 0) {
    if (!Number.isInteger(exponent)) throw new BfclCallError("complex results of ** are not supported");
    base = -base;
    negate = odd;
  }
  if (base === 1) return negate ? -1 : 1;
  const result = Number.isInteger(exponent) && Math.abs(exponent) <= 4096 ? exactIntegerPow(base, exponent) : roundedPow(base, exponent);
  if (!Number.isFinite(result)) throw new PyArithmeticError(FLOAT_OVERFLOW);
  return negate ? -result : result;
}

function exactIntegerPow(base: number, exponent: number): number {
  const m = mpfFromDouble(base);
  if (m.kind !== "finite") return Math.pow(base, exponent);
  const n = Math.abs(exponent);
  const man = m.man ** BigInt(n);
  const exp = m.exp * n;
  // base^exponent = man * 2^exp, or its reciprocal.
  const [num, den] = exp >= 0 ? [man << BigInt(exp), 1n] : [man, 1n << BigInt(-exp)];
  if (exponent < 0) {
    if (bitLength(den) - bitLength(num) > 1100) return Infinity;
    return rationalToDouble(den, num);
  }
  if (bitLength(num) - bitLength(den) > 1100) return Infinity;
  return rationalToDouble(num, den);
}

/** x ** y for finite x > 0, x != 1 and a non-integral finite y, correctly rounded: exp(y ln x) evaluated with
 * error bounds (a Ziv loop), as glibc's pow rounds (V8's Math.pow can be 1 ulp off). */
function roundedPow(x: number, y: number): number {
  const xm = mpfFromDouble(x);
  const ym = mpfFromDouble(Math.abs(y));
  if (xm.kind !== "finite" || ym.kind !== "finite") return Math.pow(x, y);
  const yBits = Math.max(0, Math.ceil(Math.log2(Math.abs(y))) + 1);
  for (let work = 80; work <= 5000; work *= 2) {
    // z = y ln x as Z * 2^-bits, |error| <= zErr units.
    const ln = lnApprox(xm.man, xm.exp, work + yBits + 16);
    const bits = ln.bits;
    let z = ln.value * ym.man;
    let zErr = ln.err * ym.man + 1n;
    if (ym.exp >= 0) {
      z <<= BigInt(ym.exp);
      zErr <<= BigInt(ym.exp);
    } else {
      z >>= BigInt(-ym.exp);
      zErr = (zErr >> BigInt(-ym.exp)) + 2n;
    }
    if (y < 0) z = -z;
    const one = 1n << BigInt(bits);
    // Far outside the double range: overflow, or a result below half the smallest subnormal.
    if (z > 710n * one) return Infinity;
    if (z < -746n * one) return 0;
    // exp(z) = exp(r) * 2^k with r = z - k ln 2, |r| <= ~0.35.
    const ln2 = ln2Truncated(bits);
    const k = Math.round(Number(z >> BigInt(bits - 64)) / 2 ** 64 / Math.LN2);
    const r = z - BigInt(k) * ln2;
    let term = one;
    let sum = one;
    let terms = 0;
    for (let n = 1n; term !== 0n; n++) {
      term = (term * r) / (one * n);
      sum += term;
      terms++;
    }
    const err = (zErr + BigInt(Math.abs(k)) * 4n) * 2n + BigInt(terms) * 2n + 4n;
    const toDouble = (value: bigint): number =>
      k >= 0 ? rationalToDouble(value << BigInt(k), one) : rationalToDouble(value, one << BigInt(-k));
    const low = toDouble(sum - err);
    const high = toDouble(sum + err);
    if (low === high) return low;
  }
  return Math.pow(x, y);
}

/** CPython's `float ** float` for x > 0 as mpmath's isqrt_fast uses it (`int ** -0.5`). */
export function pyFloatPowForMpmath(x: number, y: number): number {
  return roundedPow(x, y);
}
