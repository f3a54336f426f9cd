import { randomBytes } from "node:crypto";
import { invert as nobleInvert } from "@noble/curves/abstract/modular.js";
import { ecdsa } from "@noble/curves/abstract/weierstrass.js";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { sha256 } from "@noble/hashes/sha2.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { addP, FastPoint, fastFn, fastFp, invert, mulP, N, P, redP, subP } from "./secp256k1Field.js";

const scalar = (m: bigint) => fc.bigInt({ min: 1n, max: m - 1n });

describe("secp256k1 field arithmetic", () => {
  it("reduces, multiplies, adds and subtracts exactly as the generic bigint field", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: P - 1n }), fc.bigInt({ min: 0n, max: P - 1n }), (a, b) => {
        expect(mulP(a, b)).toBe((a * b) % P);
        expect(addP(a, b)).toBe((a + b) % P);
        expect(subP(a, b)).toBe((((a - b) % P) + P) % P);
        expect(redP(a * b)).toBe((a * b) % P);
      }),
      { numRuns: 3000 },
    );
    for (const [a, b] of [
      [0n, 0n],
      [P - 1n, P - 1n],
      [P - 1n, 1n],
      [1n, P - 1n],
      [(1n << 256n) - 1n, (1n << 256n) - 1n],
    ] as const) {
      expect(mulP(a, b)).toBe((a * b) % P);
    }
    // inputs outside [0, p) fall back to the generic reduction
    expect(addP(P + 5n, P + 7n)).toBe(12n);
    expect(subP(-3n, P * 3n)).toBe(P - 3n);
    expect(mulP(-2n, 3n)).toBe(P - 6n);
  });

  it("inverts like noble's extended Euclid, modulo p and n", () => {
    for (const m of [P, N]) {
      fc.assert(
        fc.property(scalar(m), (a) => {
          const x = invert(a, m);
          expect(x).toBe(nobleInvert(a, m));
          expect((x * a) % m).toBe(1n);
        }),
        { numRuns: 2000 },
      );
      for (const a of [1n, 2n, 3n, m - 1n, m - 2n, 1n << 200n, (1n << 128n) + 1n, m + 5n, -7n]) {
        expect(invert(a, m)).toBe(nobleInvert(((a % m) + m) % m, m));
      }
      expect(() => invert(0n, m)).toThrow(RangeError);
      expect(() => invert(m, m)).toThrow(RangeError);
    }
    expect(() => invert(6n, 9n)).toThrow(RangeError); // gcd 3
  });

  it("keeps noble's field interface on the faster fields", () => {
    const a = 0x1234567890abcdefn;
    expect(fastFp.ORDER).toBe(P);
    expect(fastFp.inv(a)).toBe(secp256k1.Point.Fp.inv(a));
    expect(fastFp.sqr(a)).toBe(secp256k1.Point.Fp.sqr(a));
    expect(fastFp.neg(a)).toBe(secp256k1.Point.Fp.neg(a));
    expect(fastFp.sqrt(4n)).toBe(secp256k1.Point.Fp.sqrt(4n));
    expect(fastFp.pow(a, 5n)).toBe(secp256k1.Point.Fp.pow(a, 5n));
    expect(fastFn.inv(a)).toBe(secp256k1.Point.Fn.inv(a));
    expect(Object.isFrozen(fastFp)).toBe(true);
  });
});

describe("FastPoint", () => {
  it("is the same curve: same generator multiples and the same RFC 6979 signatures as noble's secp256k1", () => {
    const fast = ecdsa(FastPoint, sha256);
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }).filter((k) => secp256k1.utils.isValidSecretKey(k)),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        (key, digest) => {
          const opts = { prehash: false, lowS: true, format: "recovered" } as const;
          expect(Buffer.from(fast.sign(digest, key, opts))).toEqual(
            Buffer.from(secp256k1.sign(digest, key, opts)),
          );
          expect(Buffer.from(fast.getPublicKey(key, false))).toEqual(
            Buffer.from(secp256k1.getPublicKey(key, false)),
          );
        },
      ),
      { numRuns: 200 },
    );
    const k = BigInt(`0x${randomBytes(32).toString("hex")}`) % N;
    expect(FastPoint.BASE.multiply(k).toAffine()).toEqual(secp256k1.Point.BASE.multiply(k).toAffine());
  });
});
