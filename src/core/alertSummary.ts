import type { AlertRecord } from "./alertRecord.js";

/** Fields every alert has, left out of the summary's `key=value` list (the envelope). */
const ENVELOPE = new Set(["v", "timestamp", "kind", "severity", "dedup_key"]);
/** Longest value shown in a summary. */
const MAX_VALUE_CHARS = 80;
/** Longest summary. */
export const MAX_SUMMARY_CHARS = 400;

/**
 * A readable one-line summary of an alert, for a chat message and a log
 * line: severity, kind, then the alert's own fields as `key=value` (values
 * clipped, control characters replaced by spaces), then its stream id.
 * Never longer than {@link MAX_SUMMARY_CHARS}.
 * @example alertSummary(record) // "[WARNING] dead_letter: lane=main stream_id=17-0 plan_id=p1 deliveries=5 (alert 18-0)"
 */
export function alertSummary(record: AlertRecord): string {
  const head = `[${record.severity.toUpperCase()}] ${record.kind === "other" ? labelOf(record.alert.kind) : record.kind}`;
  const fields = Object.entries(record.alert)
    .filter(([key]) => !ENVELOPE.has(key))
    .map(([key, value]) => `${oneLine(key, 40)}=${oneLine(valueText(value), MAX_VALUE_CHARS)}`);
  const tail = ` (alert ${record.id})`;
  const body = fields.length > 0 ? `${head}: ${fields.join(" ")}` : head;
  const room = MAX_SUMMARY_CHARS - tail.length;
  return `${body.length > room ? `${body.slice(0, room - 1)}…` : body}${tail}`;
}

function labelOf(kind: unknown): string {
  return typeof kind === "string" && kind !== "" ? oneLine(kind, 40) : "alert";
}

function valueText(value: unknown): string {
  if (typeof value === "string") return value;
  return JSON.stringify(value) ?? String(value);
}

/** `text` without control characters, clipped to `max` characters. */
function oneLine(text: string, max: number): string {
  const flat = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, " ");
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
