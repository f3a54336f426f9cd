import { type Decimal, formatDecimal, parseDecimal } from "../../core/decimal.js";
import type { VenueOrderState, VenuePosition } from "../../ports/venue.js";

const STATUS: Readonly<Record<string, VenueOrderState["status"]>> = {
  NEW: "open",
  PARTIALLY_FILLED: "open",
  FILLED: "filled",
  NEW_INSURANCE: "filled",
  NEW_ADL: "filled",
  CANCELED: "canceled",
  EXPIRED: "expired",
  EXPIRED_IN_MATCH: "expired",
  REJECTED: "rejected",
};

/** An order as Binance answers it, with the fields the adapter checks. */
export interface ParsedOrder extends VenueOrderState {
  readonly clientOrderId: string;
  readonly symbol: string;
}

/**
 * Reads an order answer (`POST`/`GET /fapi/v1/order`). `orderId` is taken
 * from the raw text, digits as sent, so an id past 2^53 is never rounded.
 * Decimals become canonical text; `avgPrice` is null while nothing filled.
 * `undefined` when the text is not an order Binance would send.
 */
export function parseOrder(text: string): ParsedOrder | undefined {
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (typeof v !== "object" || v === null) return undefined;
  const id = /"orderId"\s*:\s*"?([0-9]{1,20})"?/.exec(text)?.[1];
  const status = typeof v.status === "string" ? STATUS[v.status] : undefined;
  const executed = typeof v.executedQty === "string" ? parseDecimal(v.executedQty) : undefined;
  const avg = typeof v.avgPrice === "string" ? parseDecimal(v.avgPrice) : undefined;
  if (id === undefined || status === undefined || executed === undefined) return undefined;
  if (typeof v.clientOrderId !== "string" || typeof v.symbol !== "string") return undefined;
  const filled = executed > 0n;
  if (filled && (avg === undefined || avg <= 0n)) return undefined;
  return {
    orderId: id,
    status,
    fillQty: formatDecimal(executed),
    avgPrice: filled ? formatDecimal(avg as Decimal) : null,
    clientOrderId: v.clientOrderId,
    symbol: v.symbol,
  };
}

/**
 * Reads `GET /fapi/v2/positionRisk` (or v3) into signed positions per symbol:
 * one-way mode (`BOTH`) amounts as they are, hedge mode LONG and SHORT legs
 * summed; flat symbols left out. `undefined` when the text is not such a list.
 */
export function parsePositionRisk(account: string, text: string): VenuePosition[] | undefined {
  let rows: unknown;
  try {
    rows = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(rows)) return undefined;
  const bySymbol = new Map<string, Decimal>();
  for (const row of rows) {
    const r = row as { symbol?: unknown; positionAmt?: unknown } | null;
    if (typeof r?.symbol !== "string" || typeof r.positionAmt !== "string") return undefined;
    const amt = parseDecimal(r.positionAmt, { signed: true });
    if (amt === undefined) return undefined;
    bySymbol.set(r.symbol, ((bySymbol.get(r.symbol) ?? 0n) + amt) as Decimal);
  }
  const out: VenuePosition[] = [];
  for (const [symbol, qty] of bySymbol)
    if (qty !== 0n) out.push({ account, symbol, qty: formatDecimal(qty) });
  return out;
}

/**
 * Reads a `GET /fapi/v1/premiumIndex` answer (a list of
 * `{"symbol","markPrice",…}` without a `symbol` parameter, one object with
 * it): each symbol's mark price as canonical decimal text; rows without a
 * positive mark are left out. `undefined` when the text is not such an answer.
 */
export function parsePremiumIndex(text: string): { symbol: string; markPrice: string }[] | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  const rows = Array.isArray(v) ? v : [v];
  const out: { symbol: string; markPrice: string }[] = [];
  for (const row of rows) {
    const r = row as { symbol?: unknown; markPrice?: unknown } | null;
    if (typeof r?.symbol !== "string" || typeof r.markPrice !== "string") return undefined;
    const mark = parseDecimal(r.markPrice);
    if (mark !== undefined && mark > 0n) out.push({ symbol: r.symbol, markPrice: formatDecimal(mark) });
  }
  return out;
}

/**
 * Reads a `POST /fapi/v1/countdownCancelAll` answer, `{"symbol":"BTCUSDT","countdownTime":"60000"}`
 * (Binance sends the time as text; a number is taken too). `undefined` when it is not one.
 */
export function parseCountdown(text: string): { symbol: string; countdownMs: number } | undefined {
  let v: { symbol?: unknown; countdownTime?: unknown } | null;
  try {
    v = JSON.parse(text) as typeof v;
  } catch {
    return undefined;
  }
  if (typeof v !== "object" || v === null || typeof v.symbol !== "string") return undefined;
  const t = v.countdownTime;
  const ms = typeof t === "string" && /^[0-9]{1,15}$/.test(t) ? Number(t) : t;
  return typeof ms === "number" && Number.isSafeInteger(ms) && ms >= 0
    ? { symbol: v.symbol, countdownMs: ms }
    : undefined;
}
