// CPython's `random.Random` (Mersenne Twister MT19937), bit for bit: the BFCL backends draw message ids,
// booking ids, timestamps and temperatures from seeded generators, and the recorded results contain them.
// Seeding, getrandbits, randbelow, random and uniform follow CPython's _randommodule.c and random.py.

const N = 624;
const M = 397;
const UPPER_MASK = 0x80000000;
const LOWER_MASK = 0x7fffffff;
const MATRIX_A = 0x9908b0df;

// The seeded states by seed. Every BFCL instance seeds a generator at creation and again from its scenario, and most
// never draw: seeding is two passes over 624 words, so the state is worked out once per seed, copied on first draw.
const seededStates = new Map<string, Uint32Array>();

export class PyRandom {
  private mt: Uint32Array | undefined;
  private index = N + 1;
  private readonly seed: bigint;

  /** `random.Random(seed)` for an int seed: init_by_array over the 32-bit words of |seed|, low word first. */
  constructor(seed: number | bigint) {
    this.seed = BigInt(seed);
  }

  /** The generator's state, seeded on first use. */
  private state(): Uint32Array {
    if (this.mt) return this.mt;
    let magnitude = this.seed < 0n ? -this.seed : this.seed;
    const cacheKey = magnitude.toString();
    let seeded = seededStates.get(cacheKey);
    if (!seeded) {
      const key: number[] = [];
      while (magnitude > 0n) {
        key.push(Number(magnitude & 0xffffffffn));
        magnitude >>= 32n;
      }
      if (key.length === 0) key.push(0);
      seeded = new Uint32Array(N);
      initByArray(seeded, key);
      seededStates.set(cacheKey, seeded);
    }
    this.mt = seeded.slice();
    this.index = N;
    return this.mt;
  }

  private twist(mt: Uint32Array): void {
    for (let kk = 0; kk < N; kk++) {
      const y = (mt[kk] & UPPER_MASK) | (mt[(kk + 1) % N] & LOWER_MASK);
      mt[kk] = mt[(kk + M) % N] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    }
    this.index = 0;
  }

  /** genrand_uint32: the next 32-bit output. */
  next32(): number {
    const mt = this.state();
    if (this.index >= N) this.twist(mt);
    let y = mt[this.index++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** A number when k <= 53 (exact), a bigint above. Words are drawn least significant first. */
  getrandbits(k: number): number | bigint {
    if (!Number.isInteger(k) || k < 0) throw new RangeError("number of bits must be non-negative");
    if (k === 0) return 0;
    if (k <= 32) return this.next32() >>> (32 - k);
    if (k <= 53) {
      const low = this.next32();
      const high = this.next32() >>> (64 - k);
      return high * 0x100000000 + low;
    }
    let result = 0n;
    let shift = 0n;
    for (let remaining = k; remaining > 0; remaining -= 32) {
      let word = this.next32();
      if (remaining < 32) word >>>= 32 - remaining;
      result |= BigInt(word) << shift;
      shift += 32n;
    }
    return result;
  }

  /** random.py's _randbelow_with_getrandbits: rejection sampling over bit_length(n) bits. */
  private randbelow(n: number): number {
    if (n <= 0) return 0;
    const k = bitLength(n);
    let r = this.getrandbits(k) as number;
    while (r >= n) r = this.getrandbits(k) as number;
    return r;
  }

  /** `randint(a, b)`, both ends included; a, b and the width must be safe integers. */
  randint(a: number, b: number): number {
    if (!Number.isSafeInteger(a) || !Number.isSafeInteger(b)) throw new RangeError("randint needs safe integers");
    if (b < a) throw new RangeError(`empty range for randint(${a}, ${b})`);
    const width = b - a + 1;
    if (!Number.isSafeInteger(width)) throw new RangeError("randint range too wide");
    return a + this.randbelow(width);
  }

  /** A float in [0, 1) with 53 random bits. */
  random(): number {
    const a = this.next32() >>> 5;
    const b = this.next32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  uniform(a: number, b: number): number {
    return a + (b - a) * this.random();
  }
}

function bitLength(n: number): number {
  return n.toString(2).length;
}

function initGenrand(mt: Uint32Array, seed: number): void {
  mt[0] = seed >>> 0;
  for (let i = 1; i < N; i++) {
    const previous = mt[i - 1] ^ (mt[i - 1] >>> 30);
    mt[i] = (Math.imul(1812433253, previous) + i) >>> 0;
  }
}

function initByArray(mt: Uint32Array, key: number[]): void {
  initGenrand(mt, 19650218);
  let i = 1;
  let j = 0;
  for (let k = Math.max(N, key.length); k > 0; k--) {
    const previous = mt[i - 1] ^ (mt[i - 1] >>> 30);
    mt[i] = ((mt[i] ^ Math.imul(previous, 1664525)) + key[j] + j) >>> 0;
    i++;
    j++;
    if (i >= N) {
      mt[0] = mt[N - 1];
      i = 1;
    }
    if (j >= key.length) j = 0;
  }
  for (let k = N - 1; k > 0; k--) {
    const previous = mt[i - 1] ^ (mt[i - 1] >>> 30);
    mt[i] = ((mt[i] ^ Math.imul(previous, 1566083941)) - i) >>> 0;
    i++;
    if (i >= N) {
      mt[0] = mt[N - 1];
      i = 1;
    }
  }
  mt[0] = UPPER_MASK;
}
