import { keccak_256 } from "@noble/hashes/sha3.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { parseAddress, toChecksumAddress } from "./address.js";

/**
 * EIP-712 hashing of flat structs of static members (no arrays, no nested
 * structs, no dynamic `bytes`/`string` in the message), which every struct
 * signed here is (the Polymarket CTF Exchange `Order`). Values are held as
 * bigints: an `address` is its 160-bit number, a `bytes32` its 256-bit
 * big-endian number, so every member encodes as one 32-byte word (ABI
 * encoding of static types). The one implementation the signing plane, the
 * Polymarket adapter and its emulator hash with.
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

const WORD_BITS: Readonly<Record<StaticType, bigint>> = {
  uint256: 256n,
  uint8: 8n,
  address: 160n,
  bytes32: 256n,
};

const encoder = new TextEncoder();
const DOMAIN_TYPE = "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)";
const DOMAIN_TYPE_HASH = keccak_256(encoder.encode(DOMAIN_TYPE));

/** The largest value a member of `type` holds. */
export function maxValue(type: StaticType): bigint {
  return (1n << WORD_BITS[type]) - 1n;
}

/** True when `value` is in `type`'s range (0 ≤ value ≤ {@link maxValue}). */
export function fitsType(type: StaticType, value: bigint): boolean {
  return value >= 0n && value <= maxValue(type);
}

/**
 * `Name(type1 name1,type2 name2,…)`, the EIP-712 encodeType of a struct with no referenced structs.
 * @example encodeType("Mail", [{ name: "to", type: "address" }]) // "Mail(address to)"
 */
export function encodeType(primaryType: string, members: readonly StructMember[]): string {
  return `${primaryType}(${members.map((m) => `${m.type} ${m.name}`).join(",")})`;
}

/** keccak256 of {@link encodeType}. */
export function typeHash(primaryType: string, members: readonly StructMember[]): Uint8Array {
  return keccak_256(encoder.encode(encodeType(primaryType, members)));
}

/**
 * hashStruct(s) = keccak256(typeHash ‖ enc(member₁) ‖ … ‖ enc(memberₙ)), each member one
 * 32-byte word. Throws a RangeError when a value is missing or out of its type's range.
 */
export function hashStruct(
  typeHashBytes: Uint8Array,
  members: readonly StructMember[],
  values: Readonly<Record<string, bigint>>,
): Uint8Array {
  const out = new Uint8Array(32 * (members.length + 1));
  out.set(typeHashBytes, 0);
  members.forEach((member, i) => {
    const value = Object.hasOwn(values, member.name) ? values[member.name] : undefined;
    if (typeof value !== "bigint" || !fitsType(member.type, value)) {
      throw new RangeError(`eip712: field ${member.name} is not a ${member.type}`);
    }
    writeWord(out, 32 * (i + 1), value);
  });
  return keccak_256(out);
}

/** keccak256(typeHash(EIP712Domain) ‖ keccak(name) ‖ keccak(version) ‖ chainId ‖ verifyingContract). */
export function domainSeparator(domain: TypedDomain): Uint8Array {
  if (!fitsType("uint256", domain.chainId)) throw new RangeError("eip712: chainId");
  if (!fitsType("address", domain.verifyingContract)) throw new RangeError("eip712: verifyingContract");
  const out = new Uint8Array(32 * 5);
  out.set(DOMAIN_TYPE_HASH, 0);
  out.set(keccak_256(encoder.encode(domain.name)), 32);
  out.set(keccak_256(encoder.encode(domain.version)), 64);
  writeWord(out, 96, domain.chainId);
  writeWord(out, 128, domain.verifyingContract);
  return keccak_256(out);
}

/** The digest an EIP-712 signature signs: keccak256(0x19 0x01 ‖ domainSeparator ‖ hashStruct(message)). */
export function typedDataDigest(domainSep: Uint8Array, structHash: Uint8Array): Uint8Array {
  const out = new Uint8Array(2 + 32 + 32);
  out[0] = 0x19;
  out[1] = 0x01;
  out.set(domainSep, 2);
  out.set(structHash, 34);
  return keccak_256(out);
}

/**
 * {@link typedDataDigest} of a message, from scratch (no cached type hash or
 * domain separator). Throws a RangeError when a member is missing or out of
 * its type's range.
 */
export function hashTypedData(
  domain: TypedDomain,
  primaryType: string,
  members: readonly StructMember[],
  values: Readonly<Record<string, bigint>>,
): Uint8Array {
  const structHash = hashStruct(typeHash(primaryType, members), members, values);
  return typedDataDigest(domainSeparator(domain), structHash);
}

/** `0x` + 64 lowercase hex digits of a 32-byte value. */
export const toHex32 = (bytes: Uint8Array): string => `0x${bytesToHex(bytes)}`;

/** A uint in decimal, no sign, no leading zeros, at most 78 digits (range checked by type). */
const UINT_TEXT_RE = /^(0|[1-9][0-9]{0,77})$/;
const BYTES32_TEXT_RE = /^0x[0-9a-fA-F]{64}$/;

/** A decimal uint (no sign, no leading zeros, at most 78 digits), range not checked; else undefined. */
export function parseUintText(raw: unknown): bigint | undefined {
  return typeof raw === "string" && UINT_TEXT_RE.test(raw) ? BigInt(raw) : undefined;
}

/**
 * A static value in its text form, in its type's range; else undefined:
 * a uint in decimal ({@link parseUintText}), an address EIP-55 or
 * single-case ({@link parseAddress}), a bytes32 as `0x` + 64 hex digits.
 */
export function parseStaticText(type: StaticType, raw: unknown): bigint | undefined {
  switch (type) {
    case "uint256":
    case "uint8": {
      const n = parseUintText(raw);
      return n !== undefined && fitsType(type, n) ? n : undefined;
    }
    case "address":
      return parseAddress(raw);
    case "bytes32":
      return typeof raw === "string" && BYTES32_TEXT_RE.test(raw) ? BigInt(raw) : undefined;
  }
}

/** The text form {@link parseStaticText} reads: decimal, EIP-55, or `0x` + 64 lowercase hex digits. */
export function staticText(type: StaticType, value: bigint): string {
  switch (type) {
    case "address":
      return toChecksumAddress(value);
    case "bytes32":
      return `0x${value.toString(16).padStart(64, "0")}`;
    default:
      return value.toString();
  }
}

/** Writes `value` (0 ≤ value < 2^256) as a 32-byte big-endian word at `offset`. */
function writeWord(out: Uint8Array, offset: number, value: bigint): void {
  let v = value;
  for (let i = 31; i >= 0; i--) {
    out[offset + i] = Number(v & 0xffn);
    v >>= 8n;
  }
}
