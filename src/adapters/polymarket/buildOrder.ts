import type { PolymarketAccount } from "./accounts.js";
import {
  exchangeFor,
  ORDER_VERSION_SPECS,
  type OrderDraft,
  type OrderVersion,
  orderDomain,
  orderHash,
  orderJson,
  orderValues,
  structText,
} from "./ctfOrders.js";
import { recoverSigner, toChecksumAddress, typedDataDigest } from "./eip712.js";
import { type PlaneContext, type PlaneResult, signOrder } from "./planeSigning.js";

/** A signed order: its JSON for `POST /order`, and its order hash (the venue's order id). */
export interface BuiltOrder {
  readonly json: Readonly<Record<string, unknown>>;
  readonly hash: string;
}

/**
 * Builds the order of domain version `version` for `draft` (the exchange:
 * the version's neg-risk or standard one on `chainId`), has the plane sign
 * it (`per_user_clob_signer`, the payload being the exact struct and
 * domain), checks the signature recovers to the order's signer, and
 * computes the order hash. Everything version-specific comes from the
 * version's row in {@link ORDER_VERSION_SPECS}.
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
  const spec = ORDER_VERSION_SPECS[args.version];
  const exchange = exchangeFor(spec, args.chainId, args.negRisk);
  if (exchange === undefined) return { ok: false, reason: "internal_error:no_exchange", decision: "FAILED" };
  const values = orderValues(spec, args.draft);
  const domain = orderDomain(spec, args.chainId, exchange);
  const signed = await signOrder(
    args.plane,
    args.account,
    {
      kind: "eip712-order",
      domain: {
        name: domain.name,
        version: domain.version,
        chainId: String(args.chainId),
        verifyingContract: toChecksumAddress(exchange),
      },
      order: structText(spec, values),
    },
    args.target,
    args.guard,
  );
  if (!signed.ok) return signed;
  const digest = typedDataDigest(domain, "Order", spec.struct, values);
  if (recoverSigner(digest, signed.value.signature) !== args.draft.signer)
    return { ok: false, reason: "internal_error:signature_mismatch", decision: "FAILED" };
  return {
    ok: true,
    value: { json: orderJson(spec, values, signed.value.signature), hash: orderHash(spec, domain, values) },
  };
}
