import { randomBytes } from "node:crypto";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { addressOfPublicKey, SECP256K1_HALF_N, SECP256K1_N } from "../../../core/evm/ecdsa.js";
import { KeyStoreError } from "../../keyStore.js";
import { FixedBaseTable, infinity, toAffine } from "./fixedBase.js";
import {
  recoveryIdUnderKey,
  signDigestVerified,
  VerifyingKey,
  VerifyingKeyCache,
  verifyingKeyOfPoint,
} from "./verifiedEcdsa.js";

const validKey = fc
  .uint8Array({ minLength: 32, maxLength: 32 })
  .filter((k) => secp256k1.utils.isValidSecretKey(k));
const digest32 = fc.uint8Array({ minLength: 32, maxLength: 32 });
const addressOf = (key: Uint8Array) => addressOfPublicKey(secp256k1.getPublicKey(key, false));

describe("fixed-base tables (public scalars only)", () => {
  it("multiply like noble, for any scalar and edge cases", () => {
    const q = secp256k1.Point.fromBytes(secp256k1.getPublicKey(randomBytes(32), false));
    for (const w of [4, 8]) {
      const table = new FixedBaseTable(q, w);
      const check = (k: bigint) => {
        const acc = infinity();
        table.accumulate(acc, k);
        const got = toAffine(acc);
        const want = k % SECP256K1_N === 0n ? undefined : q.multiplyUnsafe(k % SECP256K1_N).toAffine();
        expect(got).toEqual(want);
      };
      for (const k of [
        0n,
        1n,
        2n,
        SECP256K1_N - 1n,
        SECP256K1_N,
        SECP256K1_N + 1n,
        (1n << 256n) - 1n,
        1n << 255n,
      ])
        check(k);
      fc.assert(fc.property(fc.bigInt({ min: 0n, max: (1n << 256n) - 1n }), check), { numRuns: 300 });
      expect(() => table.accumulate(infinity(), -1n)).toThrow(RangeError);
      expect(() => table.accumulate(infinity(), 1n << 256n)).toThrow(RangeError);
    }
  });

  it("add a point to itself and to its negation correctly (doubling, cancellation)", () => {
    const g = secp256k1.Point.BASE;
    const table = new FixedBaseTable(g, 4);
    const acc = infinity();
    table.accumulate(acc, 5n);
    table.accumulate(acc, 5n); // 5G + 5G: the doubling case inside the addition
    expect(toAffine(acc)).toEqual(g.multiply(10n).toAffine());
    table.accumulate(acc, SECP256K1_N - 10n); // back to the identity
    expect(toAffine(acc)).toBeUndefined();
  });
});

describe("verified ECDSA", () => {
  it("signs exactly as noble (RFC 6979, low-S) and verifies each signature under the key", () => {
    fc.assert(
      fc.property(validKey, digest32, (key, digest) => {
        const cache = new VerifyingKeyCache();
        const vk = cache.get(addressOf(key), key);
        const want = secp256k1.Signature.fromBytes(
          secp256k1.sign(digest, key, { prehash: false, lowS: true, format: "recovered" }),
          "recovered",
        );
        for (let use = 0; use < 3; use++) {
          // first use without the key's table, later uses with it: the same answer
          const sig = signDigestVerified(digest, key, vk);
          expect(sig).toEqual({ r: want.r, s: want.s, recovery: want.recovery });
          expect(sig.s <= SECP256K1_HALF_N).toBe(true);
        }
      }),
      { numRuns: 20 },
    );
  });

  it("finds the recovery id of any valid (r, s), high-S included, and none under another key", () => {
    const key = secp256k1.utils.randomSecretKey();
    const other = secp256k1.utils.randomSecretKey();
    const vk = verifyingKeyOfPoint(secp256k1.getPublicKey(key, false));
    const otherVk = new VerifyingKey(secp256k1.getPublicKey(other, false));
    fc.assert(
      fc.property(digest32, (digest) => {
        const sig = secp256k1.Signature.fromBytes(
          secp256k1.sign(digest, key, { prehash: false, lowS: true, format: "recovered" }),
          "recovered",
        );
        expect(recoveryIdUnderKey(digest, sig.r, sig.s, vk)).toBe(sig.recovery);
        expect(recoveryIdUnderKey(digest, sig.r, SECP256K1_N - sig.s, vk)).toBe(sig.recovery === 0 ? 1 : 0);
        expect(recoveryIdUnderKey(digest, sig.r, sig.s, otherVk)).toBeUndefined();
        const flipped = Uint8Array.from(digest);
        flipped[0] = (flipped[0] ?? 0) ^ 1;
        expect(recoveryIdUnderKey(flipped, sig.r, sig.s, vk)).toBeUndefined();
      }),
      { numRuns: 100 },
    );
    expect(recoveryIdUnderKey(new Uint8Array(32), 0n, 1n, vk)).toBeUndefined();
    expect(recoveryIdUnderKey(new Uint8Array(32), 1n, SECP256K1_N, vk)).toBeUndefined();
    expect(recoveryIdUnderKey(new Uint8Array(31), 1n, 1n, vk)).toBeUndefined();
  });

  it("refuses a secret key that is not the key of the address, at first use and later", () => {
    const key = secp256k1.utils.randomSecretKey();
    const other = secp256k1.utils.randomSecretKey();
    const cache = new VerifyingKeyCache();
    expect(() => cache.get(addressOf(key), other)).toThrow(KeyStoreError);
    const vk = cache.get(addressOf(key), key);
    // a different key claiming the cached address: its signature does not verify under the address
    let error: unknown;
    try {
      signDigestVerified(randomBytes(32), other, vk);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(KeyStoreError);
    expect(error).toMatchObject({ code: "corrupted" });
    expect(() => cache.get(addressOf(key), new Uint8Array(32))).toThrow(KeyStoreError);
  });
});
