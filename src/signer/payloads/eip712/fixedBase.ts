import { secp256k1 } from "@noble/curves/secp256k1.js";
import { type FastPoint, invert, P, redP } from "./secp256k1Field.js";

/**
 * Fast multiplication of FIXED, PUBLIC secp256k1 points by PUBLIC scalars,
 * for signature verification only: a table of precomputed affine multiples
 * per point (signed fixed windows), then one mixed Jacobian addition per
 * window, with field arithmetic specialised to p = 2^256 − 2^32 − 977.
 *
 * Nothing here is constant time: it must never see a secret scalar (signing
 * uses noble's constant-time path; see `verifiedEcdsa.ts`).
 */

type NoblePoint = InstanceType<typeof secp256k1.Point> | InstanceType<typeof FastPoint>;
const Fp = secp256k1.Point.Fp;

const red = redP;
const mul = (a: bigint, b: bigint): bigint => red(a * b);
const sqr = (a: bigint): bigint => red(a * a);
const add = (a: bigint, b: bigint): bigint => {
  const t = a + b;
  return t >= P ? t - P : t;
};
const sub = (a: bigint, b: bigint): bigint => {
  const t = a - b;
  return t < 0n ? t + P : t;
};

/** A point in Jacobian coordinates (x = X/Z², y = Y/Z³); Z = 0 is the point at infinity. */
interface Jacobian {
  X: bigint;
  Y: bigint;
  Z: bigint;
}

/** 2·A (dbl-2009-l, a = 0), in place. */
function double(a: Jacobian): void {
  if (a.Z === 0n || a.Y === 0n) {
    a.Z = 0n;
    return;
  }
  const A = sqr(a.X);
  const B = sqr(a.Y);
  const C = sqr(B);
  let D = sub(sqr(add(a.X, B)), add(A, C));
  D = add(D, D);
  const E = add(add(A, A), A);
  const F = sqr(E);
  const X3 = sub(F, add(D, D));
  let C8 = add(C, C);
  C8 = add(C8, C8);
  C8 = add(C8, C8);
  const Y3 = sub(mul(E, sub(D, X3)), C8);
  const Z3 = mul(add(a.Y, a.Y), a.Z);
  a.X = X3;
  a.Y = Y3;
  a.Z = Z3;
}

/** A ← A + (x2, y2) (madd-2007-bl), in place; handles infinity, doubling and cancellation. */
export function addAffine(a: Jacobian, x2: bigint, y2: bigint): void {
  if (a.Z === 0n) {
    a.X = x2;
    a.Y = y2;
    a.Z = 1n;
    return;
  }
  const Z1Z1 = sqr(a.Z);
  const U2 = mul(x2, Z1Z1);
  const S2 = mul(mul(y2, a.Z), Z1Z1);
  const H = sub(U2, a.X);
  const rr = sub(S2, a.Y);
  if (H === 0n) {
    if (rr === 0n) double(a);
    else a.Z = 0n;
    return;
  }
  const HH = sqr(H);
  let I = add(HH, HH);
  I = add(I, I);
  const J = mul(H, I);
  const r = add(rr, rr);
  const V = mul(a.X, I);
  const X3 = sub(sub(sqr(r), J), add(V, V));
  const YJ = mul(a.Y, J);
  const Y3 = sub(mul(r, sub(V, X3)), add(YJ, YJ));
  const Z3 = sub(sub(sqr(add(a.Z, H)), Z1Z1), HH);
  a.X = X3;
  a.Y = Y3;
  a.Z = Z3;
}

/** Precomputed multiples of one public point: for window i, (j+1)·2^(W·i)·P for j < 2^(W−1), affine. */
export class FixedBaseTable {
  readonly #w: number;
  readonly #windows: number;
  readonly #half: number;
  /** x and y of every entry, window-major. */
  readonly #xs: bigint[];
  readonly #ys: bigint[];

  /** Builds the table of `point` (not the identity) with window `w` bits (cost ≈ windows · 2^(w−1) additions). */
  constructor(point: NoblePoint, w: number) {
    if (!Number.isInteger(w) || w < 2 || w > 16) throw new RangeError("window must be 2..16 bits");
    point.assertValidity();
    if (point.is0()) throw new RangeError("the identity has no table");
    this.#w = w;
    this.#windows = Math.ceil(256 / w) + 1;
    this.#half = 2 ** (w - 1);
    const projective: NoblePoint[] = [];
    let base = point;
    for (let i = 0; i < this.#windows; i++) {
      let acc = base;
      projective.push(acc);
      for (let j = 1; j < this.#half; j++) {
        acc = acc.add(base);
        projective.push(acc);
      }
      base = acc.double(); // 2^(w−1)·B doubled = 2^w·B, the next window's base
    }
    const invZ = Fp.invertBatch(projective.map((p) => p.Z));
    this.#xs = new Array<bigint>(projective.length);
    this.#ys = new Array<bigint>(projective.length);
    projective.forEach((p, i) => {
      const { x, y } = p.toAffine(invZ[i]);
      this.#xs[i] = x;
      this.#ys[i] = y;
    });
  }

  /** acc ← acc + k·P, for a public 0 ≤ k < 2^256. */
  accumulate(acc: Jacobian, k: bigint): void {
    if (k < 0n || k >= 1n << 256n) throw new RangeError("scalar out of range");
    const w = BigInt(this.#w);
    const mask = BigInt(2 ** this.#w - 1);
    const full = 2 ** this.#w;
    let rest = k;
    let carry = 0;
    for (let i = 0; i < this.#windows; i++) {
      let digit = Number(rest & mask) + carry;
      rest >>= w;
      carry = 0;
      if (digit > this.#half) {
        digit -= full;
        carry = 1;
      }
      if (digit === 0) continue;
      const at = i * this.#half + Math.abs(digit) - 1;
      const x = this.#xs[at]!;
      const y = this.#ys[at]!;
      addAffine(acc, x, digit < 0 ? (y === 0n ? 0n : P - y) : y);
    }
    if (carry !== 0 || rest !== 0n) throw new RangeError("scalar out of range");
  }
}

/** The point at infinity, as a fresh accumulator. */
export function infinity(): Jacobian {
  return { X: 0n, Y: 1n, Z: 0n };
}

/** Affine coordinates of an accumulator, or undefined at infinity. */
export function toAffine(a: Jacobian): { x: bigint; y: bigint } | undefined {
  if (a.Z === 0n) return undefined;
  const zi = invert(a.Z, P);
  const zi2 = sqr(zi);
  return { x: mul(a.X, zi2), y: mul(a.Y, mul(zi2, zi)) };
}

export type { Jacobian };
