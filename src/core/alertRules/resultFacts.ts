import { baseCode, REASON_CODES, type ReasonCode } from "../reasons.js";
import type { PlanResult } from "../result.js";
import { SOURCE_NAME_RE } from "./settings.js";

/**
 * What the rules read from a result. Results come off the bus, so each
 * reader tolerates values a well-formed result never has instead of failing.
 */

/**
 * The result's source when it is a source name (1–128 characters, no
 * control characters), else null: a plan refused at gate 1 may echo any text.
 */
export function sourceOf(result: Pick<PlanResult, "source">): string | null {
  const s = result.source;
  return typeof s === "string" && SOURCE_NAME_RE.test(s) ? s : null;
}

/** The base code of the result's `error` when it is registered (wire §6), else null. */
export function codeOf(result: Pick<PlanResult, "error">): ReasonCode | null {
  if (typeof result.error !== "string") return null;
  const code = baseCode(result.error);
  return Object.hasOwn(REASON_CODES, code) ? (code as ReasonCode) : null;
}

/**
 * Whether the result passed gate 3 (its source is configured and allowed on
 * its lane): executed, or refused by gate 4 or later. Only such a result
 * shows a source is alive; any producer can write a plan naming a source
 * and have it refused at gates 1–3.
 */
export function passedSourceGate(result: Pick<PlanResult, "error" | "decision">): boolean {
  if (result.error === null) return result.decision === "EXECUTED";
  const code = codeOf(result);
  return code !== null && REASON_CODES[code] > 3;
}

/**
 * When the result happened: its own timestamp, never later than the engine's
 * clock (an executor clock running ahead cannot hold a window open), or the
 * clock when the timestamp is not a number.
 */
export function eventTime(result: Pick<PlanResult, "timestamp">, clock: number): number {
  const t = result.timestamp;
  return typeof t === "number" && Number.isFinite(t) ? Math.min(t, clock) : clock;
}

/** An identifier the rules keep (stream id, plan_id, venue, client order id): 1–256 characters, no control characters. */
export const KEPT_TEXT_RE = /^[^\u0000-\u001f\u007f]{1,256}$/;

/** `value` when it is a string {@link KEPT_TEXT_RE} accepts, else null. */
export function keptText(value: unknown): string | null {
  return typeof value === "string" && KEPT_TEXT_RE.test(value) ? value : null;
}
