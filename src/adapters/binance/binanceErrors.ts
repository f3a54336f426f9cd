import { type Reason, reason, type VenueErrorDetail } from "../../core/reasons.js";
import type { HttpOutcome } from "./binanceHttp.js";

/**
 * The one place Binance USDⓈ-M answers become IntentGate outcomes and
 * wire-v1 §6 reason codes (STYLE: venue failure codes are translated in one
 * module). Classification is by HTTP status and Binance `code`, never by
 * message text.
 *
 * Order placement (`POST /fapi/v1/order`):
 *
 * | Binance answer | outcome | reason / detail |
 * |---|---|---|
 * | 2xx with an order | `placed` | |
 * | 2xx that is not an order | `unknown` | `bad_response` |
 * | -1021 | `rejected` (+ server time resync) | `venue_error:timestamp_outside_recv_window` |
 * | -1022 | `rejected` | `venue_error:bad_signature` |
 * | -2014, -2015 | `rejected` | `venue_error:bad_api_key` |
 * | -4015 | `rejected` | `venue_error:bad_client_order_id` |
 * | -4116 | `already_placed` | `duplicate_client_order_id` |
 * | -2022 | `rejected` | `venue_error:reduce_only_rejected` |
 * | -1008 (throttled by system-level protection: not processed) | `rejected` | `venue_error:throttled` |
 * | -1003, -1015, HTTP 429, HTTP 418 | `rejected` | `venue_error:rate_limited` |
 * | -1111 | `rejected` | `venue_error:bad_precision` |
 * | -4003, -4004, -4005, -4023 | `rejected` | `venue_error:lot_size` |
 * | -4013, -4014, -4016, -4024 | `rejected` | `venue_error:price_filter` |
 * | -4164 | `rejected` | `venue_error:min_notional` |
 * | -2018, -2019, -2027, -2028 | `rejected` | `venue_error:insufficient_margin` |
 * | -1121, -4140, -4141 | `rejected` | `venue_error:symbol_not_trading` |
 * | -1000, -1001, -1006, -1007 (execution status unknown) | `unknown` | `execution_status_unknown` |
 * | any other code with HTTP 4xx (except 408) | `rejected` | `venue_error:binance:<code>` |
 * | HTTP 408, HTTP 5xx (any other code or none) | `unknown` | `http_<status>` |
 * | other HTTP 4xx without a code | `rejected` | `venue_error:http_<status>` |
 * | no connection was ever established (refused, DNS, TLS, connect timeout) | `rejected` | `venue_error:connection_failed` |
 * | timeout after connecting | `unknown` | `timeout` |
 * | connection lost after connecting (reset, dropped answer) | `unknown` | `connection_lost` |
 *
 * 4xx answers are Binance refusing the request before acting on it (its
 * docs: "the issue is on the sender's side"); 5xx and 408 leave the
 * execution status unknown, so they are never reported as `rejected`.
 * -1008 is the one 5xx Binance documents as not processed.
 */
export type OrderAnswerClass =
  | { readonly kind: "ok"; readonly text: string }
  | {
      readonly kind: "rejected";
      readonly reason: Reason;
      readonly resyncClock?: true;
      readonly badCredentials?: true;
    }
  | { readonly kind: "already_placed"; readonly detail: string }
  | { readonly kind: "unknown"; readonly detail: VenueErrorDetail };

/**
 * A cancel (`DELETE /fapi/v1/order`) or a dead-man countdown
 * (`POST /fapi/v1/countdownCancelAll`): classified as an order placement
 * (the table above), except:
 *
 * | Binance answer | outcome | detail / `rateLimited` |
 * |---|---|---|
 * | -2011 (unknown order sent: filled, cancelled, expired or never placed), -2013 | `not_open` | `binance:<code>` |
 * | -1003, -1015, HTTP 429, HTTP 418 (`venue_error:rate_limited`), -1008 (`venue_error:throttled`) | `rejected` | `rateLimited: true` |
 * | any other refusal | `rejected` | `rateLimited: false` |
 *
 * -4116 belongs to placements only; should it come, it is `rejected` `venue_error:binance:-4116`.
 */
export type ControlAnswerClass =
  | { readonly kind: "ok"; readonly text: string }
  | { readonly kind: "not_open"; readonly detail: string }
  | {
      readonly kind: "rejected";
      readonly reason: Reason;
      readonly rateLimited: boolean;
      readonly resyncClock?: true;
      readonly badCredentials?: true;
    }
  | { readonly kind: "unknown"; readonly detail: VenueErrorDetail };

const NOT_OPEN_CODES = new Set([-2011, -2013]);
const SLOW_DOWN: ReadonlySet<string> = new Set([
  reason("venue_error", "rate_limited"),
  reason("venue_error", "throttled"),
]);

/** Classifies the answer to a cancel or a countdown (see {@link ControlAnswerClass}). */
export function classifyControlAnswer(http: HttpOutcome): ControlAnswerClass {
  if (http.kind === "response" && http.status >= 400 && http.status < 500) {
    const code = binanceCodeOf(http.text);
    if (code !== undefined && NOT_OPEN_CODES.has(code))
      return { kind: "not_open", detail: `binance:${code}` };
  }
  const answer = classifyOrderAnswer(http);
  switch (answer.kind) {
    case "ok":
    case "unknown":
      return answer;
    case "already_placed":
      return { kind: "rejected", reason: reason("venue_error", "binance:-4116"), rateLimited: false };
    case "rejected":
      return { ...answer, rateLimited: SLOW_DOWN.has(answer.reason) };
  }
}

/** A read (`GET /fapi/v1/order`, positionRisk, time, exchangeInfo): the body, not found (-2013), or why it failed. */
export type ReadAnswerClass =
  | { readonly kind: "ok"; readonly text: string }
  | { readonly kind: "not_found" }
  | {
      readonly kind: "failed";
      readonly detail: string;
      readonly resyncClock?: true;
      readonly badCredentials?: true;
    };

const STATUS_UNKNOWN = new Set([-1000, -1001, -1006, -1007]);
const REJECT_DETAIL: ReadonlyMap<number, VenueErrorDetail> = new Map<number, VenueErrorDetail>([
  [-1021, "timestamp_outside_recv_window"],
  [-1022, "bad_signature"],
  [-2014, "bad_api_key"],
  [-2015, "bad_api_key"],
  [-4015, "bad_client_order_id"],
  [-2022, "reduce_only_rejected"],
  [-1008, "throttled"],
  [-1003, "rate_limited"],
  [-1015, "rate_limited"],
  [-1111, "bad_precision"],
  [-4003, "lot_size"],
  [-4004, "lot_size"],
  [-4005, "lot_size"],
  [-4023, "lot_size"],
  [-4013, "price_filter"],
  [-4014, "price_filter"],
  [-4016, "price_filter"],
  [-4024, "price_filter"],
  [-4164, "min_notional"],
  [-2018, "insufficient_margin"],
  [-2019, "insufficient_margin"],
  [-2027, "insufficient_margin"],
  [-2028, "insufficient_margin"],
  [-1121, "symbol_not_trading"],
  [-4140, "symbol_not_trading"],
  [-4141, "symbol_not_trading"],
]);
const CREDENTIAL_CODES = new Set([-1022, -2014, -2015]);

/** The Binance error `code` of an answer body, if it is `{"code": <negative int>, …}`. */
export function binanceCodeOf(text: string): number | undefined {
  try {
    const v = JSON.parse(text) as { code?: unknown };
    return typeof v === "object" && v !== null && Number.isInteger(v.code) && (v.code as number) < 0
      ? (v.code as number)
      : undefined;
  } catch {
    return undefined;
  }
}

/** Classifies the answer to an order placement (see the table above). */
export function classifyOrderAnswer(http: HttpOutcome): OrderAnswerClass {
  if (http.kind === "failed") {
    if (!http.sent) return { kind: "rejected", reason: reason("venue_error", "connection_failed") };
    return { kind: "unknown", detail: http.cause === "timeout" ? "timeout" : "connection_lost" };
  }
  const { status, text } = http;
  if (status >= 200 && status < 300) return { kind: "ok", text };
  const code = binanceCodeOf(text);
  if (code === -4116) return { kind: "already_placed", detail: "duplicate_client_order_id" };
  if (code !== undefined && STATUS_UNKNOWN.has(code))
    return { kind: "unknown", detail: "execution_status_unknown" };
  if (code === -1008) return { kind: "rejected", reason: reason("venue_error", "throttled") };
  if (status === 408 || status >= 500 || status < 400) return { kind: "unknown", detail: `http_${status}` };
  if (status === 429 || status === 418)
    return { kind: "rejected", reason: reason("venue_error", "rate_limited") };
  if (code === undefined) return { kind: "rejected", reason: reason("venue_error", `http_${status}`) };
  const detail: VenueErrorDetail = REJECT_DETAIL.get(code) ?? `binance:${code}`;
  return {
    kind: "rejected",
    reason: reason("venue_error", detail),
    ...(code === -1021 ? { resyncClock: true as const } : {}),
    ...(CREDENTIAL_CODES.has(code) ? { badCredentials: true as const } : {}),
  };
}

/** Classifies the answer to a read; `-2013` (order does not exist) is `not_found`. */
export function classifyReadAnswer(http: HttpOutcome): ReadAnswerClass {
  if (http.kind === "failed") {
    return {
      kind: "failed",
      detail: http.sent ? (http.cause === "timeout" ? "timeout" : "connection_lost") : "connection_failed",
    };
  }
  const { status, text } = http;
  if (status >= 200 && status < 300) return { kind: "ok", text };
  const code = binanceCodeOf(text);
  if (code === -2013) return { kind: "not_found" };
  if (code === undefined) return { kind: "failed", detail: `http_${status}` };
  return {
    kind: "failed",
    detail: `binance:${code}`,
    ...(code === -1021 ? { resyncClock: true as const } : {}),
    ...(CREDENTIAL_CODES.has(code) ? { badCredentials: true as const } : {}),
  };
}
