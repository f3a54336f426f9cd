import { CTF_EXCHANGE_DOMAIN_NAME, CTF_EXCHANGES } from "../../core/polymarket/ctfExchanges.js";
import {
  parseAddress,
  type StructMember,
  type TypedDomain,
  toChecksumAddress,
  toHex32,
  typedDataDigest,
} from "./eip712.js";

/**
 * The Polymarket CTF Exchange `Order`, one table row per EIP-712 domain
 * version: its struct, its exchanges per chain (standard and neg-risk), the
 * members of the `order` object in `POST /order` as
 * @polymarket/clob-client-v2@1.1.0 writes them (`orderToJsonV1/V2`), and the
 * defaults of the members only that version has. Everything else (the
 * digest, the order hash, the wire JSON, reading it back) is generic, so
 * another version is one more row.
 *
 * Production moved to V2 (domain version "2") on 2026-04-28; V1 orders are
 * refused there. Constants: the package's `ctfExchangeV{1,2}TypedData.js`
 * and `config.js`, checked by `ctfOrders.test.ts`.
 */
export { CTF_EXCHANGE_DOMAIN_NAME };

/** A supported domain version. */
export type OrderVersion = "1" | "2";
/** Every supported domain version. */
export const ORDER_VERSIONS: readonly OrderVersion[] = ["1", "2"];

/** `BUY` pays USDC for shares; `SELL` gives shares for USDC. */
export type OrderSide = "BUY" | "SELL";

/** EOA = 0, POLY_PROXY = 1, POLY_GNOSIS_SAFE = 2: the types signed with a plain ECDSA signature. */
export const SIGNATURE_TYPES = [0, 1, 2] as const;
/** One of {@link SIGNATURE_TYPES}. */
export type SignatureType = (typeof SIGNATURE_TYPES)[number];

/** How a member is written in the JSON `order`: salt and signature type as JSON numbers, the rest as text. */
export type JsonKind = "number" | "uint" | "address" | "side" | "bytes32";

/** One member of the JSON `order`: its name and how it is written. */
export interface JsonMember {
  readonly name: string;
  readonly kind: JsonKind;
}

/** One domain version. */
export interface OrderVersionSpec {
  readonly version: OrderVersion;
  readonly struct: readonly StructMember[];
  /** By chain id (decimal text). */
  readonly exchanges: Readonly<Record<string, { readonly standard: string; readonly negRisk: string }>>;
  /** The JSON `order` members in clob-client-v2's order, `signature` excluded; a member not in `struct` is sent, not signed. */
  readonly json: readonly JsonMember[];
  /** Values of the members only this version has, for a new order. */
  extra(draft: OrderDraft): Readonly<Record<string, bigint>>;
}

/** What every version's order holds. Addresses are 160-bit numbers. */
export interface OrderDraft {
  readonly salt: bigint;
  readonly maker: bigint;
  readonly signer: bigint;
  readonly tokenId: bigint;
  readonly makerAmount: bigint;
  readonly takerAmount: bigint;
  readonly side: OrderSide;
  readonly signatureType: SignatureType;
  /** Milliseconds since the epoch (V2's `timestamp`). */
  readonly nowMs: number;
}

const u = (name: string): StructMember => ({ name, type: "uint256" });
const a = (name: string): StructMember => ({ name, type: "address" });
const b = (name: string): StructMember => ({ name, type: "bytes32" });
const u8 = (name: string): StructMember => ({ name, type: "uint8" });

/** Domain version → row. */
export const ORDER_VERSION_SPECS: Readonly<Record<OrderVersion, OrderVersionSpec>> = {
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
    exchanges: CTF_EXCHANGES["1"],
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
    extra: () => ({ taker: 0n, expiration: 0n, nonce: 0n, feeRateBps: 0n }),
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
    exchanges: CTF_EXCHANGES["2"],
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
    extra: (d) => ({ timestamp: BigInt(d.nowMs), expiration: 0n, metadata: 0n, builder: 0n }),
  },
};

/** Every member value of an order (struct members and JSON-only ones), as numbers. */
export type OrderValues = Readonly<Record<string, bigint>>;

/** The values of a new order of `spec`'s version. */
export function orderValues(spec: OrderVersionSpec, draft: OrderDraft): OrderValues {
  return {
    salt: draft.salt,
    maker: draft.maker,
    signer: draft.signer,
    tokenId: draft.tokenId,
    makerAmount: draft.makerAmount,
    takerAmount: draft.takerAmount,
    side: draft.side === "BUY" ? 0n : 1n,
    signatureType: BigInt(draft.signatureType),
    ...spec.extra(draft),
  };
}

/** The exchange an order of `spec` on `chainId` is signed for; `undefined` for an unknown chain. */
export function exchangeFor(spec: OrderVersionSpec, chainId: number, negRisk: boolean): string | undefined {
  const pair = Object.hasOwn(spec.exchanges, String(chainId)) ? spec.exchanges[String(chainId)] : undefined;
  return pair === undefined ? undefined : negRisk ? pair.negRisk : pair.standard;
}

/** The EIP-712 domain of an order. */
export function orderDomain(spec: OrderVersionSpec, chainId: number, exchange: string): TypedDomain {
  return {
    name: CTF_EXCHANGE_DOMAIN_NAME,
    version: spec.version,
    chainId: BigInt(chainId),
    verifyingContract: BigInt(exchange),
  };
}

/** The order hash (the venue's order id): the EIP-712 digest, `0x` + 64 lowercase hex digits. */
export function orderHash(spec: OrderVersionSpec, domain: TypedDomain, values: OrderValues): string {
  return toHex32(typedDataDigest(domain, "Order", spec.struct, values));
}

/** The struct members as the signing plane's `eip712-order` payload wants them: decimal text, EIP-55, 0x-hex. */
export function structText(spec: OrderVersionSpec, values: OrderValues): Record<string, string> {
  const out: Record<string, string> = {};
  for (const { name, type } of spec.struct) out[name] = text(type, values[name] ?? 0n);
  return out;
}

/** The JSON `order` of `POST /order`, member for member as clob-client-v2 writes it. */
export function orderJson(
  spec: OrderVersionSpec,
  values: OrderValues,
  signature: string,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { name, kind } of spec.json) {
    const v = values[name] ?? 0n;
    switch (kind) {
      case "number":
        if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`${name} does not fit a JSON number`);
        out[name] = Number(v);
        break;
      case "side":
        out[name] = v === 0n ? "BUY" : "SELL";
        break;
      case "address":
        out[name] = toChecksumAddress(v);
        break;
      case "bytes32":
        out[name] = `0x${v.toString(16).padStart(64, "0")}`;
        break;
      case "uint":
        out[name] = v.toString();
        break;
    }
  }
  out.signature = signature;
  return out;
}

/** The version a posted JSON `order` is of: by the members only one version has. */
export function versionOfJson(order: Readonly<Record<string, unknown>>): OrderVersion | undefined {
  const has = (k: string) => Object.hasOwn(order, k);
  if (has("timestamp") || has("metadata") || has("builder")) return "2";
  if (has("nonce") || has("feeRateBps")) return "1";
  return undefined;
}

const UINT_RE = /^(0|[1-9][0-9]{0,77})$/;
const BYTES32_RE = /^0x[0-9a-fA-F]{64}$/;

/**
 * Reads a posted JSON `order` of `spec`'s version back into values; the first
 * malformed member is named. Salt and signature type are JSON numbers (a
 * decimal string is accepted too); `taker`, when a V2 order has it, must be
 * the zero address.
 */
export function readOrderJson(
  spec: OrderVersionSpec,
  order: Readonly<Record<string, unknown>>,
): { readonly ok: true; readonly values: OrderValues } | { readonly ok: false; readonly field: string } {
  const values: Record<string, bigint> = {};
  for (const { name, kind } of spec.json) {
    const raw = Object.hasOwn(order, name) ? order[name] : undefined;
    const v = readJsonValue(kind, raw);
    if (v === undefined) return { ok: false, field: name };
    values[name] = v;
  }
  if (Object.hasOwn(order, "taker") && !spec.json.some((m) => m.name === "taker")) {
    if (parseAddress(order.taker) !== 0n) return { ok: false, field: "taker" };
  }
  for (const { name, type } of spec.struct) {
    const v = values[name];
    if (v === undefined || v >= 1n << (type === "uint8" ? 8n : type === "address" ? 160n : 256n))
      return { ok: false, field: name };
  }
  return { ok: true, values };
}

function readJsonValue(kind: JsonKind, raw: unknown): bigint | undefined {
  switch (kind) {
    case "number":
      if (typeof raw === "number") return Number.isSafeInteger(raw) && raw >= 0 ? BigInt(raw) : undefined;
      return typeof raw === "string" && UINT_RE.test(raw) ? BigInt(raw) : undefined;
    case "uint":
      return typeof raw === "string" && UINT_RE.test(raw) ? BigInt(raw) : undefined;
    case "address":
      return parseAddress(raw);
    case "side":
      return raw === "BUY" ? 0n : raw === "SELL" ? 1n : undefined;
    case "bytes32":
      return typeof raw === "string" && BYTES32_RE.test(raw) ? BigInt(raw) : undefined;
  }
}

function text(type: StructMember["type"], v: bigint): string {
  switch (type) {
    case "address":
      return toChecksumAddress(v);
    case "bytes32":
      return `0x${v.toString(16).padStart(64, "0")}`;
    default:
      return v.toString();
  }
}
