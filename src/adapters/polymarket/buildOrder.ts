import { toChecksumAddress } from "../../core/evm/address.js";
import { recoverSigner } from "../../core/evm/ecdsa.js";
import { staticText, toHex32 } from "../../core/evm/eip712.js";
import {
  CTF_ORDER_VERSIONS,
  type CtfOrderVersion,
  exchangeFor,
  type OrderSide,
  type OrderValues,
  type OrderVersion,
  orderDigest,
  orderDomain,
  type SignatureType,
} from "../../core/polymarket/ctfOrder.js";
import { orderJson } from "../../core/polymarket/orderJson.js";
import type { PolymarketAccount } from "./accounts.js";
import { type PlaneContext, type PlaneResult, signOrder } from "./planeSigning.js";

/** A signed order: its JSON for `POST /order`, and its order hash (the venue's order id). */
export interface BuiltOrder {
  readonly json: Readonly<Record<string, unknown>>;
  readonly hash: string;
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

/** Per version, the values of the members only that version has, for a new order (as clob-client-v2 fills them). */
const VERSION_DEFAULTS: Readonly<Record<OrderVersion, (draft: OrderDraft) => OrderValues>> = {
  "1": () => ({ taker: 0n, expiration: 0n, nonce: 0n, feeRateBps: 0n }),
  "2": (d) => ({ timestamp: BigInt(d.nowMs), expiration: 0n, metadata: 0n, builder: 0n }),
};

/** The values of a new order of `spec`'s version (struct members and JSON-only ones). */
export function orderValues(spec: CtfOrderVersion, draft: OrderDraft): OrderValues {
  return {
    salt: draft.salt,
    maker: draft.maker,
    signer: draft.signer,
    tokenId: draft.tokenId,
    makerAmount: draft.makerAmount,
    takerAmount: draft.takerAmount,
    side: draft.side === "BUY" ? 0n : 1n,
    signatureType: BigInt(draft.signatureType),
    ...VERSION_DEFAULTS[spec.version](draft),
  };
}

/**
 * Builds the order of domain version `version` for `draft` (the exchange:
 * the version's neg-risk or standard one on `chainId`), has the plane sign
 * it (`per_user_clob_signer`, the payload being the exact struct and
 * domain), checks the signature recovers to the order's signer, and
 * computes the order hash. Everything version-specific comes from the
 * version's row in {@link CTF_ORDER_VERSIONS}.
 */
export async function buildSignedOrder(args: {
  readonly plane: PlaneContext;
  readonly account: PolymarketAccount;
  readonly version: OrderVersion;
  readonly chainId: number;
  readonly negRisk: boolean;
  readonly draft: OrderDraft;
  readonly target: Readonly<Record<string, unknown>>;
  readonly guard: Readonly<Record<string, unknown>>;
}): Promise<PlaneResult<BuiltOrder>> {
  const spec = CTF_ORDER_VERSIONS[args.version];
  const exchange = exchangeFor(spec, args.chainId, args.negRisk);
  if (exchange === undefined) return { ok: false, reason: "internal_error:no_exchange", decision: "FAILED" };
  const values = orderValues(spec, args.draft);
  const domain = orderDomain(spec, args.chainId, exchange);
  // The struct members as the `eip712-order` payload carries them: decimal text, EIP-55, 0x-hex.
  const order: Record<string, string> = {};
  for (const { name, type } of spec.struct) order[name] = staticText(type, values[name] ?? 0n);
  const signed = await signOrder(args.plane, {
    account: args.account,
    payload: {
      kind: "eip712-order",
      domain: {
        name: domain.name,
        version: domain.version,
        chainId: String(args.chainId),
        verifyingContract: toChecksumAddress(exchange),
      },
      order,
    },
    target: args.target,
    guard: args.guard,
  });
  if (!signed.ok) return signed;
  const digest = orderDigest(spec, domain, values);
  if (recoverSigner(digest, signed.value.signature) !== args.draft.signer)
    return { ok: false, reason: "internal_error:signature_mismatch", decision: "FAILED" };
  return {
    ok: true,
    value: { json: orderJson(spec, values, signed.value.signature), hash: toHex32(digest) },
  };
}
