import { createHmac, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import { cutText, isPlainObject, type RequestView } from "../signRequest.js";

/**
 * One line of the signer's audit log (signing-plane-v1 §6), and its MAC.
 *
 * A line is the JSON of an object whose keys are exactly {@link AUDIT_FIELDS}
 * in that order, followed by `mac`. `mac` is the lowercase hex
 * HMAC-SHA256, under the audit key the signer holds, of the UTF-8 bytes of
 * the canonical text: `JSON.stringify` of the object holding the fields of
 * {@link AUDIT_FIELDS} in that order (everything but `mac`). `prev_mac` is
 * the previous line's `mac`; the first line has `seq` 1 and `prev_mac`
 * {@link GENESIS_MAC}. Without the key, nobody can write a line, or a chain
 * of lines, that verifies: an edit, a deletion, an insertion, a reordering
 * or a re-chained file is found by `intentgate audit verify` given the key.
 *
 * A line holds the request's identity and decision, the VALUES of the
 * `target` and `guard_context` fields the plane knows ({@link TARGET_FIELDS},
 * {@link GUARD_FIELDS}; text cut to 128 characters), which key signed, and
 * the signer's own notional and reference price: never a payload, a
 * signature, or a key.
 */

/** Format version of a line. */
export const AUDIT_VERSION = 2;
/** `prev_mac` of the first line. */
export const GENESIS_MAC = "0".repeat(64);
/** The MACed fields, in canonical order. */
export const AUDIT_FIELDS = [
  "v",
  "seq",
  "time",
  "request_id",
  "caller",
  "account",
  "intent",
  "route",
  "action",
  "target",
  "guard_context",
  "key",
  "cancel_capable",
  "notional",
  "reference_price",
  "decision",
  "reason",
  "prev_mac",
] as const;

/** The `target` fields a line records (what the signature does; `reference_price` is the caller's claim). */
export const TARGET_FIELDS = [
  "venue",
  "action",
  "symbol",
  "token_id",
  "side",
  "type",
  "order_type",
  "qty",
  "price",
  "reduce_only",
  "client_order_id",
  "order_id",
  "countdown_ms",
  "reference_price",
  "neg_risk",
  "maker",
  "method",
  "path",
] as const;
/** The `guard_context` fields a line records (what the caller decided). */
export const GUARD_FIELDS = [
  "plan_id",
  "decision",
  "trading_state",
  "permit_id",
  "mode",
  "source",
  "lane",
  "stream_id",
  "purpose",
  "client_order_id",
] as const;

/** Most characters of a text field (caller, account, intent, route, a value); longer texts are cut. */
const MAX_TEXT = 128;

/** Values of `target` / `guard_context` as recorded. */
export type AuditValues = Readonly<Record<string, string | number | boolean | null>>;

/** What the plane hands the log for one request; the log adds `v`, `seq`, `prev_mac` and `mac`. */
export interface AuditEntry {
  /** ISO-8601 UTC time of the decision, on the signer's clock. */
  readonly time: string;
  /** The request id as echoed to the caller (`""` when the body had none). */
  readonly request_id: string;
  readonly caller: string;
  /** The account (a UUID lowercased); `null` when the body had no string. */
  readonly account: string | null;
  readonly intent: string | null;
  readonly route: string | null;
  /** The route's one action, once the route was found. */
  readonly action: string | null;
  readonly target: AuditValues;
  readonly guard_context: AuditValues;
  /** Which of the account's keys signed (`trade`, `read_only`), on a grant. */
  readonly key: "trade" | "read_only" | null;
  /** A read signed with the trade key whose signature could also cancel (§3a). */
  readonly cancel_capable: boolean;
  /** The signer's notional for an order (decimal text), from its own reference price. */
  readonly notional: string | null;
  /** The signer's own reference price it used (the caller's claim is `target.reference_price`). */
  readonly reference_price: string | null;
  readonly decision: "granted" | "denied";
  /** The denial reason, or `"ok"` for a grant. */
  readonly reason: string;
}

/** A full audit line. */
export interface AuditRecord extends AuditEntry {
  readonly v: typeof AUDIT_VERSION;
  readonly seq: number;
  readonly prev_mac: string;
  readonly mac: string;
}

const MAC_RE = /^[0-9a-f]{64}$/;
const text = z.string();
const values = z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()]));

/** The exact shape of a parsed line (any other key, or a missing one, is not a valid line). */
export const auditRecordSchema = z.strictObject({
  v: z.literal(AUDIT_VERSION),
  seq: z.int().positive(),
  time: text,
  request_id: text,
  caller: text,
  account: text.nullable(),
  intent: text.nullable(),
  route: text.nullable(),
  action: text.nullable(),
  target: values,
  guard_context: values,
  key: z.enum(["trade", "read_only"]).nullable(),
  cancel_capable: z.boolean(),
  notional: text.nullable(),
  reference_price: text.nullable(),
  decision: z.enum(["granted", "denied"]),
  reason: text,
  prev_mac: z.string().regex(MAC_RE),
  mac: z.string().regex(MAC_RE),
});

/** The canonical text a line's `mac` covers. */
export function canonicalAuditText(record: Omit<AuditRecord, "mac">): string {
  const ordered: Record<string, unknown> = {};
  for (const f of AUDIT_FIELDS) ordered[f] = record[f];
  return JSON.stringify(ordered);
}

/** HMAC-SHA256 hex of a canonical text under the audit key. */
export function macOfCanonicalText(key: Uint8Array, canonical: string): string {
  return createHmac("sha256", key).update(canonical, "utf8").digest("hex");
}

/** The `mac` a record must carry under `key`. */
export function auditMac(key: Uint8Array, record: Omit<AuditRecord, "mac">): string {
  return macOfCanonicalText(key, canonicalAuditText(record));
}

/** True when `record.mac` is its MAC under `key` (constant time). */
export function macMatches(key: Uint8Array, record: AuditRecord): boolean {
  const want = Buffer.from(auditMac(key, record), "hex");
  const got = Buffer.from(record.mac, "hex");
  return got.length === want.length && timingSafeEqual(got, want);
}

/** A line's text (without the line break): the canonical fields, then `mac`. */
export function formatAuditLine(record: AuditRecord): string {
  return lineOfCanonicalText(canonicalAuditText(record), record.mac);
}

/**
 * The line (without its line break) of a record given its canonical text and
 * MAC: the canonical object with `mac` as its last key. `mac` is 64 hex
 * digits, so splicing it in is the same text `JSON.stringify` would write.
 */
export function lineOfCanonicalText(canonical: string, mac: string): string {
  if (!MAC_RE.test(mac) || !canonical.endsWith("}")) throw new TypeError("not a canonical audit text");
  return `${canonical.slice(0, -1)},"mac":"${mac}"}`;
}

/** Why one line is bad, as `intentgate audit verify` reports it. */
export type AuditProblem = "json" | "version" | "mac" | "seq" | "prev_mac";

/** Parses one line's shape (its MAC needs the key: see {@link macMatches}). */
export function parseAuditLine(
  line: string,
): { ok: true; record: AuditRecord } | { ok: false; problem: "json" | "version" } {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { ok: false, problem: "json" };
  }
  if (isPlainObject(value) && value.v !== AUDIT_VERSION && typeof value.v === "number") {
    return { ok: false, problem: "version" };
  }
  const parsed = auditRecordSchema.safeParse(value);
  if (!parsed.success) return { ok: false, problem: "json" };
  return { ok: true, record: parsed.data as AuditRecord };
}

/**
 * The audit fields of one request that come from its body: the request's
 * identity, and the values of the known `target` and `guard_context` fields
 * (bounded, so a hostile body cannot bloat the log). Never the payload.
 */
export function auditFieldsOf(
  caller: string,
  raw: unknown,
  view: RequestView,
): Pick<AuditEntry, "request_id" | "caller" | "account" | "intent" | "route" | "target" | "guard_context"> {
  const body = isPlainObject(raw) ? raw : {};
  return {
    request_id: view.requestIdEcho,
    caller: cutText(caller, MAX_TEXT),
    account: view.account ?? textOrNull(body.account),
    intent: textOrNull(body.intent),
    route: textOrNull(body.route),
    target: valuesOf(body.target, TARGET_FIELDS),
    guard_context: valuesOf(body.guard_context, GUARD_FIELDS),
  };
}

function textOrNull(v: unknown): string | null {
  return typeof v === "string" ? cutText(v, MAX_TEXT) : null;
}

/** The values of `fields` in `v` (own, plain values only; text cut), keys in `fields` order. */
function valuesOf(v: unknown, fields: readonly string[]): AuditValues {
  if (!isPlainObject(v)) return {};
  const out: Record<string, string | number | boolean | null> = {};
  for (const f of fields) {
    if (!Object.hasOwn(v, f)) continue;
    const value = v[f];
    if (typeof value === "string") out[f] = cutText(value, MAX_TEXT);
    else if (typeof value === "boolean" || value === null) out[f] = value;
    else if (typeof value === "number" && Number.isFinite(value)) out[f] = value;
  }
  return out;
}
