import { secp256k1 } from "@noble/curves/secp256k1.js";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { bytesToHex } from "@noble/hashes/utils.js";

/**
 * The public side of Ethereum ECDSA (secp256k1): the group order and the
 * low-S bound, the 65-byte `r ‖ s ‖ v` form, the address of a public key,
 * and recovering the address a signature was made by. Never signs: signing
 * is the signing plane's alone (`src/signer`).
 */

/** The order of the secp256k1 group, and half of it (the low-S bound, EIP-2). */
export const SECP256K1_N = secp256k1.Point.CURVE().n;
export const SECP256K1_HALF_N = SECP256K1_N >> 1n;

/** A recoverable ECDSA signature: r, s (low-S), and the recovery id (0 or 1). */
export interface RecoverableSignature {
  readonly r: bigint;
  readonly s: bigint;
  readonly recovery: 0 | 1;
}

const RSV_RE = /^0x[0-9a-fA-F]{130}$/;

/** The address of an uncompressed (65-byte, 0x04-prefixed) public key: the last 20 bytes of keccak256(x ‖ y). */
export function addressOfPublicKey(uncompressed: Uint8Array): bigint {
  if (uncompressed.length !== 65 || uncompressed[0] !== 0x04) throw new RangeError("not an uncompressed key");
  const hash = keccak_256(uncompressed.subarray(1));
  return BigInt(`0x${bytesToHex(hash.subarray(12))}`);
}

/** The address a recoverable signature of `digest` recovers to, or undefined when it recovers to nothing. */
export function recoverAddress(digest: Uint8Array, sig: RecoverableSignature): bigint | undefined {
  try {
    const point = new secp256k1.Signature(sig.r, sig.s, sig.recovery).recoverPublicKey(digest);
    return addressOfPublicKey(point.toBytes(false));
  } catch {
    return undefined;
  }
}

/** `0x` ‖ r (32) ‖ s (32) ‖ v (1, 27 or 28), the 65-byte form Ethereum wallets return. */
export function toRsvHex(sig: RecoverableSignature): string {
  return `0x${sig.r.toString(16).padStart(64, "0")}${sig.s.toString(16).padStart(64, "0")}${(27 + sig.recovery).toString(16)}`;
}

/**
 * Reads the 65-byte `0x r ‖ s ‖ v` form as an exchange contract checks it
 * (OpenZeppelin ECDSA): `v` 27 or 28, `0 < r`, `0 < s ≤ n/2`; undefined for
 * anything else.
 */
export function parseRsvHex(signature: unknown): RecoverableSignature | undefined {
  if (typeof signature !== "string" || !RSV_RE.test(signature)) return undefined;
  const r = BigInt(`0x${signature.slice(2, 66)}`);
  const s = BigInt(`0x${signature.slice(66, 130)}`);
  const v = Number.parseInt(signature.slice(130, 132), 16);
  if ((v !== 27 && v !== 28) || r === 0n || s === 0n || s > SECP256K1_HALF_N) return undefined;
  return { r, s, recovery: v === 27 ? 0 : 1 };
}

/**
 * The address a 65-byte `0x r ‖ s ‖ v` signature of `digest` recovers to, as
 * an exchange contract checks it ({@link parseRsvHex}); undefined for any
 * other signature.
 */
export function recoverSigner(digest: Uint8Array, signature: unknown): bigint | undefined {
  const sig = parseRsvHex(signature);
  return sig === undefined ? undefined : recoverAddress(digest, sig);
}
