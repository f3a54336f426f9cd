import { createHmac } from "node:crypto";
import { BINANCE_DEFAULT_RECV_WINDOW_MS, BINANCE_MAX_RECV_WINDOW_MS } from "../../core/binance/recvWindow.js";
import { BINANCE_CLIENT_ORDER_ID_MAX_LENGTH, isClientOrderId } from "../../core/clientOrderId.js";
import { type Decimal, parseDecimal } from "../../core/decimal.js";
import { isRecord } from "../../core/isRecord.js";
import type { SignPayload } from "../../ports/signingPlane.js";
import { KeyStoreError, type RevealedKey } from "../keyStore.js";
import type {
  BindOutcome,
  BoundInput,
  PayloadEffect,
  PayloadKindHandler,
  SignatureOut,
} from "../payloadKind.js";
import { BINANCE_CANCEL_ACTIONS } from "./binanceCancels.js";
import { parseFormQuery } from "./formQuery.js";
import {
  mismatch,
  ownField,
  readTargetDecimal,
  readTargetReduceOnly,
  readTargetSide,
  readTargetString,
} from "./targetFields.js";

type HmacQueryPayload = Extract<SignPayload, { kind: "hmac-query" }>;
type Params = ReadonlyMap<string, string>;
type Target = Readonly<Record<string, unknown>>;

/** Parameters every signed request may carry besides its own. */
const COMMON_PARAMS = ["timestamp", "recvWindow"] as const;
/** `POST /fapi/v1/order`: the fields bound to `target`, then the allowlisted extras. */
const ORDER_PARAMS: ReadonlySet<string> = new Set([
  ...COMMON_PARAMS,
  "symbol",
  "side",
  "type",
  "quantity",
  "price",
  "reduceOnly",
  "newClientOrderId",
  "timeInForce",
  "newOrderRespType",
  "positionSide",
]);
/** `GET /fapi/v1/order`. */
const QUERY_ORDER_PARAMS: ReadonlySet<string> = new Set([...COMMON_PARAMS, "symbol", "origClientOrderId"]);
/** `GET /fapi/v3/positionRisk` (or v2). */
const POSITION_RISK_PARAMS: ReadonlySet<string> = new Set([...COMMON_PARAMS, "symbol"]);

/** Allowed values of the allowlisted extras (GTD needs `goodTillDate`, which is not allowlisted). */
const EXTRA_VALUES: Readonly<Record<string, ReadonlySet<string>>> = {
  timeInForce: new Set(["GTC", "IOC", "FOK", "GTX"]),
  newOrderRespType: new Set(["ACK", "RESULT"]),
  positionSide: new Set(["BOTH", "LONG", "SHORT"]),
};

const TIMESTAMP_RE = /^[1-9][0-9]{0,15}$/;
const RECV_WINDOW_RE = /^[1-9][0-9]{0,4}$/;
const VENUE = "binance-usdm";

/**
 * The `hmac-query` payload kind (Binance USDⓈ-M): binds the exact query
 * string to `target` and signs it with HMAC-SHA256 (lowercase hex).
 *
 * `target.action` says what the request is (the plane has checked it is the
 * route's action): `order` (`POST /fapi/v1/order`), `query_order`
 * (`GET /fapi/v1/order`), `position_risk`, or one of
 * {@link BINANCE_CANCEL_ACTIONS} (`cancel`, `cancel_all`, `countdown`,
 * `open_orders`); the query may carry only that action's parameters. The effect carries what the signer's own limits
 * read: the order's quantity and LIMIT price (never `target.reference_price`,
 * which is only checked for form), `timestamp` and `recvWindow` (§3a), and
 * for the reads that their signature is replayable (Binance's HMAC does not
 * cover the method or path). Denial fields are
 * the target's names where the target has one (`symbol`, `side`, `type`,
 * `qty`, `price`, `reduce_only`, `client_order_id`, `order_id`,
 * `countdown_ms`, `venue`, `action`, `reference_price`), Binance's otherwise (`timestamp`, `signature`,
 * `recvWindow`, `timeInForce`, `newOrderRespType`, `positionSide`,
 * `countdownTime`), and
 * `query` for text that does not parse strictly or carries a parameter the
 * action does not allow.
 */
export const binanceQueryHandler: PayloadKindHandler<"hmac-query"> = {
  kind: "hmac-query",
  bind: bindBinanceQuery,
  sign: signBinanceQuery,
  bindInput: bindBinanceQueryInput,
};

/** {@link bindBinanceQuery}, plus what to sign: HMAC-SHA256 of the exact query bytes, lowercase hex. */
export function bindBinanceQueryInput(payload: HmacQueryPayload, target: Target): BoundInput {
  const bound = bindBinanceQuery(payload, target);
  if (!bound.ok) return bound;
  return {
    ok: true,
    effect: bound.effect,
    input: {
      mechanism: "hmac-sha256",
      data: Buffer.from(payload.query, "utf8"),
      secret: "raw",
      encoding: "hex",
    },
  };
}

/** Decodes a Binance query string and compares it with `target`; never throws. */
export function bindBinanceQuery(payload: HmacQueryPayload, target: Target): BindOutcome {
  if (!isRecord(payload) || payload.kind !== "hmac-query") return mismatch("kind");
  if (!isRecord(target)) return mismatch("target");
  const params = parseFormQuery((payload as { query?: unknown }).query);
  if (params === undefined) return mismatch("query");
  if (params.has("signature")) return mismatch("signature");
  const timestamp = params.get("timestamp");
  if (timestamp === undefined || !TIMESTAMP_RE.test(timestamp)) return mismatch("timestamp");
  const recvWindow = params.get("recvWindow");
  if (
    recvWindow !== undefined &&
    !(RECV_WINDOW_RE.test(recvWindow) && Number(recvWindow) <= BINANCE_MAX_RECV_WINDOW_MS)
  ) {
    return mismatch("recvWindow");
  }
  const venue = ownField(target, "venue");
  if (venue !== undefined && venue !== VENUE) return mismatch("venue");
  const time: Pick<PayloadEffect, "timestamp" | "recvWindowMs"> = {
    timestamp: { ms: Number(timestamp), resolutionMs: 1 },
    recvWindowMs: recvWindow === undefined ? BINANCE_DEFAULT_RECV_WINDOW_MS : Number(recvWindow),
  };
  let bound: BindOutcome;
  switch (ownField(target, "action")) {
    case "order":
      bound = onlyParams(params, ORDER_PARAMS) ?? bindOrder(params, target);
      break;
    case "query_order":
      bound = onlyParams(params, QUERY_ORDER_PARAMS) ?? bindQueryOrder(params, target);
      break;
    case "position_risk":
      bound = onlyParams(params, POSITION_RISK_PARAMS) ?? bindPositionRisk(params, target);
      break;
    default: {
      const action = ownField(target, "action");
      const other =
        typeof action === "string" && Object.hasOwn(BINANCE_CANCEL_ACTIONS, action)
          ? BINANCE_CANCEL_ACTIONS[action]
          : undefined;
      if (other === undefined) return mismatch("action");
      bound = onlyParams(params, other.params) ?? other.bind(params, target);
    }
  }
  return bound.ok ? { ok: true, effect: { ...bound.effect, ...time } } : bound;
}

/** HMAC-SHA256 of the exact query bytes (UTF-8), keyed with the raw secret bytes; lowercase hex. */
export async function signBinanceQuery(payload: HmacQueryPayload, key: RevealedKey): Promise<SignatureOut> {
  if (key.kind !== "hmac") throw new KeyStoreError("wrong_kind", "hmac-query needs an hmac key");
  if (key.secret.length === 0) throw new KeyStoreError("corrupted", "hmac-query: the stored secret is empty");
  if (payload.kind !== "hmac-query" || typeof payload.query !== "string") {
    throw new TypeError("hmac-query: the payload is not an hmac-query payload");
  }
  const signature = createHmac("sha256", key.secret.expose()).update(payload.query, "utf8").digest("hex");
  return { signature };
}

/** A denial for the first parameter outside `allowed`, or undefined. */
function onlyParams(params: Params, allowed: ReadonlySet<string>): BindOutcome | undefined {
  for (const name of params.keys()) if (!allowed.has(name)) return mismatch("query");
  return undefined;
}

function bindOrder(params: Params, target: Target): BindOutcome {
  const symbol = readTargetString(target, "symbol");
  if (!symbol.ok || symbol.value === undefined || params.get("symbol") !== symbol.value)
    return mismatch("symbol");

  const side = readTargetSide(target);
  if (!side.ok || side.value === undefined || params.get("side") !== side.value) return mismatch("side");

  const price = readTargetDecimal(target, "price", true);
  if (!price.ok) return mismatch("price");
  const targetType = ownField(target, "type");
  const type = targetType ?? (price.value === undefined ? "MARKET" : "LIMIT");
  if ((type !== "MARKET" && type !== "LIMIT") || params.get("type") !== type) return mismatch("type");

  const qty = readTargetDecimal(target, "qty", true);
  const quantityText = params.get("quantity");
  const quantity = quantityText === undefined ? undefined : parseDecimal(quantityText);
  if (!qty.ok || qty.value === undefined || quantity !== qty.value) return mismatch("qty");

  const priceText = params.get("price");
  let orderPrice: Decimal | undefined;
  if (type === "LIMIT") {
    orderPrice = priceText === undefined ? undefined : parseDecimal(priceText);
    if (price.value === undefined || orderPrice !== price.value) return mismatch("price");
  } else if (priceText !== undefined) {
    return mismatch("price");
  }

  const reduceOnly = readTargetReduceOnly(target);
  const reduceOnlyText = params.get("reduceOnly") ?? "false";
  if (!reduceOnly.ok || (reduceOnlyText !== "true" && reduceOnlyText !== "false"))
    return mismatch("reduce_only");
  if ((reduceOnlyText === "true") !== reduceOnly.value) return mismatch("reduce_only");

  const clientOrderId = readTargetString(target, "client_order_id");
  const newClientOrderId = params.get("newClientOrderId");
  if (!clientOrderId.ok) return mismatch("client_order_id");
  if (
    newClientOrderId !== undefined &&
    !isClientOrderId(newClientOrderId, BINANCE_CLIENT_ORDER_ID_MAX_LENGTH)
  ) {
    return mismatch("client_order_id");
  }
  if (clientOrderId.value !== undefined && newClientOrderId !== clientOrderId.value) {
    return mismatch("client_order_id");
  }

  for (const [name, values] of Object.entries(EXTRA_VALUES)) {
    const value = params.get(name);
    if (value !== undefined && !values.has(value)) return mismatch(name);
  }

  // The caller's reference price is checked for form only (and audited): the signer's limits use its own.
  const reference = readTargetDecimal(target, "reference_price", true);
  if (!reference.ok) return mismatch("reference_price");
  const effect: PayloadEffect = {
    venue: VENUE,
    action: "order",
    symbol: symbol.value,
    order: { qty: qty.value, price: orderPrice },
    replayableRead: false,
  };
  return { ok: true, effect };
}

function bindQueryOrder(params: Params, target: Target): BindOutcome {
  const symbol = readTargetString(target, "symbol");
  if (!symbol.ok || symbol.value === undefined || params.get("symbol") !== symbol.value)
    return mismatch("symbol");
  const clientOrderId = readTargetString(target, "client_order_id");
  if (!clientOrderId.ok || clientOrderId.value === undefined) return mismatch("client_order_id");
  if (params.get("origClientOrderId") !== clientOrderId.value) return mismatch("client_order_id");
  return {
    ok: true,
    effect: { venue: VENUE, action: "query_order", symbol: symbol.value, replayableRead: true },
  };
}

function bindPositionRisk(params: Params, target: Target): BindOutcome {
  // Symbol is optional on both sides, but both must say the same: a query for
  // every position is not the query `target` describes when it names one.
  const symbol = readTargetString(target, "symbol");
  if (!symbol.ok || params.get("symbol") !== symbol.value) return mismatch("symbol");
  const effect: PayloadEffect = { venue: VENUE, action: "position_risk", replayableRead: true };
  return { ok: true, effect: symbol.value === undefined ? effect : { ...effect, symbol: symbol.value } };
}
