import { mod } from "@noble/curves/abstract/modular.js";
import { type EndomorphismOpts, weierstrass } from "@noble/curves/abstract/weierstrass.js";
import { secp256k1 } from "@noble/curves/secp256k1.js";

/**
 * Arithmetic modulo secp256k1's field prime p = 2^256 − 2^32 − 977 and group
 * order n, faster than the generic bigint field: reduction by folding the
 * high half (2^256 ≡ 2^32 + 977 mod p), additions without a division, and
 * modular inverses by Lehmer's extended Euclid (a few big steps driven by
 * 48-bit leading digits instead of one bigint division per quotient). The
 * results are the same numbers; only the work differs.
 */

export const P = secp256k1.Point.Fp.ORDER;
export const N = secp256k1.Point.Fn.ORDER;
const MASK256 = (1n << 256n) - 1n;
/** 2^256 mod p. */
const FOLD = 0x1000003d1n;
const LIMIT512 = 1n << 512n;

/** x mod p for 0 ≤ x < 2^512 (two folds of the high half, then one conditional subtraction). */
export function redP(x: bigint): bigint {
  let t = (x >> 256n) * FOLD + (x & MASK256);
  t = (t >> 256n) * FOLD + (t & MASK256);
  return t >= P ? t - P : t;
}

/** a·b mod p for 0 ≤ a, b < 2^256 (any other input: the generic reduction). */
export function mulP(a: bigint, b: bigint): bigint {
  const x = a * b;
  return x >= 0n && x < LIMIT512 ? redP(x) : mod(x, P);
}

/** a + b mod p for a, b in [0, p) (any other input: the generic reduction). */
export function addP(a: bigint, b: bigint): bigint {
  const t = a + b;
  if (t < P) return t >= 0n ? t : mod(t, P);
  const u = t - P;
  return u < P ? u : mod(t, P);
}

/** a − b mod p for a, b in [0, p) (any other input: the generic reduction). */
export function subP(a: bigint, b: bigint): bigint {
  const t = a - b;
  if (t >= 0n) return t < P ? t : mod(t, P);
  const u = t + P;
  return u >= 0n ? u : mod(t, P);
}

/** Leading-digit size of {@link invert}: digits and cofactors stay below 2^50, exact in doubles. */
const DIGIT_BITS = 48;

/** ⌊a / b⌋ for non-negative integers below 2^53 held in doubles (the float quotient, corrected). */
function floorDiv(a: number, b: number): number {
  let q = Math.floor(a / b);
  if (q * b > a) q--;
  else if ((q + 1) * b <= a) q++;
  return q;
}

/** Bit length of a positive bigint, from its double (exact enough: off by one at most, which is harmless). */
function approxBits(x: bigint): number {
  const d = Number(x);
  return d === Number.POSITIVE_INFINITY ? 1024 : Math.floor(Math.log2(d)) + 1;
}

/**
 * a⁻¹ mod m for a prime (or any odd) modulus m and a not divisible by m:
 * Lehmer's extended Euclid (Knuth, TAOCP vol. 2, 4.5.2, Algorithm L),
 * tracking only a's cofactor. Throws a RangeError when a ≡ 0 or gcd ≠ 1.
 */
export function invert(a: bigint, m: bigint): bigint {
  let v = a % m;
  if (v < 0n) v += m;
  if (v === 0n) throw new RangeError("invert: zero has no inverse");
  let u = m;
  // u ≡ cu·a, v ≡ cv·a (mod m); u ≥ v > 0.
  let cu = 0n;
  let cv = 1n;
  while (v !== 0n) {
    const shift = Math.max(0, approxBits(u) - DIGIT_BITS);
    const big = BigInt(shift);
    let uh = Number(u >> big);
    let vh = Number(v >> big);
    let A = 1;
    let B = 0;
    let C = 0;
    let D = 1;
    for (;;) {
      if (vh + C === 0 || vh + D === 0) break;
      const q = floorDiv(uh + A, vh + C);
      if (q !== floorDiv(uh + B, vh + D)) break;
      let t = A - q * C;
      A = C;
      C = t;
      t = B - q * D;
      B = D;
      D = t;
      t = uh - q * vh;
      uh = vh;
      vh = t;
    }
    if (B === 0) {
      // No safe step from the leading digits: one full-precision division.
      const q = u / v;
      const r = u - q * v;
      u = v;
      v = r;
      const c = cu - q * cv;
      cu = cv;
      cv = c;
    } else {
      const bA = BigInt(A);
      const bB = BigInt(B);
      const bC = BigInt(C);
      const bD = BigInt(D);
      const nu = bA * u + bB * v;
      const nv = bC * u + bD * v;
      u = nu;
      v = nv;
      const ncu = bA * cu + bB * cv;
      const ncv = bC * cu + bD * cv;
      cu = ncu;
      cv = ncv;
    }
  }
  if (u !== 1n) throw new RangeError("invert: not invertible");
  const r = cu % m;
  return r < 0n ? r + m : r;
}

/**
 * A copy of `field` (its own data and every method of its class, called on
 * the copy) with `methods` replaced.
 */
function withMethods<F extends object>(field: F, methods: Partial<Record<keyof F, unknown>>): F {
  const out: Record<string, unknown> = {};
  for (let o: object | null = Object.getPrototypeOf(field); o !== null && o !== Object.prototype; ) {
    for (const name of Object.getOwnPropertyNames(o)) {
      const value = (o as Record<string, unknown>)[name];
      if (name !== "constructor" && typeof value === "function" && !(name in out)) out[name] = value;
    }
    o = Object.getPrototypeOf(o);
  }
  Object.assign(out, field, methods);
  return Object.freeze(out) as F;
}

const nobleFp = secp256k1.Point.Fp;
const nobleFn = secp256k1.Point.Fn;

/** noble's secp256k1 base field with the faster arithmetic above (same results). */
export const fastFp: typeof nobleFp = withMethods(nobleFp, {
  mul: mulP,
  sqr: (a: bigint) => mulP(a, a),
  add: addP,
  sub: subP,
  neg: (a: bigint) => subP(0n, a),
  inv: (a: bigint) => invert(a, P),
});

/** noble's secp256k1 scalar field with the faster inverse (same results). */
export const fastFn: typeof nobleFn = withMethods(nobleFn, { inv: (a: bigint) => invert(a, N) });

/** secp256k1's GLV endomorphism, as noble's `secp256k1.ts` defines it (public curve constants). */
const SECP256K1_ENDO: EndomorphismOpts = {
  beta: BigInt("0x7ae96a2b657c07106e64479eac3434e99cf0497512f58995c1396c28719501ee"),
  basises: [
    [BigInt("0x3086d221a7d46bcde86c90e49284eb15"), -BigInt("0xe4437ed6010e88286f547fa90abfe4c3")],
    [BigInt("0x114ca50f7a8e2f3f657c1108d9d44cfd8"), BigInt("0x3086d221a7d46bcde86c90e49284eb15")],
  ] as NonNullable<EndomorphismOpts["basises"]>,
};

/**
 * noble's secp256k1 point class built on {@link fastFp} / {@link fastFn}:
 * the same curve, the same (constant-time-style) algorithms, faster field
 * arithmetic. Its signatures are byte-identical to `secp256k1`'s (tested).
 */
export const FastPoint = weierstrass(secp256k1.Point.CURVE(), {
  Fp: fastFp,
  Fn: fastFn,
  endo: SECP256K1_ENDO,
});
