import { secp256k1 } from "@noble/curves/secp256k1.js";
import { type RecoverableSignature, SECP256K1_HALF_N } from "../../../core/evm/ecdsa.js";

/**
 * The secret-key side of Ethereum ECDSA, the signing plane's alone: checking
 * and signing with a secp256k1 secret key. The public side (group order,
 * `r ‖ s ‖ v`, addresses, recovery) is `core/evm/ecdsa.ts`.
 */

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
