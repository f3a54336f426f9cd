import type { Lane } from "../plan.js";

/**
 * The alerts the rules emit, shaped as wire §1a alerts: `v`, `timestamp`,
 * `kind`, `severity`, `dedup_key`, then the fields of the kind. None carries
 * plan text, signatures or anything else from a raw entry: only fields a
 * result or the executor's DLQ fields already expose.
 */

/** Alert severities (wire §1a). */
export type AlertSeverity = "info" | "warning" | "critical";

/** The fields every alert has (wire §1a). */
interface AlertBase {
  readonly v: 1;
  /** The rule engine's clock (ms since the epoch) when the alert was raised. */
  readonly timestamp: number;
  readonly severity: AlertSeverity;
  readonly dedup_key: string;
}

/** `threshold` or more results with one watched base code from one source within `window_ms`. */
export interface DenyBurstAlert extends AlertBase {
  readonly kind: "deny_burst";
  /** The base reason code (wire §6). */
  readonly code: string;
  /** The results' source, `null` when they had none readable. */
  readonly source: string | null;
  /** Matching results in the burst. */
  readonly count: number;
  readonly window_ms: number;
  /** Timestamps of the burst's first and last result (their span is under `window_ms`). */
  readonly first_at: number;
  readonly last_at: number;
}

/** A watched source that has written no result for `after_ms`. */
export interface SourceSilentAlert extends AlertBase {
  readonly kind: "source_silent";
  readonly source: string;
  /** Timestamp of its latest result. */
  readonly last_seen: number;
  /** How long it has been silent at `timestamp`. */
  readonly silent_ms: number;
}

/** An `UNKNOWN` result whose reconciled follow-up has not been seen for `after_ms`. */
export interface UnknownOpenAlert extends AlertBase, OpenUnknownState {
  readonly kind: "unknown_open";
  /** How long it has been open at `timestamp`. */
  readonly open_ms: number;
}

/** An `UNKNOWN` result without its reconciled follow-up yet: what its alert names, and what a snapshot keeps. */
export interface OpenUnknownState {
  readonly lane: Lane;
  readonly stream_id: string;
  readonly plan_id: string | null;
  readonly source: string | null;
  readonly venue: string | null;
  readonly client_order_id: string | null;
  /** The `UNKNOWN` result's timestamp. */
  readonly opened_at: number;
}

/**
 * An entry in the DLQ: the executor's own `dead_letter` alert (wire §1a), same
 * fields and dedup_key, so a consumer de-duplicates the two. The DLQ copy
 * holds no parsed plan, so `plan_id` and `source` are `null`, as in the
 * executor's alert for an entry it never parsed.
 */
export interface DeadLetterAlert extends AlertBase {
  readonly kind: "dead_letter";
  readonly lane: Lane;
  readonly stream_id: string;
  readonly plan_id: null;
  readonly source: null;
  readonly deliveries: number | null;
  readonly error: string | null;
}

/** Any alert the rules emit. */
export type RuleAlert = DenyBurstAlert | SourceSilentAlert | UnknownOpenAlert | DeadLetterAlert;

/** The kinds of {@link RuleAlert}. */
export type RuleAlertKind = RuleAlert["kind"];

/**
 * `deny_burst:<code>:<source>`, or `deny_burst:<code>` when the source is
 * null. A base code holds no `:`, so keys of different (code, source) differ.
 */
export function denyBurstKey(code: string, source: string | null): string {
  return source === null ? `deny_burst:${code}` : `deny_burst:${code}:${source}`;
}

/** `source_silent:<source>`. */
export function sourceSilentKey(source: string): string {
  return `source_silent:${source}`;
}

/** `unknown_open:<lane>:<stream_id>`. */
export function unknownOpenKey(lane: Lane, streamId: string): string {
  return `unknown_open:${lane}:${streamId}`;
}

/** `dead_letter:<lane>:<stream_id>`: the executor's own key for the same entry. */
export function deadLetterKey(lane: Lane, streamId: string): string {
  return `dead_letter:${lane}:${streamId}`;
}
