import { keccak_256 } from "@noble/hashes/sha3.js";

const ADDRESS_RE = /^0x[0-9a-fA-F]{40}$/;
const LOWER_RE = /^0x[0-9a-f]{40}$/;
const UPPER_RE = /^0x[0-9A-F]{40}$/;
const encoder = new TextEncoder();

/**
 * An Ethereum address as a 160-bit number: `0x` + 40 hex digits, all lowercase,
 * all uppercase, or mixed case with a valid EIP-55 checksum; otherwise undefined.
 * Shared by the signer's payload checks, the Polymarket adapter and its emulator.
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
