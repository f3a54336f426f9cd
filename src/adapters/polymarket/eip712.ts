import { secp256k1 } from "@noble/curves/secp256k1.js";
import { keccak_256 } from "@noble/hashes/sha3.js";

/**
 * The EIP-712 and address helpers the Polymarket adapter and emulator need:
 * typed-data hashing of flat structs of static fields (every CTF Exchange
 * `Order` is one), EIP-55 addresses, and recovering the signer of a 65-byte
 * `r ‖ s ‖ v` signature as the exchange contract does (OpenZeppelin ECDSA:
 * `v` 27 or 28, low `s`). Never signs: keys live in the signing plane only.
 */

/** Static EIP-712 member types: each encodes as one 32-byte word. */
export type StaticType = "uint256" | "uint8" | "address" | "bytes32";

/** One struct member, in declaration order. */
export interface StructMember {
  readonly name: string;
  readonly type: StaticType;
}

/** An EIP-712 domain with all four fields. */
export interface TypedDomain {
  readonly name: string;
  readonly version: string;
  readonly chainId: bigint;
  /** The contract address as a 160-bit number. */
  readonly verifyingContract: bigint;
}

const encoder = new TextEncoder();
const SIGNATURE_RE = /^0x[0-9a-fA-F]{130}$/;
const DOMAIN_TYPE_HASH = keccak_256(
  encoder.encode("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
);
const BITS: Readonly<Record<StaticType, bigint>> = { uint256: 256n, uint8: 8n, address: 160n, bytes32: 256n };
const HALF_N = secp256k1.Point.CURVE().n >> 1n;

export { parseAddress, toChecksumAddress } from "../../core/evm/address.js";

/** `Name(type1 name1,…)`, the EIP-712 encodeType of a struct without referenced structs. */
export function encodeType(primaryType: string, members: readonly StructMember[]): string {
  return `${primaryType}(${members.map((m) => `${m.type} ${m.name}`).join(",")})`;
}

/**
 * The EIP-712 digest keccak256(0x1901 ‖ domainSeparator ‖ hashStruct(message)).
 * Throws a RangeError when a member is missing or out of its type's range.
 */
export function typedDataDigest(
  domain: TypedDomain,
  primaryType: string,
  members: readonly StructMember[],
  values: Readonly<Record<string, bigint>>,
): Uint8Array {
  const struct = new Uint8Array(32 * (members.length + 1));
  struct.set(keccak_256(encoder.encode(encodeType(primaryType, members))), 0);
  members.forEach((m, i) => {
    const v = Object.hasOwn(values, m.name) ? values[m.name] : undefined;
    if (typeof v !== "bigint" || v < 0n || v >= 1n << BITS[m.type])
      throw new RangeError(`eip712: ${m.name} is not a ${m.type}`);
    writeWord(struct, 32 * (i + 1), v);
  });
  const dom = new Uint8Array(32 * 5);
  dom.set(DOMAIN_TYPE_HASH, 0);
  dom.set(keccak_256(encoder.encode(domain.name)), 32);
  dom.set(keccak_256(encoder.encode(domain.version)), 64);
  writeWord(dom, 96, domain.chainId);
  writeWord(dom, 128, domain.verifyingContract);
  const out = new Uint8Array(66);
  out[0] = 0x19;
  out[1] = 0x01;
  out.set(keccak_256(dom), 2);
  out.set(keccak_256(struct), 34);
  return keccak_256(out);
}

/**
 * The address a 65-byte `0x r ‖ s ‖ v` signature of `digest` recovers to, as
 * the exchange checks it: `v` 27 or 28, `0 < r`, `0 < s ≤ n/2`; `undefined`
 * for any other signature.
 */
export function recoverSigner(digest: Uint8Array, signature: unknown): bigint | undefined {
  if (typeof signature !== "string" || !SIGNATURE_RE.test(signature)) return undefined;
  const r = BigInt(`0x${signature.slice(2, 66)}`);
  const s = BigInt(`0x${signature.slice(66, 130)}`);
  const v = Number.parseInt(signature.slice(130, 132), 16);
  if ((v !== 27 && v !== 28) || r === 0n || s === 0n || s > HALF_N) return undefined;
  try {
    const point = new secp256k1.Signature(r, s, v - 27).recoverPublicKey(digest);
    const hash = keccak_256(point.toBytes(false).subarray(1));
    return BigInt(`0x${Buffer.from(hash.subarray(12)).toString("hex")}`);
  } catch {
    return undefined;
  }
}

/** `0x` + 64 lowercase hex digits of a 32-byte value. */
export const toHex32 = (bytes: Uint8Array): string => `0x${Buffer.from(bytes).toString("hex")}`;

function writeWord(out: Uint8Array, offset: number, value: bigint): void {
  let v = value;
  for (let i = 31; i >= 0; i--) {
    out[offset + i] = Number(v & 0xffn);
    v >>= 8n;
  }
}
