import { createHmac } from "node:crypto";
import { ecdsa } from "@noble/curves/abstract/weierstrass.js";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { toChecksumAddress } from "../../../core/evm/address.js";
import {
  addressOfPublicKey,
  type RecoverableSignature,
  SECP256K1_HALF_N,
  SECP256K1_N,
} from "../../../core/evm/ecdsa.js";
import { KeyStoreError } from "../../keyStore.js";
import { isValidSecretKey } from "./ethKey.js";
import { addAffine, FixedBaseTable, infinity, type Jacobian, toAffine } from "./fixedBase.js";
import { FastPoint, fastFn } from "./secp256k1Field.js";

/**
 * ECDSA on secp256k1 with every signature VERIFIED before it leaves: sign
 * with stock @noble/curves (RFC 6979, low-S, its constant-time path; the
 * secret key and nonce never touch code of ours), then recompute
 * R = z·s⁻¹·G + r·s⁻¹·Q from the key's PUBLIC point Q and check R.x = r and
 * that R.y's parity is the recovery bit. That is a full ECDSA verification
 * under Q, whose address was checked once against the account's address, so
 * a returned signature always recovers to that address. Q's multiples are
 * precomputed per key ({@link FixedBaseTable}), which makes the check a
 * fraction of the cost of recovering the public key per signature.
 */

const Point = FastPoint;
const Fn = fastFn;

/**
 * noble's ECDSA on its own secp256k1 point class, with Node's native HMAC in
 * the RFC 6979 DRBG (the same signatures as `secp256k1.sign`, less CPU).
 * Only verification, which handles public values alone, runs on the faster
 * field arithmetic of {@link FastPoint}.
 */
const k1 = ecdsa(secp256k1.Point, sha256, {
  hmac: (key: Uint8Array, message: Uint8Array) =>
    new Uint8Array(createHmac("sha256", key).update(message).digest()),
});

/** Window of the generator's verification table (built once per thread: 23 × 2048 points, a few MB). */
const G_WINDOW = 12;
/** Window of each key's verification table (27 × 512 points, built on the key's second use). */
const Q_WINDOW = 10;
/**
 * Window of noble's own generator table, used by its constant-time k·G in
 * signing: 12 instead of noble's default 8 takes signing from ~210 to ~170 µs
 * here, same code path, same signatures.
 */
const SIGNING_WINDOW = 12;

let generatorTable: FixedBaseTable | undefined;
function gTable(): FixedBaseTable {
  if (generatorTable === undefined) {
    secp256k1.Point.BASE.precompute(SIGNING_WINDOW, false);
    generatorTable = new FixedBaseTable(Point.BASE, G_WINDOW);
  }
  return generatorTable;
}

/** Uses of a key after which its table is built (a key used once is not worth the table). */
const TABLE_AFTER_USES = 2;
/**
 * Most per-key tables one thread holds (≈ 1.4 MB each); keys past it verify
 * without one (≈ 1 ms instead of ≈ 0.1 ms). Tables are never evicted for
 * another key: a thread serving many keys keeps the first busy ones fast
 * instead of rebuilding tables over and over.
 */
const MAX_KEY_TABLES = 32;
let keyTables = 0;

/** Builds the generator's table (once per thread) ahead of the first verification. */
export function warmUpVerification(): void {
  gTable();
}

/** A key's public side, checked against its address once: what each signature is verified with. */
export class VerifyingKey {
  /** The address as a 160-bit number, and in EIP-55. */
  readonly address: bigint;
  readonly checksumAddress: string;
  readonly #point: InstanceType<typeof Point>;
  #table: FixedBaseTable | undefined;
  /** The table counts against {@link MAX_KEY_TABLES} (built on use, not asked for up front). */
  #counted = false;
  #uses = 0;

  /** The key of an uncompressed public point (65 bytes, 0x04 ‖ x ‖ y); throws for a point not on the curve. */
  constructor(uncompressed: Uint8Array, opts: { readonly precompute?: boolean } = {}) {
    const q = Point.fromBytes(uncompressed);
    q.assertValidity();
    this.#point = q;
    this.address = addressOfPublicKey(q.toBytes(false));
    this.checksumAddress = toChecksumAddress(this.address);
    if (opts.precompute === true) this.#table = new FixedBaseTable(q, Q_WINDOW);
  }

  /** acc ← acc + k·Q for a public scalar k (the table from the second use on). */
  accumulate(acc: Jacobian, k: bigint): void {
    if (this.#table === undefined && ++this.#uses >= TABLE_AFTER_USES && keyTables < MAX_KEY_TABLES) {
      this.#table = new FixedBaseTable(this.#point, Q_WINDOW);
      this.#counted = true;
      keyTables++;
    }
    if (this.#table !== undefined) {
      this.#table.accumulate(acc, k);
      return;
    }
    if (k === 0n) return;
    const p = this.#point.multiplyUnsafe(k);
    if (p.is0()) return;
    const { x, y } = p.toAffine();
    addAffine(acc, x, y);
  }

  /** Drops the key's table (the cache forgot the key). */
  release(): void {
    if (this.#counted) keyTables--;
    this.#counted = false;
    this.#table = undefined;
  }
}

/** The verifying key of a public point, its table built now (a key known to be used often: a token's). */
export function verifyingKeyOfPoint(uncompressed: Uint8Array): VerifyingKey {
  return new VerifyingKey(uncompressed, { precompute: true });
}

/**
 * The recovery id (0 or 1) under which (r, s) is a valid signature of
 * `digest` by the key, or undefined when it does not verify under the key
 * (or needs recovery id 2/3, R.x ≥ n, which Ethereum's v cannot express).
 * r and s must be in [1, n).
 */
export function recoveryIdUnderKey(
  digest: Uint8Array,
  r: bigint,
  s: bigint,
  key: VerifyingKey,
): 0 | 1 | undefined {
  if (digest.length !== 32) return undefined;
  if (r <= 0n || r >= SECP256K1_N || s <= 0n || s >= SECP256K1_N) return undefined;
  const z = Fn.create(bytesToBigint(digest));
  const sInv = Fn.inv(s);
  const acc = infinity();
  gTable().accumulate(acc, Fn.mul(z, sInv));
  key.accumulate(acc, Fn.mul(r, sInv));
  const R = toAffine(acc);
  if (R === undefined || R.x !== r) return undefined;
  return Number(R.y & 1n) as 0 | 1;
}

/**
 * Signs a 32-byte digest as it is (no prehash), RFC 6979 deterministic,
 * low-S, and verifies the result under `key` (see the file comment): the
 * recovery id must be the one the verification finds. Throws a bare Error
 * (never quoting the key) when signing fails, {@link KeyStoreError}
 * `corrupted` when the signature does not verify under `key`.
 */
export function signDigestVerified(
  digest: Uint8Array,
  secretKey: Uint8Array,
  key: VerifyingKey,
): RecoverableSignature {
  if (digest.length !== 32) throw new RangeError("the digest is not 32 bytes");
  gTable(); // both generator tables before the first signature
  let bytes: Uint8Array;
  try {
    bytes = k1.sign(digest, secretKey, { prehash: false, lowS: true, format: "recovered" });
  } catch {
    throw new Error("secp256k1 signing failed"); // the library's message may quote its input
  }
  const r = bytesToBigint(bytes.subarray(1, 33));
  const s = bytesToBigint(bytes.subarray(33, 65));
  const recovery = bytes[0];
  if ((recovery !== 0 && recovery !== 1) || s > SECP256K1_HALF_N || s === 0n || r === 0n) {
    throw new Error("secp256k1 produced a signature outside the Ethereum rules");
  }
  if (recoveryIdUnderKey(digest, r, s, key) !== recovery) {
    throw new KeyStoreError("corrupted", "secp256k1: the signature does not verify under the key's address");
  }
  return { r, s, recovery };
}

/**
 * Verifying keys by address, checked against their secret key once: the
 * first time a secret key is used for an address its public point is derived
 * and its address compared; later uses reuse the table. A different secret
 * key claiming the same address is caught by the per-signature verification.
 */
export class VerifyingKeyCache {
  readonly #byAddress = new Map<bigint, VerifyingKey>();
  readonly #max: number;

  constructor(maxKeys = 1024) {
    this.#max = maxKeys;
  }

  /**
   * The verifying key for `address`, derived from `secretKey` on first use.
   * Throws {@link KeyStoreError} `corrupted` for a malformed secret key or
   * one whose address is not `address`.
   */
  get(address: bigint, secretKey: Uint8Array): VerifyingKey {
    if (!isValidSecretKey(secretKey)) throw new KeyStoreError("corrupted", "secp256k1: malformed secret key");
    const cached = this.#byAddress.get(address);
    if (cached !== undefined) return cached;
    const key = new VerifyingKey(k1.getPublicKey(secretKey, false));
    if (key.address !== address) {
      throw new KeyStoreError("corrupted", "secp256k1: the stored key does not match its address");
    }
    if (this.#byAddress.size >= this.#max) {
      const oldest = this.#byAddress.keys().next().value;
      if (oldest !== undefined) {
        this.#byAddress.get(oldest)?.release();
        this.#byAddress.delete(oldest);
      }
    }
    this.#byAddress.set(address, key);
    return key;
  }
}

function bytesToBigint(bytes: Uint8Array): bigint {
  return bytes.length === 0
    ? 0n
    : BigInt(`0x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("hex")}`);
}
