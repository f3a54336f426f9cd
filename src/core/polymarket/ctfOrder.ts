import {
  domainSeparator,
  hashStruct,
  type StructMember,
  type TypedDomain,
  toHex32,
  typedDataDigest,
  typeHash,
} from "../evm/eip712.js";

/**
 * The Polymarket CTF Exchange `Order`, one table row per EIP-712 domain
 * version: its struct, its exchange contracts per chain (standard and
 * neg-risk: the `verifyingContract`), and the members of the `order` object
 * in `POST /order` (see `orderJson.ts`). The one table the signing plane
 * (which signs only these structs, for only these contracts), the venue
 * adapter (which builds orders) and the emulator (which checks them) read;
 * everything else (domain, digest, order hash) is generic, so another
 * version is one more row (the package's V3: version "3", same struct as
 * V2, `exchangeV3`, no neg-risk contract).
 *
 * Every constant is @polymarket/clob-client-v2@1.1.0's:
 * `dist/order-utils/model/ctfExchangeV{1,2}TypedData.js` (name, version,
 * struct), `dist/config.js` (MATIC_CONTRACTS / AMOY_CONTRACTS: exchange and
 * negRiskExchange for V1, exchangeV2 and negRiskExchangeV2 for V2),
 * `dist/order-builder/helpers/createOrder.js` (which contract a version and
 * `negRisk` pick), `orderToJsonV1/V2` (the JSON members); checked against
 * the package by the cross-check tests. Production moved to V2 on
 * 2026-04-28 and refuses V1 orders.
 */
export const CTF_EXCHANGE_DOMAIN_NAME = "Polymarket CTF Exchange";
/** The EIP-712 primary type of an order. */
export const ORDER_PRIMARY_TYPE = "Order";

/** Polygon mainnet; Amoy testnet (the package's `Chain.POLYGON` / `Chain.AMOY`). */
export const POLYGON_CHAIN_ID = 137n;
export const AMOY_CHAIN_ID = 80002n;

/** A supported domain version. */
export type OrderVersion = "1" | "2";

/** `BUY` pays USDC for shares; `SELL` gives shares for USDC. */
export type OrderSide = "BUY" | "SELL";

/**
 * Order amounts are base units: USDC and conditional tokens both have 6
 * decimals, a Decimal 18, so one base unit is 10^12 of a Decimal.
 */
export const DECIMAL_PER_UNIT = 10n ** 12n;

/**
 * An order's shares and USDC from its amounts, as the exchange reads them
 * (clob-client's `getOrderRawAmounts`): a BUY pays `makerAmount` USDC for
 * `takerAmount` shares, a SELL gives `makerAmount` shares for `takerAmount`
 * USDC.
 * @example sharesAndUsdc("BUY", 5_700_000n, 10_000_000n) // [10_000_000n, 5_700_000n]
 */
export function sharesAndUsdc<T extends bigint>(side: OrderSide, makerAmount: T, takerAmount: T): [T, T] {
  return side === "BUY" ? [takerAmount, makerAmount] : [makerAmount, takerAmount];
}

/** The maker and taker amounts of an order of `shares` for `usdc` (the inverse of {@link sharesAndUsdc}). */
export function makerAndTaker<T extends bigint>(side: OrderSide, shares: T, usdc: T): [T, T] {
  return sharesAndUsdc(side, shares, usdc); // the swap is its own inverse
}

/**
 * EOA = 0, POLY_PROXY = 1, POLY_GNOSIS_SAFE = 2 (SignatureTypeV1 /
 * SignatureTypeV2): the types signed with a plain 65-byte ECDSA signature.
 * V2's POLY_1271 = 3 wraps the signature (ERC-7739) and is not signed here.
 */
export const SIGNATURE_TYPES = [0, 1, 2] as const;
/** One of {@link SIGNATURE_TYPES}. */
export type SignatureType = (typeof SIGNATURE_TYPES)[number];

/** True when an order's `signatureType` member is one of {@link SIGNATURE_TYPES}. */
export function isSignatureType(value: bigint): boolean {
  return SIGNATURE_TYPES.some((t) => BigInt(t) === value);
}

/** The two exchanges of one version on one chain (EIP-55). */
export interface ExchangePair {
  readonly standard: string;
  readonly negRisk: string;
}

/** How a member is written in the JSON `order`: salt and signature type as JSON numbers, the rest as text. */
export type JsonKind = "number" | "uint" | "address" | "side" | "bytes32";

/** One member of the JSON `order`: its name and how it is written. */
export interface JsonMember {
  readonly name: string;
  readonly kind: JsonKind;
}

/** One domain version. */
export interface CtfOrderVersion {
  readonly version: OrderVersion;
  /** The `Order` struct, members in EIP-712 declaration order. */
  readonly struct: readonly StructMember[];
  /** By chain id (decimal text). */
  readonly exchanges: Readonly<Record<string, ExchangePair>>;
  /** The JSON `order` members in clob-client-v2's order, `signature` excluded; a member not in `struct` is sent, not signed. */
  readonly json: readonly JsonMember[];
}

const u = (name: string): StructMember => ({ name, type: "uint256" });
const a = (name: string): StructMember => ({ name, type: "address" });
const b = (name: string): StructMember => ({ name, type: "bytes32" });
const u8 = (name: string): StructMember => ({ name, type: "uint8" });

const V2_EXCHANGES: ExchangePair = {
  standard: "0xE111180000d2663C0091e4f400237545B87B996B",
  negRisk: "0xe2222d279d744050d28e00520010520000310F59",
};

/** Domain version → row. Polygon is chain 137, Amoy 80002. */
export const CTF_ORDER_VERSIONS: Readonly<Record<OrderVersion, CtfOrderVersion>> = {
  "1": {
    version: "1",
    struct: [
      u("salt"),
      a("maker"),
      a("signer"),
      a("taker"),
      u("tokenId"),
      u("makerAmount"),
      u("takerAmount"),
      u("expiration"),
      u("nonce"),
      u("feeRateBps"),
      u8("side"),
      u8("signatureType"),
    ],
    exchanges: {
      "137": {
        standard: "0x4bFb41d5B3570DeFd03C39a9A4D8dE6Bd8B8982E",
        negRisk: "0xC5d563A36AE78145C45a50134d48A1215220f80a",
      },
      "80002": {
        standard: "0xdFE02Eb6733538f8Ea35D585af8DE5958AD99E40",
        negRisk: "0xC5d563A36AE78145C45a50134d48A1215220f80a",
      },
    },
    json: [
      { name: "salt", kind: "number" },
      { name: "maker", kind: "address" },
      { name: "signer", kind: "address" },
      { name: "taker", kind: "address" },
      { name: "tokenId", kind: "uint" },
      { name: "makerAmount", kind: "uint" },
      { name: "takerAmount", kind: "uint" },
      { name: "side", kind: "side" },
      { name: "expiration", kind: "uint" },
      { name: "nonce", kind: "uint" },
      { name: "feeRateBps", kind: "uint" },
      { name: "signatureType", kind: "number" },
    ],
  },
  "2": {
    version: "2",
    struct: [
      u("salt"),
      a("maker"),
      a("signer"),
      u("tokenId"),
      u("makerAmount"),
      u("takerAmount"),
      u8("side"),
      u8("signatureType"),
      u("timestamp"),
      b("metadata"),
      b("builder"),
    ],
    exchanges: { "137": V2_EXCHANGES, "80002": V2_EXCHANGES },
    json: [
      { name: "salt", kind: "number" },
      { name: "maker", kind: "address" },
      { name: "signer", kind: "address" },
      { name: "tokenId", kind: "uint" },
      { name: "makerAmount", kind: "uint" },
      { name: "takerAmount", kind: "uint" },
      { name: "side", kind: "side" },
      { name: "signatureType", kind: "number" },
      { name: "timestamp", kind: "uint" },
      { name: "expiration", kind: "uint" },
      { name: "metadata", kind: "bytes32" },
      { name: "builder", kind: "bytes32" },
    ],
  },
};

/** The row of a domain version given as untrusted text; undefined for a version not in the table. */
export function ctfOrderVersion(version: unknown): CtfOrderVersion | undefined {
  return typeof version === "string" && Object.hasOwn(CTF_ORDER_VERSIONS, version)
    ? CTF_ORDER_VERSIONS[version as OrderVersion]
    : undefined;
}

/** The exchanges of `spec` on `chainId`; undefined for a chain the version has none on. */
export function exchangesOn(spec: CtfOrderVersion, chainId: number | bigint): ExchangePair | undefined {
  const key = String(chainId);
  return Object.hasOwn(spec.exchanges, key) ? spec.exchanges[key] : undefined;
}

/** The exchange an order of `spec` on `chainId` is signed for; undefined for an unknown chain. */
export function exchangeFor(
  spec: CtfOrderVersion,
  chainId: number | bigint,
  negRisk: boolean,
): string | undefined {
  const pair = exchangesOn(spec, chainId);
  return pair === undefined ? undefined : negRisk ? pair.negRisk : pair.standard;
}

/** The EIP-712 domain of an order signed for `exchange` (an address, as text or its 160-bit number). */
export function orderDomain(
  spec: CtfOrderVersion,
  chainId: number | bigint,
  exchange: string | bigint,
): TypedDomain {
  return {
    name: CTF_EXCHANGE_DOMAIN_NAME,
    version: spec.version,
    chainId: BigInt(chainId),
    verifyingContract: BigInt(exchange),
  };
}

/** Every member value of an order (struct members, and JSON-only ones), as numbers. */
export type OrderValues = Readonly<Record<string, bigint>>;

/**
 * The EIP-712 digest of an order: keccak256(0x1901 ‖ domainSeparator ‖
 * hashStruct(order)). Throws a RangeError when a struct member is missing or
 * out of its type's range.
 */
export function orderDigest(spec: CtfOrderVersion, domain: TypedDomain, values: OrderValues): Uint8Array {
  return typedDataDigest(orderDomainSeparator(domain), hashStruct(orderTypeHash(spec), spec.struct, values));
}

/** An order hash as the venue's order id is accepted (written lowercase by {@link orderHash}): `0x` + 64 hex digits. */
export const ORDER_HASH_RE = /^0x[0-9a-fA-F]{64}$/;

/** The order hash (the venue's order id): {@link orderDigest} as `0x` + 64 lowercase hex digits. */
export function orderHash(spec: CtfOrderVersion, domain: TypedDomain, values: OrderValues): string {
  return toHex32(orderDigest(spec, domain, values));
}

/** typeHash of each version's `Order` struct (the table is fixed: computed once per row). */
const typeHashes = new WeakMap<CtfOrderVersion, Uint8Array>();
function orderTypeHash(spec: CtfOrderVersion): Uint8Array {
  let hash = typeHashes.get(spec);
  if (hash === undefined) {
    hash = typeHash(ORDER_PRIMARY_TYPE, spec.struct);
    typeHashes.set(spec, hash);
  }
  return hash;
}

/** Domain separators by domain (a handful: one per version, chain and exchange of the table). */
const separators = new Map<string, Uint8Array>();
function orderDomainSeparator(domain: TypedDomain): Uint8Array {
  const key = `${domain.name}\n${domain.version}\n${domain.chainId}\n${domain.verifyingContract}`;
  let sep = separators.get(key);
  if (sep === undefined) {
    sep = domainSeparator(domain);
    if (separators.size < 64) separators.set(key, sep);
  }
  return sep;
}
