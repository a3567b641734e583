// IEEE 754 half precision without Float16Array (Node 20 lacks it): round to nearest even, with subnormals and
// infinities, which is what numpy and PyTorch do when they cast float32 to float16.

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

export function float32ToFloat16Bits(value: number): number {
  f32[0] = value;
  const bits = u32[0];
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  let mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0); // inf or nan
  let halfExponent = exponent - 127 + 15;
  if (halfExponent >= 0x1f) return sign | 0x7c00; // overflow to inf
  if (halfExponent <= 0) {
    if (halfExponent < -10) return sign; // underflow to signed zero
    mantissa |= 0x800000; // make the implicit leading one explicit, then shift into a subnormal
    const shift = 14 - halfExponent;
    const halfMantissa = mantissa >>> shift;
    const remainder = mantissa & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    const rounded = remainder > halfway || (remainder === halfway && (halfMantissa & 1)) ? halfMantissa + 1 : halfMantissa;
    return sign | rounded;
  }
  const halfMantissa = mantissa >>> 13;
  const remainder = mantissa & 0x1fff;
  let result = sign | (halfExponent << 10) | halfMantissa;
  // A carry out of the mantissa correctly bumps the exponent (and can reach inf).
  if (remainder > 0x1000 || (remainder === 0x1000 && (halfMantissa & 1))) result += 1;
  return result;
}

export function float16BitsToFloat32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}
