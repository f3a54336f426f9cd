import { BINANCE_CLIENT_ORDER_ID_MAX_LENGTH, isClientOrderId } from "../../core/clientOrderId.js";
import type { BindOutcome, PayloadEffect } from "../payloadKind.js";
import { mismatch, ownField, readTargetString } from "./targetFields.js";

type Params = ReadonlyMap<string, string>;
type Target = Readonly<Record<string, unknown>>;

/** One Binance action other than `order`: the parameters its query may carry, and how it binds to `target`. */
export interface BinanceActionBinding {
  /** Every parameter the action's query may carry (`timestamp` and `recvWindow` included). */
  readonly params: ReadonlySet<string>;
  /** Compares the decoded parameters with `target` (only called once every name is in `params`). */
  bind(params: Params, target: Target): BindOutcome;
}

const VENUE = "binance-usdm";
const COMMON = ["timestamp", "recvWindow"] as const;
/** Binance order ids: a positive integer (LONG). */
const ORDER_ID_RE = /^[1-9][0-9]{0,18}$/;
/** `countdownTime`: milliseconds, a non-negative integer without sign or leading zero (0 disarms the timer). */
const COUNTDOWN_RE = /^(0|[1-9][0-9]{0,9})$/;

/**
 * The Binance USDⓈ-M cancels, keep-alive and open-orders read, by action
 * (`payloads/actions.ts`). HMAC covers the parameters only, so each action
 * is identified by its exact parameter set; see `docs/signing-plane.md`
 * ("Reads that can act") for which sets are shared by which endpoints.
 *
 * - `cancel` (`DELETE /fapi/v1/order`): `symbol` and exactly one of
 *   `origClientOrderId` (= `target.client_order_id`) or `orderId`
 *   (= `target.order_id`); the target must name the same one.
 * - `cancel_all` (`DELETE /fapi/v1/allOpenOrders`): `symbol`.
 * - `countdown` (`POST /fapi/v1/countdownCancelAll`): `symbol` and
 *   `countdownTime` (a non-negative integer; = `target.countdown_ms` when
 *   the target names it); the effect carries it for `policy:countdown`.
 * - `open_orders` (`GET /fapi/v1/openOrders`): `symbol` optional, the same
 *   on both sides.
 */
export const BINANCE_CANCEL_ACTIONS: Readonly<Record<string, BinanceActionBinding>> = {
  cancel: {
    params: new Set([...COMMON, "symbol", "origClientOrderId", "orderId"]),
    bind: bindCancel,
  },
  cancel_all: { params: new Set([...COMMON, "symbol"]), bind: bindCancelAll },
  countdown: { params: new Set([...COMMON, "symbol", "countdownTime"]), bind: bindCountdown },
  open_orders: { params: new Set([...COMMON, "symbol"]), bind: bindOpenOrders },
};

/** `target.symbol`, required, equal to the query's `symbol`. */
function requiredSymbol(params: Params, target: Target): string | undefined {
  const symbol = readTargetString(target, "symbol");
  if (!symbol.ok || symbol.value === undefined || params.get("symbol") !== symbol.value) return undefined;
  return symbol.value;
}

const acted = (action: string, symbol: string, extra: Partial<PayloadEffect> = {}): BindOutcome => ({
  ok: true,
  effect: { venue: VENUE, action, symbol, replayableRead: false, ...extra },
});

function bindCancel(params: Params, target: Target): BindOutcome {
  const symbol = requiredSymbol(params, target);
  if (symbol === undefined) return mismatch("symbol");
  const clientOrderId = readTargetString(target, "client_order_id");
  const orderId = readTargetString(target, "order_id");
  if (!clientOrderId.ok) return mismatch("client_order_id");
  if (!orderId.ok) return mismatch("order_id");
  const origClientOrderId = params.get("origClientOrderId");
  const venueOrderId = params.get("orderId");
  // Exactly one reference, and the one the target names: never "whichever Binance prefers".
  if (origClientOrderId !== undefined && venueOrderId !== undefined) return mismatch("query");
  if (origClientOrderId !== undefined) {
    if (
      !isClientOrderId(origClientOrderId, BINANCE_CLIENT_ORDER_ID_MAX_LENGTH) ||
      clientOrderId.value !== origClientOrderId
    ) {
      return mismatch("client_order_id");
    }
    if (orderId.value !== undefined) return mismatch("order_id");
    return acted("cancel", symbol);
  }
  if (venueOrderId !== undefined) {
    if (!ORDER_ID_RE.test(venueOrderId) || orderId.value !== venueOrderId) return mismatch("order_id");
    if (clientOrderId.value !== undefined) return mismatch("client_order_id");
    return acted("cancel", symbol);
  }
  return mismatch(
    clientOrderId.value === undefined && orderId.value !== undefined ? "order_id" : "client_order_id",
  );
}

function bindCancelAll(params: Params, target: Target): BindOutcome {
  const symbol = requiredSymbol(params, target);
  return symbol === undefined ? mismatch("symbol") : acted("cancel_all", symbol);
}

function bindCountdown(params: Params, target: Target): BindOutcome {
  const symbol = requiredSymbol(params, target);
  if (symbol === undefined) return mismatch("symbol");
  const text = params.get("countdownTime");
  if (text === undefined || !COUNTDOWN_RE.test(text)) return mismatch("countdownTime");
  const countdownMs = Number(text);
  const stated = ownField(target, "countdown_ms");
  if (stated !== undefined && stated !== countdownMs && stated !== text) return mismatch("countdown_ms");
  return acted("countdown", symbol, { countdownMs });
}

function bindOpenOrders(params: Params, target: Target): BindOutcome {
  // As position_risk: a read of every symbol is not the read a target naming one describes.
  const symbol = readTargetString(target, "symbol");
  if (!symbol.ok || params.get("symbol") !== symbol.value) return mismatch("symbol");
  const effect: PayloadEffect = { venue: VENUE, action: "open_orders", replayableRead: true };
  return { ok: true, effect: symbol.value === undefined ? effect : { ...effect, symbol: symbol.value } };
}
