import { isRecord } from "./isRecord.js";

/** Severities an alert may carry (wire-v1 §1a). */
export const ALERT_SEVERITIES = ["info", "warning", "critical"] as const;

/** One of {@link ALERT_SEVERITIES}. */
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];

/** The kind given to an alert stream entry that holds no readable alert. */
export const UNREADABLE_ALERT_KIND = "unreadable_alert";

/** A kind usable as a metric label and log field: lower-case words; anything else is counted as `other`. */
const KIND_LABEL = /^[a-z][a-z0-9_]{0,63}$/;

/**
 * One alert read from the alert stream, ready to deliver: its stream id (the
 * idempotency key sinks pass on), the JSON text sinks send, the parsed
 * object, and its kind and severity as bounded labels.
 */
export interface AlertRecord {
  /** The entry's stream id: unique per alert on its bus, stable across retries and restarts. */
  readonly id: string;
  /** The alert's JSON text, exactly as on the stream (or the synthesized alert for an unreadable entry). */
  readonly text: string;
  /** The parsed alert object. */
  readonly alert: Readonly<Record<string, unknown>>;
  /** The alert's kind when it is a plain lower-case word, else `other`: safe as a label. */
  readonly kind: string;
  /** The alert's severity, or `unknown` when it has none of {@link ALERT_SEVERITIES}. */
  readonly severity: AlertSeverity | "unknown";
  /** The alert's `dedup_key`, when it is a string. */
  readonly dedupKey: string | undefined;
}

/**
 * Parses an alert stream entry (`text`: its `alert` field, `undefined` when
 * the entry has none). An entry that holds no JSON object still yields an
 * alert, of kind {@link UNREADABLE_ALERT_KIND} (severity `warning`), naming
 * the entry and the problem but not quoting it: an alert is never dropped
 * silently.
 * @example parseAlertEntry("1-0", '{"v":1,"kind":"dead_letter","severity":"warning"}').kind // "dead_letter"
 */
export function parseAlertEntry(id: string, text: string | undefined): AlertRecord {
  let problem: string;
  if (text === undefined) problem = "the entry has no alert field";
  else {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (isRecord(parsed)) return recordOf(id, text, parsed);
    problem =
      parsed === undefined ? "the alert field is not valid JSON" : "the alert field is not a JSON object";
  }
  const ms = Number(id.split("-")[0]);
  const alert = {
    v: 1,
    timestamp: Number.isSafeInteger(ms) ? ms : 0,
    kind: UNREADABLE_ALERT_KIND,
    severity: "warning",
    dedup_key: `${UNREADABLE_ALERT_KIND}:${id}`,
    stream_id: id,
    error: problem,
  };
  return recordOf(id, JSON.stringify(alert), alert);
}

function recordOf(id: string, text: string, alert: Readonly<Record<string, unknown>>): AlertRecord {
  const kind = typeof alert.kind === "string" && KIND_LABEL.test(alert.kind) ? alert.kind : "other";
  const severity = (ALERT_SEVERITIES as readonly unknown[]).includes(alert.severity)
    ? (alert.severity as AlertSeverity)
    : "unknown";
  const dedupKey = typeof alert.dedup_key === "string" ? alert.dedup_key : undefined;
  return { id, text, alert, kind, severity, dedupKey };
}
