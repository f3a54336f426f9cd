import { isRecord } from "../../core/isRecord.js";
import type { VenueErrorDetail } from "../../core/reasons.js";
import type { HttpOutcome } from "./clobHttp.js";

/**
 * The one place CLOB answers to `POST /order` become domain outcomes. The
 * CLOB reports a refusal only as English text (`{"error": "<message>"}`, or
 * `errorMsg` in a 200 answer), so known messages are matched here, once, and
 * turned into a stable `venue_error:<detail>`; an answer this table does not
 * know is `unknown`, never a guess (the executor then reconciles by order
 * hash).
 *
 * | answer | outcome |
 * |---|---|
 * | 200 with an `orderID` and status `live`/`matched`/`delayed`/`unmatched` | placed |
 * | `… Duplicated …` | already placed (the order hash is at the venue) |
 * | 401 | rejected `venue_error:unauthorized` (L2 headers refused: nothing processed) |
 * | 403 | rejected `venue_error:forbidden` |
 * | 429 | rejected `venue_error:rate_limited` |
 * | 4xx / 200 with a message from {@link CLOB_REJECTIONS} | rejected `venue_error:<detail>` |
 * | any other 4xx or 200, any 5xx, no answer after the request may have reached the venue | unknown |
 * | no connection at all (refused, DNS) | rejected `venue_error:unreachable` (certainly not sent) |
 */
export type PostOrderOutcome =
  | {
      readonly kind: "placed";
      readonly orderId: string;
      readonly status: string;
      /** Matched amounts as the CLOB writes them (decimal text), when given. */
      readonly makingAmount: string | undefined;
      readonly takingAmount: string | undefined;
    }
  | { readonly kind: "rejected"; readonly detail: VenueErrorDetail }
  | { readonly kind: "duplicate" }
  | { readonly kind: "unknown"; readonly detail: VenueErrorDetail };

/** Known refusal messages (lowercased substring) → `venue_error` detail. Nothing was placed. */
export const CLOB_REJECTIONS: ReadonlyArray<readonly [string, VenueErrorDetail]> = [
  ["not enough balance / allowance", "insufficient_balance"],
  ["breaks minimum tick size", "tick_size"],
  ["size lower than the minimum", "min_size"],
  ["fok orders are fully filled", "fok_not_filled"],
  ["invalid signature", "invalid_signature"],
  ["order_version_mismatch", "order_version_mismatch"],
  ["order signer address has to be the address of the api key", "signer_mismatch"],
  ["order owner has to be the owner of the api key", "owner_mismatch"],
  ["invalid amount for a marketable buy order", "min_notional"],
  ["invalid amounts", "amount_precision"],
  ["invalid expiration", "invalid_expiration"],
  ["invalid order payload", "invalid_order"],
  ["market not found", "unknown_market"],
  ["not yet ready to process new orders", "market_not_ready"],
];

/** Every `venue_error` detail a send can end with. */
export const SEND_REJECTION_DETAILS: readonly VenueErrorDetail[] = [
  ...new Set<VenueErrorDetail>([
    ...CLOB_REJECTIONS.map(([, d]) => d),
    "unauthorized",
    "forbidden",
    "rate_limited",
    "unreachable",
    "reduce_only_rejected",
  ]),
];

const PLACED_STATUSES = new Set(["live", "matched", "delayed", "unmatched"]);

/** Classifies the answer (or the lack of one) to one `POST /order`. */
export function classifyPostOrder(out: HttpOutcome, parsed: unknown): PostOrderOutcome {
  if (out.kind === "error") {
    return out.mayHaveReached
      ? { kind: "unknown", detail: out.detail }
      : { kind: "rejected", detail: "unreachable" };
  }
  const { status } = out;
  if (status >= 500) return { kind: "unknown", detail: `http_${status}` };
  if (status === 401) return { kind: "rejected", detail: "unauthorized" };
  if (status === 403) return { kind: "rejected", detail: "forbidden" };
  if (status === 429) return { kind: "rejected", detail: "rate_limited" };
  const body = isRecord(parsed) ? parsed : {};
  if (status === 200) {
    const orderId = body.orderID;
    const st = typeof body.status === "string" ? body.status.toLowerCase() : "";
    if (typeof orderId === "string" && orderId !== "" && PLACED_STATUSES.has(st) && body.success !== false) {
      return {
        kind: "placed",
        orderId,
        status: st,
        makingAmount: typeof body.makingAmount === "string" ? body.makingAmount : undefined,
        takingAmount: typeof body.takingAmount === "string" ? body.takingAmount : undefined,
      };
    }
  }
  const message = [body.error, body.errorMsg].find((m): m is string => typeof m === "string" && m !== "");
  const known = message === undefined ? undefined : matchMessage(message);
  if (known === "duplicate") return { kind: "duplicate" };
  if (known !== undefined && status >= 200 && status < 500) return { kind: "rejected", detail: known };
  return { kind: "unknown", detail: `http_${status}` };
}

/** The detail for a known CLOB message, `duplicate`, or undefined. */
function matchMessage(message: string): VenueErrorDetail | "duplicate" | undefined {
  const m = message.toLowerCase();
  if (m.includes("duplicated")) return "duplicate";
  return CLOB_REJECTIONS.find(([text]) => m.includes(text))?.[1];
}

/**
 * The answer to one `DELETE /order` `{"orderID": hash}`:
 *
 * | answer | outcome |
 * |---|---|
 * | 200 `{canceled: [hash, …]}` | canceled (the venue took the order off the book) |
 * | 200 `{not_canceled: {hash: reason}}` | not open (matched, cancelled before, unknown id), with the venue's reason |
 * | 401 / 403 / 429 | rejected `venue_error:unauthorized` / `forbidden` / `rate_limited`: nothing processed |
 * | no connection at all (refused, DNS) | rejected `venue_error:unreachable` (certainly not sent) |
 * | any 5xx, any other answer, no answer after the request may have reached the venue | unknown |
 */
export type CancelAnswer =
  | { readonly kind: "canceled" }
  | { readonly kind: "not_open"; readonly detail: string }
  | { readonly kind: "rejected"; readonly detail: VenueErrorDetail }
  | { readonly kind: "unknown"; readonly detail: string };

/** Classifies the answer (or the lack of one) to one `DELETE /order` for `orderId`. */
export function classifyCancel(out: HttpOutcome, parsed: unknown, orderId: string): CancelAnswer {
  const refused = refusedBeforeProcessing(out);
  if (refused !== undefined) return refused;
  if (out.kind === "error") return { kind: "unknown", detail: out.detail };
  if (out.status !== 200 || !isRecord(parsed)) return { kind: "unknown", detail: `http_${out.status}` };
  const id = orderId.toLowerCase();
  const canceled = Array.isArray(parsed.canceled) ? parsed.canceled : [];
  if (canceled.some((c) => typeof c === "string" && c.toLowerCase() === id)) return { kind: "canceled" };
  const notCanceled = isRecord(parsed.not_canceled) ? parsed.not_canceled : {};
  const key = Object.keys(notCanceled).find((k) => k.toLowerCase() === id);
  if (key !== undefined) {
    const why = notCanceled[key];
    return { kind: "not_open", detail: typeof why === "string" && why !== "" ? why : "not_canceled" };
  }
  return { kind: "unknown", detail: "malformed_answer" };
}

/** The message the CLOB refuses a heartbeat id with (not the current one, or a session that ended). */
export const INVALID_HEARTBEAT_ID = "invalid heartbeat id";

/**
 * The answer to one `POST /v1/heartbeats` `{"heartbeat_id": id}`: the id to
 * send next (200 `{heartbeat_id}`), the id refused (400 `Invalid Heartbeat
 * ID`: start again with `""`), or a failure (`rateLimited` for 429).
 */
export type HeartbeatAnswer =
  | { readonly kind: "ok"; readonly heartbeatId: string }
  | { readonly kind: "invalid_id" }
  | { readonly kind: "failed"; readonly detail: string; readonly rateLimited: boolean };

/** Classifies the answer (or the lack of one) to one heartbeat. */
export function classifyHeartbeat(out: HttpOutcome, parsed: unknown): HeartbeatAnswer {
  if (out.kind === "error") return { kind: "failed", detail: out.detail, rateLimited: false };
  const body = isRecord(parsed) ? parsed : {};
  if (out.status === 200) {
    const id = body.heartbeat_id;
    return typeof id === "string" && id !== ""
      ? { kind: "ok", heartbeatId: id }
      : { kind: "failed", detail: "malformed_answer", rateLimited: false };
  }
  const message = [body.error, body.error_msg].find((m): m is string => typeof m === "string");
  if (out.status === 400 && message?.toLowerCase().includes(INVALID_HEARTBEAT_ID))
    return { kind: "invalid_id" };
  const refused = refusedBeforeProcessing(out);
  const detail = refused?.kind === "rejected" ? refused.detail : `http_${out.status}`;
  return { kind: "failed", detail, rateLimited: out.status === 429 };
}

/** 401, 403, 429, or no connection at all: the venue certainly did nothing. */
function refusedBeforeProcessing(
  out: HttpOutcome,
): { kind: "rejected"; detail: VenueErrorDetail } | undefined {
  if (out.kind === "error")
    return out.mayHaveReached ? undefined : { kind: "rejected", detail: "unreachable" };
  if (out.status === 401) return { kind: "rejected", detail: "unauthorized" };
  if (out.status === 403) return { kind: "rejected", detail: "forbidden" };
  if (out.status === 429) return { kind: "rejected", detail: "rate_limited" };
  return undefined;
}
