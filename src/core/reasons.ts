/**
 * Every reason code IntentGate can put in a result's `error` field, defined
 * once (wire-v1 §6). Codes with a detail are written `<code>:<detail>`; the
 * base code (before the first `:`) is what metrics label.
 */

/** Gate number (wire-v1 §6 order) for each base reason code. */
export const REASON_CODES = {
  invalid_plan: 1,
  unauthenticated: 2,
  source_not_allowed: 3,
  NOT_EXIT_OWNER: 4,
  trading_halted: 5,
  trading_reducing: 5,
  stale_plan: 6,
  duplicate_plan_id: 7,
  permit_required: 8,
  permit_invalid: 8,
  permit_expired: 8,
  permit_mismatch: 8,
  permit_reused: 8,
  limit: 9,
  venue_not_enabled: 10,
  venue_not_ready: 10,
  signer_denied: 10,
  venue_error: 11,
  internal_error: 11,
} as const;

/** A base reason code (without detail). */
export type ReasonCode = keyof typeof REASON_CODES;

/** A full reason string as written to a result, e.g. `limit:max_qty`. */
export type Reason = ReasonCode | `${ReasonCode}:${string}`;

/** Builds `<code>` or `<code>:<detail>`. */
export function reason(code: ReasonCode, detail?: string): Reason {
  return detail === undefined ? code : `${code}:${detail}`;
}

/** The base code of a reason string (the part before the first `:`). */
export function baseCode(r: string): string {
  const i = r.indexOf(":");
  return i < 0 ? r : r.slice(0, i);
}
