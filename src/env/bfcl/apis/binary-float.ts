// Binary floating-point numbers of any precision on BigInt, as mpmath represents them: (sign, man, exp) with value
// (-1)^sign * man * 2^exp, plus zero, infinities and nan. Used by MathAPI's mpmath emulation and exact float ops.

export type Mpf =
  | { kind: "finite"; sign: 0 | 1; man: bigint; exp: number }
  | { kind: "zero" }
  | { kind: "inf"; sign: 0 | 1 }
  | { kind: "nan" };

export const ZERO: Mpf = { kind: "zero" };
export const NAN: Mpf = { kind: "nan" };

export function bitLength(n: bigint): number {
  if (n < 0n) n = -n;
  if (n === 0n) return 0;
  const hex = n.toString(16);
  return (hex.length - 1) * 4 + (32 - Math.clz32(parseInt(hex[0]!, 16)));
}

/** The exact value of a double. */
export function mpfFromDouble(x: number): Mpf {
  if (Number.isNaN(x)) return NAN;
  if (x === Infinity) return { kind: "inf", sign: 0 };
  if (x === -Infinity) return { kind: "inf", sign: 1 };
  if (x === 0) return ZERO;
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const high = view.getUint32(0);
  const low = view.getUint32(4);
  const biased = (high >>> 20) & 0x7ff;
  let man = (BigInt(high & 0xfffff) << 32n) | BigInt(low);
  let exp = -1074;
  if (biased !== 0) {
    man |= 1n << 52n;
    exp = biased - 1075;
  }
  return normalize({ kind: "finite", sign: x < 0 ? 1 : 0, man, exp });
}

/** The same value with an odd mantissa, as mpmath keeps it. */
export function normalize(x: Mpf): Mpf {
  if (x.kind !== "finite") return x;
  let { man, exp } = x;
  while ((man & 0xffffffffn) === 0n) (man >>= 32n), (exp += 32);
  while ((man & 1n) === 0n) (man >>= 1n), (exp += 1);
  return { kind: "finite", sign: x.sign, man, exp };
}

/** man * 2^exp rounded to `prec` bits, half to even; `sticky` says nonzero bits were cut below man. */
export function roundMpf(sign: 0 | 1, man: bigint, exp: number, prec: number, sticky = false): Mpf {
  if (man === 0n) return ZERO;
  const bits = bitLength(man);
  if (bits <= prec) return { kind: "finite", sign, man, exp };
  const shift = bits - prec;
  let quotient = man >> BigInt(shift);
  const remainder = man - (quotient << BigInt(shift));
  const half = 1n << BigInt(shift - 1);
  if (remainder > half || (remainder === half && (sticky || (quotient & 1n) === 1n))) quotient += 1n;
  let newExp = exp + shift;
  if (bitLength(quotient) > prec) {
    quotient >>= 1n;
    newExp += 1;
  }
  return { kind: "finite", sign, man: quotient, exp: newExp };
}

/** An exact rational p/q (q > 0) rounded to `prec` bits, as mpmath's from_rational. */
export function mpfFromRational(p: bigint, q: bigint, prec: number): Mpf {
  if (p === 0n) return ZERO;
  const sign: 0 | 1 = p < 0n ? 1 : 0;
  const magnitude = p < 0n ? -p : p;
  const shift = Math.max(0, prec + bitLength(q) - bitLength(magnitude) + 2);
  const scaled = magnitude << BigInt(shift);
  const quotient = scaled / q;
  return roundMpf(sign, quotient, -shift, prec, quotient * q !== scaled);
}

/** Whether two rounded values are equal (their mantissas may carry different trailing zeros). */
export function sameMpf(a: Mpf, b: Mpf): boolean {
  if (a.kind !== "finite" || b.kind !== "finite") return a.kind === b.kind;
  if (a.sign !== b.sign) return false;
  const e = Math.min(a.exp, b.exp);
  return a.man << BigInt(a.exp - e) === b.man << BigInt(b.exp - e);
}
