import { secp256k1 } from "@noble/curves/secp256k1.js";
import { keccak_256 } from "@noble/hashes/sha3.js";

/** The order of the secp256k1 group, and half of it (the low-S bound, EIP-2). */
export const SECP256K1_N = secp256k1.Point.CURVE().n;
export const SECP256K1_HALF_N = SECP256K1_N >> 1n;

const ADDRESS_RE = /^0x[0-9a-fA-F]{40}$/;
const LOWER_RE = /^0x[0-9a-f]{40}$/;
const UPPER_RE = /^0x[0-9A-F]{40}$/;
const encoder = new TextEncoder();

/** A recoverable ECDSA signature: r, s (low-S), and the recovery id (0 or 1). */
export interface RecoverableSignature {
  readonly r: bigint;
  readonly s: bigint;
  readonly recovery: 0 | 1;
}

/**
 * An Ethereum address as a 160-bit number: `0x` + 40 hex digits, all lowercase,
 * all uppercase, or mixed case with a valid EIP-55 checksum; otherwise undefined.
 * @example parseAddress("0x52908400098527886E0F7030069857D2E4169EE7") // 0x5290…9ee7n
 */
export function parseAddress(text: unknown): bigint | undefined {
  if (typeof text !== "string" || !ADDRESS_RE.test(text)) return undefined;
  if (!LOWER_RE.test(text) && !UPPER_RE.test(text) && !hasValidChecksum(text)) return undefined;
  return BigInt(text);
}

/** Mixed-case addresses whose EIP-55 checksum held (public data: saves a keccak per order field). */
const checksummed = new Set<string>();
const MAX_CHECKSUMMED = 4096;

function hasValidChecksum(text: string): boolean {
  if (checksummed.has(text)) return true;
  if (toChecksumAddress(text) !== text) return false;
  if (checksummed.size >= MAX_CHECKSUMMED) checksummed.clear();
  checksummed.add(text);
  return true;
}

/** The EIP-55 spelling of an address (given in any case, or as its 160-bit number). */
export function toChecksumAddress(address: string | bigint): string {
  const lower = (typeof address === "bigint" ? address.toString(16).padStart(40, "0") : address.slice(2))
    .toLowerCase()
    .slice(-40);
  const hash = keccak_256(encoder.encode(lower));
  let out = "0x";
  for (let i = 0; i < 40; i++) {
    const c = lower.charAt(i);
    const nibble = ((hash[i >> 1] ?? 0) >> (i % 2 === 0 ? 4 : 0)) & 0xf;
    out += nibble >= 8 ? c.toUpperCase() : c;
  }
  return out;
}

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
