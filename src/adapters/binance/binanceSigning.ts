import { randomUUID } from "node:crypto";
import { type Reason, reason } from "../../core/reasons.js";
import type { SigningPlane } from "../../ports/signingPlane.js";

/** The signing-plane routes the adapter asks on (each must be allowlisted for `cex_api_signer`). */
export interface BinanceRoutes {
  /** `POST /fapi/v1/order`. */
  readonly order: string;
  /** `GET /fapi/v1/order` (lookups, reconciliation). */
  readonly queryOrder: string;
  /** `GET /fapi/v2/positionRisk` (positions). */
  readonly positionRisk: string;
  /** `GET /fapi/v2/positionRisk` as the readiness check's credentials probe (a signer probe route). */
  readonly readiness: string;
  /** `DELETE /fapi/v1/order` (a cancel by client order id). */
  readonly cancel: string;
  /** `POST /fapi/v1/countdownCancelAll` (the dead-man switch, per symbol). */
  readonly countdown: string;
}

/**
 * Default routes: `executor.binance-usdm.order` / `.query_order` /
 * `.position_risk` / `.readiness` / `.cancel` / `.countdown`; the signer
 * binds each to its one action (`order`, `query_order`, `position_risk`,
 * `position_risk` as a probe, `cancel`, `countdown`).
 */
export const BINANCE_ROUTES: BinanceRoutes = Object.freeze({
  order: "executor.binance-usdm.order",
  queryOrder: "executor.binance-usdm.query_order",
  positionRisk: "executor.binance-usdm.position_risk",
  readiness: "executor.binance-usdm.readiness",
  cancel: "executor.binance-usdm.cancel",
  countdown: "executor.binance-usdm.countdown",
});

/**
 * What the signer's config must bind each of {@link BINANCE_ROUTES} to under
 * `intents.cex_api_signer.routes` (one action per route; the readiness
 * probe audited once per change of outcome). The `cancel` route needs
 * `policy.cex_api_signer.cancel_rate_per_account_per_s` in the signer config.
 */
export const BINANCE_ROUTE_ACTIONS: Readonly<Record<string, string | { action: string; probe: boolean }>> =
  Object.freeze({
    [BINANCE_ROUTES.order]: "order",
    [BINANCE_ROUTES.queryOrder]: "query_order",
    [BINANCE_ROUTES.positionRisk]: "position_risk",
    [BINANCE_ROUTES.readiness]: { action: "position_risk", probe: true },
    [BINANCE_ROUTES.cancel]: "cancel",
    [BINANCE_ROUTES.countdown]: "countdown",
  });

/** The intent every Binance request is signed under. */
export const BINANCE_INTENT = "cex_api_signer";

/**
 * A query string in Binance's form: `name=value` pairs joined by `&`, values
 * percent-encoded (`encodeURIComponent`), in the given order. The exact text
 * is what gets signed and sent.
 * @example encodeQuery([["symbol", "BTCUSDT"], ["newClientOrderId", "ig/a"]]) // "symbol=BTCUSDT&newClientOrderId=ig%2Fa"
 */
export function encodeQuery(pairs: readonly (readonly [string, string])[]): string {
  return pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&");
}

/** What the plane is asked to sign. */
export interface SignQueryRequest {
  readonly account: string;
  readonly route: string;
  readonly target: Readonly<Record<string, unknown>>;
  readonly guard: Readonly<Record<string, unknown>>;
  /** The exact query string, without `signature`. */
  readonly query: string;
}

/** The query with `&signature=<hex>` appended, or the plane's refusal as `signer_denied:<reason>`. */
export type SignedQuery =
  | { readonly ok: true; readonly signed: string }
  | { readonly ok: false; readonly reason: Reason };

/** Signer denials that say "slow down": its order, cancel or keep-alive rate. */
const SIGNER_RATE_DENIALS: ReadonlySet<string> = new Set([
  reason("signer_denied", "policy:rate"),
  reason("signer_denied", "policy:cancel_rate"),
  reason("signer_denied", "policy:keepalive_rate"),
]);

/**
 * Whether a refusal is the signer's rate limit (`signer_denied:policy:rate`,
 * `…:cancel_rate`, `…:keepalive_rate`).
 * @example isSignerRateDenial("signer_denied:policy:cancel_rate") // true
 */
export function isSignerRateDenial(r: Reason): boolean {
  return SIGNER_RATE_DENIALS.has(r);
}

/**
 * Asks the signing plane for the HMAC of `query` (payload kind `hmac-query`).
 * The adapter never sees the secret; a plane that throws counts as
 * `signer_denied:signer_unavailable` (fail closed).
 */
export async function signQuery(
  plane: SigningPlane,
  caller: string,
  r: SignQueryRequest,
): Promise<SignedQuery> {
  try {
    const out = await plane.sign(caller, {
      request_id: `ig-binance-${randomUUID()}`,
      account: r.account,
      intent: BINANCE_INTENT,
      route: r.route,
      target: r.target,
      guard_context: r.guard,
      payload: { kind: "hmac-query", query: r.query },
    });
    if (!out.granted) return { ok: false, reason: reason("signer_denied", out.reason) };
    if (!/^[0-9a-f]{64}$/i.test(out.signature))
      return { ok: false, reason: reason("signer_denied", "signer_unavailable") };
    return { ok: true, signed: `${r.query}&signature=${out.signature}` };
  } catch {
    return { ok: false, reason: reason("signer_denied", "signer_unavailable") };
  }
}
