import { parseAddress } from "../../core/evm/address.js";
import { parseStaticText, type TypedDomain } from "../../core/evm/eip712.js";
import { isRecord } from "../../core/isRecord.js";
import {
  CTF_EXCHANGE_DOMAIN_NAME,
  type CtfOrderVersion,
  ctfOrderVersion,
  exchangesOn,
  isSignatureType,
  orderDigest,
  orderDomain,
  POLYGON_CHAIN_ID,
} from "../../core/polymarket/ctfOrder.js";
import type { SignPayload } from "../../ports/signingPlane.js";
import { KeyStoreError, type RevealedKey } from "../keyStore.js";
import {
  type BindOutcome,
  type BoundInput,
  PayloadKeyMismatch,
  type PayloadKindHandler,
  type SignatureOut,
  type SigningInput,
} from "../payloadKind.js";
import { DEFAULT_ECDSA, signWithKey } from "../signInput.js";
import { bindOrderTerms, POLYMARKET_VENUE } from "./polymarketOrderTerms.js";
import { mismatch, ownField } from "./targetFields.js";

type OrderPayload = Extract<SignPayload, { kind: "eip712-order" }>;
type Target = Readonly<Record<string, unknown>>;

const DOMAIN_KEYS: readonly string[] = ["name", "version", "chainId", "verifyingContract"];
const SIDE_BUY = 0n;
const SIDE_SELL = 1n;
const SIGNATURE_TYPE_EOA = 0n;

/** The denial field for a malformed order member (`payload_mismatch:<field>`). */
const ORDER_FIELD_NAMES: Readonly<Record<string, string>> = {
  tokenId: "token_id",
  makerAmount: "amounts",
  takerAmount: "amounts",
  feeRateBps: "fee_rate_bps",
  signatureType: "signature_type",
};

export { PayloadKeyMismatch };

/** A decoded `eip712-order` payload: its domain row, the domain, and every struct member as a bigint. */
export interface DecodedPolymarketOrder {
  readonly version: string;
  readonly spec: CtfOrderVersion;
  readonly domain: TypedDomain;
  /** True when the verifying contract is the version's neg-risk exchange. */
  readonly negRisk: boolean;
  readonly values: Readonly<Record<string, bigint>>;
}

export type DecodeOutcome =
  | { readonly ok: true; readonly order: DecodedPolymarketOrder }
  | { readonly ok: false; readonly field: string };

export interface PolymarketOrderOptions {
  /** Chain ids signed for; each must have exchanges in `CTF_ORDER_VERSIONS`. Default: Polygon (137) only. */
  readonly chainIds?: readonly bigint[];
}

/**
 * The `eip712-order` payload kind (Polymarket CTF Exchange `Order`, EIP-712).
 * The payload's domain `version` picks the struct (V1 or V2, from
 * `CTF_ORDER_VERSIONS` in `core/polymarket/ctfOrder.ts`); name, chain and exchange are pinned.
 * `bind` decodes the order strictly (exactly the struct's members, integers as
 * decimal strings, addresses EIP-55 or single-case, bytes32 as 0x + 64 hex)
 * and checks it trades `target.token_id` on `target.side` for `target.qty`
 * shares at `target.price` exactly, on the neg-risk exchange iff
 * `target.neg_risk`. The effect is the order's shares, its price (its
 * amounts' ratio) and the cap of 1 USDC a share is worth, for the signer's
 * own notional (§3a). `bindInput` does the same and returns the digest to sign
 * with the order's signer (decoded once). `sign` refuses an order whose signer
 * is not the key's address ({@link PayloadKeyMismatch}), hashes the struct
 * itself, signs low-S and verifies the signature under the key's address.
 */
export function createPolymarketOrderHandler(
  options: PolymarketOrderOptions = {},
): PayloadKindHandler<"eip712-order"> {
  const chainIds: ReadonlySet<string> = new Set((options.chainIds ?? [POLYGON_CHAIN_ID]).map(String));
  return {
    kind: "eip712-order",
    bind: (payload, target) => bindPolymarketOrder(payload, target, chainIds),
    sign: (payload, key) => signPolymarketOrder(payload, key, chainIds),
    bindInput: (payload, target) => bindPolymarketOrderInput(payload, target, chainIds),
  };
}

/** The production handler: Polygon mainnet (137) only. */
export const polymarketOrderHandler: PayloadKindHandler<"eip712-order"> = createPolymarketOrderHandler();

const MAINNET_ONLY: ReadonlySet<string> = new Set([String(POLYGON_CHAIN_ID)]);

/** Decodes an order and compares it with `target`; never throws. */
export function bindPolymarketOrder(
  payload: OrderPayload,
  target: Target,
  chainIds: ReadonlySet<string> = MAINNET_ONLY,
): BindOutcome {
  const decoded = decodePolymarketOrder(payload, chainIds);
  if (!decoded.ok) return mismatch(decoded.field);
  return bindDecodedOrder(decoded.order, target);
}

/**
 * {@link bindPolymarketOrder}, plus what to sign: the order's EIP-712 digest
 * by its `signer` (ECDSA secp256k1), from the one decode. Never throws.
 */
export function bindPolymarketOrderInput(
  payload: OrderPayload,
  target: Target,
  chainIds: ReadonlySet<string> = MAINNET_ONLY,
): BoundInput {
  const decoded = decodePolymarketOrder(payload, chainIds);
  if (!decoded.ok) return decoded;
  const bound = bindDecodedOrder(decoded.order, target);
  if (!bound.ok) return bound;
  const signer = decoded.order.values.signer;
  if (signer === undefined) return { ok: false, field: "signer" }; // every row's struct has it
  let digest: Uint8Array;
  try {
    digest = polymarketOrderDigest(decoded.order);
  } catch {
    return { ok: false, field: "order" };
  }
  return { ok: true, effect: bound.effect, input: { mechanism: "ecdsa-secp256k1", digest, signer } };
}

/** Compares a decoded order with `target`; never throws. */
function bindDecodedOrder(order: DecodedPolymarketOrder, target: Target): BindOutcome {
  if (!isRecord(target)) return mismatch("target");
  const { values, negRisk } = order;
  const tokenId = values.tokenId;
  const side = values.side;
  const makerAmount = values.makerAmount;
  const takerAmount = values.takerAmount;
  if (tokenId === undefined || side === undefined || makerAmount === undefined || takerAmount === undefined) {
    return mismatch("order"); // every row's struct has them; a table edit that drops one fails closed
  }

  const venue = ownField(target, "venue");
  if (venue !== undefined && venue !== POLYMARKET_VENUE) return mismatch("venue");
  const action = ownField(target, "action");
  if (action !== undefined && action !== "order") return mismatch("action");

  const bound = bindOrderTerms(
    { tokenId, side: side === SIDE_BUY ? "BUY" : "SELL", makerAmount, takerAmount },
    target,
  );
  if (!bound.ok) return bound;

  const targetNegRisk = ownField(target, "neg_risk");
  if (targetNegRisk !== undefined && typeof targetNegRisk !== "boolean") return mismatch("neg_risk");
  if ((targetNegRisk === true) !== negRisk) return mismatch("verifying_contract");

  const targetMaker = ownField(target, "maker");
  if (targetMaker !== undefined && parseAddress(targetMaker) !== values.maker) return mismatch("maker");

  return bound;
}

/**
 * Signs the order: `0x` ‖ r ‖ s ‖ v (27/28), low-S, verified under the key's
 * address, and that address (EIP-55). Throws {@link KeyStoreError}
 * `wrong_kind` for a non secp256k1 key, `corrupted` for a malformed key or
 * one that is not the key of its stored address, {@link PayloadKeyMismatch}
 * when the order's signer is not the key's address, a TypeError for a
 * payload that does not decode.
 */
export async function signPolymarketOrder(
  payload: OrderPayload,
  key: RevealedKey,
  chainIds: ReadonlySet<string> = MAINNET_ONLY,
): Promise<SignatureOut> {
  if (key.kind !== "secp256k1") throw new KeyStoreError("wrong_kind", "eip712-order needs a secp256k1 key");
  const decoded = decodePolymarketOrder(payload, chainIds);
  if (!decoded.ok) throw new TypeError(`eip712-order: payload_mismatch:${decoded.field}`);
  const signer = decoded.order.values.signer;
  if (signer === undefined) throw new TypeError("eip712-order: payload_mismatch:signer");
  const input: SigningInput = {
    mechanism: "ecdsa-secp256k1",
    digest: polymarketOrderDigest(decoded.order),
    signer,
  };
  return signWithKey(input, key, DEFAULT_ECDSA);
}

/** The EIP-712 digest of a decoded order: keccak256(0x1901 ‖ domainSeparator ‖ hashStruct(order)). */
export function polymarketOrderDigest(order: DecodedPolymarketOrder): Uint8Array {
  return orderDigest(order.spec, order.domain, order.values);
}

/**
 * Decodes an `eip712-order` payload strictly against the domain table; never
 * throws. Domain: exactly name, version, chainId, verifyingContract. Order:
 * exactly the version's struct members. The first failure names its field.
 */
export function decodePolymarketOrder(payload: OrderPayload, chainIds: ReadonlySet<string>): DecodeOutcome {
  if (!isRecord(payload) || payload.kind !== "eip712-order") return fail("kind");
  const domain = ownField(payload, "domain");
  if (!isRecord(domain) || !sameKeys(domain, DOMAIN_KEYS)) return fail("domain");
  if (ownField(domain, "name") !== CTF_EXCHANGE_DOMAIN_NAME) return fail("domain");

  const spec = ctfOrderVersion(ownField(domain, "version"));
  if (spec === undefined) return fail("version");
  const version = spec.version;

  const chainId = parseStaticText("uint256", ownField(domain, "chainId"));
  if (chainId === undefined || !chainIds.has(chainId.toString())) return fail("chain_id");
  const exchanges = exchangesOn(spec, chainId);
  if (exchanges === undefined) return fail("chain_id");

  const verifyingContract = parseAddress(ownField(domain, "verifyingContract"));
  const negRisk = verifyingContract !== undefined && verifyingContract === BigInt(exchanges.negRisk);
  if (verifyingContract === undefined || (!negRisk && verifyingContract !== BigInt(exchanges.standard))) {
    return fail("verifying_contract");
  }

  const order = ownField(payload, "order");
  const members = spec.struct.map((f) => f.name);
  if (!isRecord(order) || !sameKeys(order, members)) return fail("order");
  const values: Record<string, bigint> = {};
  for (const { name, type } of spec.struct) {
    const value = parseStaticText(type, ownField(order, name));
    if (value === undefined) return fail(ORDER_FIELD_NAMES[name] ?? name);
    values[name] = value;
  }

  if (values.side !== SIDE_BUY && values.side !== SIDE_SELL) return fail("side");
  const signatureType = values.signatureType;
  if (signatureType === undefined || !isSignatureType(signatureType)) return fail("signature_type");
  if (values.makerAmount === 0n || values.takerAmount === 0n) return fail("amounts");
  if (values.maker === 0n) return fail("maker");
  if (values.signer === 0n) return fail("signer");
  // An EOA order is its own maker; a proxy or safe order names the wallet as maker (the exchange checks ownership).
  if (signatureType === SIGNATURE_TYPE_EOA && values.maker !== values.signer) return fail("maker");
  // V1's taker: only public orders (the zero address), as clob-client builds them.
  if (Object.hasOwn(values, "taker") && values.taker !== 0n) return fail("taker");

  return {
    ok: true,
    order: {
      version,
      spec,
      domain: orderDomain(spec, chainId, verifyingContract),
      negRisk,
      values,
    },
  };
}

const fail = (field: string): DecodeOutcome => ({ ok: false, field });

/** True when the own enumerable keys of `record` are exactly `keys`. */
function sameKeys(record: Readonly<Record<string, unknown>>, keys: readonly string[]): boolean {
  const own = Object.keys(record);
  return own.length === keys.length && keys.every((k) => Object.hasOwn(record, k));
}
