import { keccak_256 } from "@noble/hashes/sha3.js";

/**
 * EIP-712 hashing for flat structs of static fields (no arrays, no nested
 * structs, no dynamic `bytes`/`string` in the message), which is every struct
 * the plane signs. Values are held as bigints: an `address` is its 160-bit
 * number, a `bytes32` its 256-bit big-endian number, so every field encodes as
 * one 32-byte word (ABI encoding of static types).
 */
export type StaticFieldType = "uint256" | "uint8" | "address" | "bytes32";

/** One struct member, in declaration order. */
export interface StructField {
  readonly name: string;
  readonly type: StaticFieldType;
}

/** The EIP-712 domain the plane signs under (all four fields, always). */
export interface Eip712Domain {
  readonly name: string;
  readonly version: string;
  readonly chainId: bigint;
  /** The contract address as a 160-bit number. */
  readonly verifyingContract: bigint;
}

const WORD_BITS: Readonly<Record<StaticFieldType, bigint>> = {
  uint256: 256n,
  uint8: 8n,
  address: 160n,
  bytes32: 256n,
};

const encoder = new TextEncoder();
const DOMAIN_TYPE = "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)";
const DOMAIN_TYPE_HASH = keccak_256(encoder.encode(DOMAIN_TYPE));

/** The largest value a field of `type` holds. */
export function maxValue(type: StaticFieldType): bigint {
  return (1n << WORD_BITS[type]) - 1n;
}

/**
 * `Name(type1 name1,type2 name2,…)`, the EIP-712 encodeType of a struct with no referenced structs.
 * @example encodeType("Mail", [{ name: "to", type: "address" }]) // "Mail(address to)"
 */
export function encodeType(primaryType: string, fields: readonly StructField[]): string {
  return `${primaryType}(${fields.map((f) => `${f.type} ${f.name}`).join(",")})`;
}

/** keccak256 of {@link encodeType}. */
export function typeHash(primaryType: string, fields: readonly StructField[]): Uint8Array {
  return keccak_256(encoder.encode(encodeType(primaryType, fields)));
}

/**
 * hashStruct(s) = keccak256(typeHash ‖ enc(field₁) ‖ … ‖ enc(fieldₙ)), each field one
 * 32-byte word. Throws a RangeError when a value is missing or out of its type's range.
 */
export function hashStruct(
  typeHashBytes: Uint8Array,
  fields: readonly StructField[],
  values: Readonly<Record<string, bigint>>,
): Uint8Array {
  const out = new Uint8Array(32 * (fields.length + 1));
  out.set(typeHashBytes, 0);
  fields.forEach((field, i) => {
    const value = Object.hasOwn(values, field.name) ? values[field.name] : undefined;
    if (typeof value !== "bigint" || value < 0n || value > maxValue(field.type)) {
      throw new RangeError(`eip712: field ${field.name} is not a ${field.type}`);
    }
    writeWord(out, 32 * (i + 1), value);
  });
  return keccak_256(out);
}

/** keccak256(typeHash(EIP712Domain) ‖ keccak(name) ‖ keccak(version) ‖ chainId ‖ verifyingContract). */
export function domainSeparator(domain: Eip712Domain): Uint8Array {
  if (domain.chainId < 0n || domain.chainId > maxValue("uint256")) throw new RangeError("eip712: chainId");
  if (domain.verifyingContract < 0n || domain.verifyingContract > maxValue("address")) {
    throw new RangeError("eip712: verifyingContract");
  }
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

/** Writes `value` (0 ≤ value < 2^256) as a 32-byte big-endian word at `offset`. */
function writeWord(out: Uint8Array, offset: number, value: bigint): void {
  let v = value;
  for (let i = 31; i >= 0; i--) {
    out[offset + i] = Number(v & 0xffn);
    v >>= 8n;
  }
}
