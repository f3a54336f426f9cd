import { secp256k1 } from "@noble/curves/secp256k1.js";
import { keccak_256 } from "@noble/hashes/sha3.js";

/** The order of the secp256k1 group, and half of it (the low-S bound, EIP-2). */
export const SECP256K1_N = secp256k1.Point.CURVE().n;
export const SECP256K1_HALF_N = SECP256K1_N >> 1n;

/** A recoverable ECDSA signature: r, s (low-S), and the recovery id (0 or 1). */
export interface RecoverableSignature {
  readonly r: bigint;
  readonly s: bigint;
  readonly recovery: 0 | 1;
}

export { parseAddress, toChecksumAddress } from "../../../core/evm/address.js";

/** The address of an uncompressed (65-byte, 0x04-prefixed) public key: the last 20 bytes of keccak256(x ‖ y). */
export function addressOfPublicKey(uncompressed: Uint8Array): bigint {
  if (uncompressed.length !== 65 || uncompressed[0] !== 0x04) throw new RangeError("not an uncompressed key");
  const hash = keccak_256(uncompressed.subarray(1));
  return BigInt(`0x${Buffer.from(hash.subarray(12)).toString("hex")}`);
}

/** True when `secretKey` is a valid secp256k1 secret key (32 bytes, 0 < k < n). */
export function isValidSecretKey(secretKey: Uint8Array): boolean {
  return secretKey.length === 32 && secp256k1.utils.isValidSecretKey(secretKey);
}

/**
 * Signs a 32-byte digest as it is (no prehash), RFC 6979 deterministic, low-S
 * (s ≤ n/2). Throws a bare Error, never one that quotes the key.
 */
export function signDigest(digest: Uint8Array, secretKey: Uint8Array): RecoverableSignature {
  if (digest.length !== 32) throw new RangeError("the digest is not 32 bytes");
  let bytes: Uint8Array;
  try {
    bytes = secp256k1.sign(digest, secretKey, { prehash: false, lowS: true, format: "recovered" });
  } catch {
    throw new Error("secp256k1 signing failed"); // the library's message may quote its input
  }
  const sig = secp256k1.Signature.fromBytes(bytes, "recovered");
  const recovery = sig.recovery;
  if ((recovery !== 0 && recovery !== 1) || sig.s > SECP256K1_HALF_N || sig.s === 0n || sig.r === 0n) {
    throw new Error("secp256k1 produced a signature outside the Ethereum rules");
  }
  return { r: sig.r, s: sig.s, recovery };
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
