import { type Decimal, formatDecimal, parseDecimal } from "../../core/decimal.js";
import { isRecord } from "../../core/isRecord.js";
import type { LookupOutcome, VenueOrderState, VenuePosition } from "../../ports/venue.js";
import type { HttpOutcome } from "./clobHttp.js";
import { parseJsonKeepingNumbers } from "./jsonText.js";

/**
 * Reading the CLOB's and the data API's answers: an order by hash
 * (`GET /data/order/{hash}`, clob-client-v2's `OpenOrder`), positions
 * (`GET /positions?user=` of the data API), a token balance
 * (`GET /balance-allowance`), the server time (`GET /time`). Numbers are read
 * as exact decimal text, never as floats.
 */

/** CLOB order statuses → the port's. Anything else is not guessed: the lookup is `unavailable`. */
const ORDER_STATUS: Readonly<Record<string, VenueOrderState["status"]>> = {
  LIVE: "open",
  DELAYED: "open",
  UNMATCHED: "open",
  MATCHED: "filled",
  CANCELED: "canceled",
  CANCELLED: "canceled",
  CANCELED_MARKET_RESOLVED: "canceled",
  INVALID: "rejected",
  EXPIRED: "expired",
};

/** `GET /data/order/{hash}`: found, not found (404, or an empty answer), or unavailable. */
export function readOrderLookup(out: HttpOutcome): LookupOutcome {
  if (out.kind === "error") return { kind: "unavailable", detail: out.detail };
  if (out.status === 404) return { kind: "not_found" };
  if (out.status !== 200) return { kind: "unavailable", detail: `http_${out.status}` };
  const trimmed = out.text.trim();
  if (trimmed === "" || trimmed === "null" || trimmed === "{}") return { kind: "not_found" };
  const body = parseJsonKeepingNumbers(trimmed);
  if (!isRecord(body)) return { kind: "unavailable", detail: "malformed_answer" };
  const id = body.id;
  const rawStatus =
    typeof body.status === "string" ? body.status.toUpperCase().replace(/^ORDER_STATUS_/, "") : "";
  const status = Object.hasOwn(ORDER_STATUS, rawStatus) ? ORDER_STATUS[rawStatus] : undefined;
  const matched = decimalOf(body.size_matched);
  const original = decimalOf(body.original_size);
  const price = decimalOf(body.price);
  if (typeof id !== "string" || id === "") return { kind: "not_found" };
  if (status === undefined || matched === undefined || original === undefined || price === undefined)
    return { kind: "unavailable", detail: "unrecognised_order" };
  // MATCHED with less than the original size matched cannot be told apart from a partial fill: report what matched.
  const st = status === "filled" && matched < original ? "open" : status;
  return {
    kind: "found",
    orderId: id,
    status: st,
    fillQty: formatDecimal(matched),
    avgPrice: matched > 0n ? formatDecimal(price) : null,
  };
}

/** One page of the data API's `GET /positions`: every non-zero position, or undefined for a malformed answer. */
export function readPositionsPage(
  text: string,
  account: string,
): { readonly positions: VenuePosition[]; readonly count: number } | undefined {
  const body = parseJsonKeepingNumbers(text);
  if (!Array.isArray(body)) return undefined;
  const positions: VenuePosition[] = [];
  for (const item of body) {
    if (!isRecord(item) || typeof item.asset !== "string" || item.asset === "") return undefined;
    const size = typeof item.size === "string" ? parseDecimal(item.size, { signed: true }) : undefined;
    if (size === undefined) return undefined;
    if (size !== 0n) positions.push({ account, symbol: item.asset, qty: formatDecimal(size) });
  }
  return { positions, count: body.length };
}

/** `GET /balance-allowance`: the `balance` in base units (6 decimals), or undefined. */
export function readBalanceUnits(out: HttpOutcome): bigint | undefined {
  if (out.kind !== "response" || out.status !== 200) return undefined;
  const body = parseJsonKeepingNumbers(out.text);
  if (!isRecord(body) || typeof body.balance !== "string" || !/^(0|[1-9][0-9]*)$/.test(body.balance))
    return undefined;
  return BigInt(body.balance);
}

/** `GET /time`: the server's clock in seconds, or undefined. */
export function readServerSeconds(out: HttpOutcome): number | undefined {
  if (out.kind !== "response" || out.status !== 200) return undefined;
  const body = parseJsonKeepingNumbers(out.text.trim());
  const text = typeof body === "string" ? body : undefined;
  if (text === undefined || !/^[1-9][0-9]{0,12}$/.test(text)) return undefined;
  return Number(text);
}

function decimalOf(v: unknown): Decimal | undefined {
  return typeof v === "string" ? parseDecimal(v) : undefined;
}
