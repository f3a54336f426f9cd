import { randomUUID } from "node:crypto";
import type { Reason } from "../../core/reasons.js";
import type { SigningPlane, SignOutcome, SignPayload } from "../../ports/signingPlane.js";
import type { PolymarketAccount } from "./accounts.js";

/**
 * The signer routes the adapter asks on, one per action (the signer binds
 * each route to exactly one action, signing-plane-v1 §2).
 */
export interface PolymarketRoutes {
  /** `per_user_clob_signer`: the EIP-712 order (action `order`). */
  readonly order: string;
  /** `clob_api_signer`, action `order`: L2 headers of `POST /order`. */
  readonly l2Order: string;
  /** `clob_api_signer`, action `query_order`: `GET /data/order/{hash}`. */
  readonly l2QueryOrder: string;
  /** `clob_api_signer`, action `api_keys`: `GET /auth/api-keys`, the readiness probe. */
  readonly l2Readiness: string;
  /** `clob_api_signer`, action `balance`: `GET /balance-allowance`. */
  readonly l2Balance: string;
  /** `clob_api_signer`, action `cancel`: `DELETE /order` (one order by hash). */
  readonly l2Cancel: string;
  /** `clob_api_signer`, action `heartbeat`: `POST /v1/heartbeats`, the venue's dead-man switch. */
  readonly l2Heartbeat: string;
}

/** Default routes: `executor.polymarket.order` and `executor.polymarket.l2.<action>`. */
export const POLYMARKET_ROUTES: PolymarketRoutes = Object.freeze({
  order: "executor.polymarket.order",
  l2Order: "executor.polymarket.l2.order",
  l2QueryOrder: "executor.polymarket.l2.query_order",
  l2Readiness: "executor.polymarket.l2.api_keys",
  l2Balance: "executor.polymarket.l2.balance",
  l2Cancel: "executor.polymarket.l2.cancel",
  l2Heartbeat: "executor.polymarket.l2.heartbeat",
});

/**
 * What the signer's config must bind each of {@link POLYMARKET_ROUTES} to,
 * by intent (one action per route; the readiness probe audited once per
 * change of outcome). The `cancel` route makes the signer config require
 * `policy.clob_api_signer.cancel_rate_per_account_per_s`.
 */
export const POLYMARKET_ROUTE_ACTIONS = Object.freeze({
  per_user_clob_signer: { [POLYMARKET_ROUTES.order]: "order" },
  clob_api_signer: {
    [POLYMARKET_ROUTES.l2Order]: "order",
    [POLYMARKET_ROUTES.l2QueryOrder]: "query_order",
    [POLYMARKET_ROUTES.l2Readiness]: { action: "api_keys", probe: true },
    [POLYMARKET_ROUTES.l2Balance]: "balance",
    [POLYMARKET_ROUTES.l2Cancel]: "cancel",
    [POLYMARKET_ROUTES.l2Heartbeat]: "heartbeat",
  },
}) satisfies Record<string, Readonly<Record<string, string | { action: string; probe: boolean }>>>;

/** The L2 actions the adapter signs, each on its own route. */
export type L2Action = "order" | "query_order" | "api_keys" | "balance" | "cancel" | "heartbeat";

const L2_ROUTE_OF: Readonly<Record<L2Action, keyof PolymarketRoutes>> = {
  order: "l2Order",
  query_order: "l2QueryOrder",
  api_keys: "l2Readiness",
  balance: "l2Balance",
  cancel: "l2Cancel",
  heartbeat: "l2Heartbeat",
};

/** Where and as whom the adapter asks for signatures. */
export interface PlaneContext {
  readonly plane: SigningPlane;
  readonly caller: string;
  readonly routes: PolymarketRoutes;
}

/** A signature, or the refusal as a wire-v1 reason (`signer_denied:<reason>`). */
export type PlaneResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly reason: Reason; readonly decision: "DENIED" | "FAILED" };

type Fields = Readonly<Record<string, unknown>>;

/** The five L2 headers clob-client-v2's `createL2Headers` sends. */
export interface L2Headers {
  readonly POLY_ADDRESS: string;
  readonly POLY_SIGNATURE: string;
  readonly POLY_TIMESTAMP: string;
  readonly POLY_API_KEY: string;
  readonly POLY_PASSPHRASE: string;
}

/** One request to the plane for `account`: what to sign, what it must do (`target`), and why (`guard_context`). */
export interface PlaneAsk<P> {
  readonly account: PolymarketAccount;
  readonly payload: P;
  readonly target: Fields;
  readonly guard: Fields;
}

/** Asks the plane to sign an `eip712-order` payload (intent `per_user_clob_signer`). */
export async function signOrder(
  ctx: PlaneContext,
  { account, payload, target, guard }: PlaneAsk<Extract<SignPayload, { kind: "eip712-order" }>>,
): Promise<PlaneResult<{ readonly signature: string; readonly signerAddress: string | undefined }>> {
  const out = await ask(ctx, {
    request_id: `pm-order-${randomUUID()}`,
    account: account.id,
    intent: "per_user_clob_signer",
    route: ctx.routes.order,
    target: { ...target, action: "order" },
    guard_context: guard,
    payload,
  });
  if (!out.ok) return out;
  return { ok: true, value: { signature: out.value.signature, signerAddress: out.value.signer_address } };
}

/**
 * The L2 headers for one request, the HMAC signed by the plane (intent
 * `clob_api_signer`, on the route of `request.action`) over
 * `timestamp + method + path + body`, `path` without the query string, as
 * clob-client-v2 signs it.
 */
export async function l2Headers(
  ctx: PlaneContext,
  {
    account,
    payload: request,
    target,
    guard,
  }: PlaneAsk<{
    readonly action: L2Action;
    readonly method: "GET" | "POST" | "DELETE";
    readonly path: string;
    readonly body: string;
    readonly nowMs: number;
  }>,
): Promise<PlaneResult<L2Headers>> {
  const timestamp = String(Math.floor(request.nowMs / 1000));
  const out = await ask(ctx, {
    request_id: `pm-l2-${randomUUID()}`,
    account: account.id,
    intent: "clob_api_signer",
    route: ctx.routes[L2_ROUTE_OF[request.action]],
    target: {
      venue: "polymarket",
      method: request.method,
      path: request.path,
      ...target,
      action: request.action,
    },
    guard_context: guard,
    payload: {
      kind: "hmac-clob-l2",
      timestamp,
      method: request.method,
      path: request.path,
      body: request.body,
    },
  });
  if (!out.ok) return out;
  return {
    ok: true,
    value: {
      POLY_ADDRESS: account.signerText,
      POLY_SIGNATURE: out.value.signature,
      POLY_TIMESTAMP: timestamp,
      POLY_API_KEY: account.apiKey(),
      POLY_PASSPHRASE: account.passphrase(),
    },
  };
}

async function ask(
  ctx: PlaneContext,
  request: Parameters<SigningPlane["sign"]>[1],
): Promise<PlaneResult<Extract<SignOutcome, { granted: true }>>> {
  let out: SignOutcome;
  try {
    out = await ctx.plane.sign(ctx.caller, request);
  } catch {
    return { ok: false, reason: "signer_denied:signer_unavailable", decision: "FAILED" };
  }
  if (out.granted) return { ok: true, value: out };
  return {
    ok: false,
    reason: `signer_denied:${out.reason}`,
    decision: out.reason === "signer_unavailable" ? "FAILED" : "DENIED",
  };
}
