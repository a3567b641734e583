// Correctly rounded natural logarithms on BigInt, with explicit error bounds: ln x = k ln 2 + 2 atanh(t) after
// reducing x to [1/sqrt2, sqrt2). A Ziv loop rounds the lower and upper bound of an approximation and adds bits
// until both agree. Used where no bit-exact emulation is needed (pow, mpmath's AGM range).
import { bitLength, normalize, roundMpf, sameMpf, ZERO, type Mpf } from "./binary-float.js";

/** atanh(n/q) * 2^bits, truncated, for |n/q| <= 1/3, with the number of series terms used (error <= 3 per term). */
function atanhFixed(n: bigint, q: bigint, bits: number): { value: bigint; terms: number } {
  if (n < 0n) {
    // atanh is odd; the series below needs a non-negative t (>> floors negative numbers).
    const positive = atanhFixed(-n, q, bits);
    return { value: -positive.value, terms: positive.terms };
  }
  const one = 1n << BigInt(bits);
  const t = (n * one) / q;
  const t2 = (t * t) >> BigInt(bits);
  let power = t;
  let sum = 0n;
  let terms = 0;
  for (let k = 1n; power !== 0n; k += 2n) {
    sum += power / k;
    power = (power * t2) >> BigInt(bits);
    terms++;
  }
  return { value: sum, terms };
}

let ln2Cache: { bits: number; value: bigint } | undefined;

/** ln 2 * 2^bits, truncated to within 4 units below. */
export function ln2Truncated(bits: number): bigint {
  if (!ln2Cache || ln2Cache.bits < bits) {
    const guard = bits + 40;
    ln2Cache = { bits: guard, value: 2n * atanhFixed(1n, 3n, guard).value };
  }
  return ln2Cache.value >> BigInt(ln2Cache.bits - bits);
}

/** ln(man * 2^exp) for man > 0, not 1, as L * 2^-bits with |error| <= err * 2^-bits and at least `relBits`
 * bits of relative accuracy. */
export function lnApprox(man: bigint, exp: number, relBits: number): { value: bigint; err: bigint; bits: number } {
  const bc = bitLength(man);
  // x = y * 2^k with y = man / 2^s in [1/sqrt2, sqrt2).
  let s = bc;
  if (2n * man * man < 1n << BigInt(2 * bc)) s = bc - 1;
  const k = exp + s;
  const scale = 1n << BigInt(s);
  // ln y = 2 atanh(t), t = (y - 1) / (y + 1) = (man - 2^s) / (man + 2^s).
  const n = man - scale;
  const q = man + scale;
  // When k = 0 the result is about 2t, which may be tiny: add fractional bits to keep relBits relative bits.
  const tinyBits = k === 0 && n !== 0n ? Math.max(0, bitLength(q) - bitLength(n)) : 0;
  const bits = relBits + tinyBits + 8;
  let value = 0n;
  let err = 0n;
  if (n !== 0n) {
    const series = atanhFixed(n, q, bits);
    value = 2n * series.value;
    err = 6n * BigInt(series.terms) + 4n;
  }
  if (k !== 0) {
    const extra = bitLength(BigInt(k)) + 8;
    value += (BigInt(k) * ln2Truncated(bits + extra)) >> BigInt(extra);
    err += 4n;
  }
  return { value, err, bits };
}

/** ln(x) for a finite x > 0 correctly rounded to prec bits (half to even). */
export function correctlyRoundedLog(x: Mpf & { kind: "finite" }, prec: number): Mpf {
  const odd = normalize(x) as Mpf & { kind: "finite" };
  if (odd.man === 1n && odd.exp === 0) return ZERO;
  // ln of a rational other than 1 is transcendental, so it is never on a rounding midpoint and this ends.
  for (let work = prec + 32; ; work *= 2) {
    const approx = lnApprox(x.man, x.exp, work);
    const sign: 0 | 1 = approx.value < 0n ? 1 : 0;
    const magnitude = sign ? -approx.value : approx.value;
    if (magnitude > approx.err) {
      const low = roundMpf(sign, magnitude - approx.err, -approx.bits, prec);
      const high = roundMpf(sign, magnitude + approx.err, -approx.bits, prec);
      if (sameMpf(low, high)) return low;
    }
  }
}
