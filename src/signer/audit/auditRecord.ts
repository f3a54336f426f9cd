import { createHash } from "node:crypto";
import { z } from "zod";
import { cutText, isPlainObject, type RequestView } from "../signRequest.js";

/**
 * One line of the signer's audit log (signing-plane-v1 §6), and its hash.
 *
 * A line is the JSON of an object whose keys are exactly {@link AUDIT_FIELDS}
 * in that order, followed by `hash`. `hash` is the lowercase hex SHA-256 of
 * the UTF-8 bytes of the canonical text: `JSON.stringify` of the object
 * holding the fields of {@link AUDIT_FIELDS} in that order (everything but
 * `hash`). `prev_hash` is the previous line's `hash`; the first line has
 * `seq` 1 and `prev_hash` {@link GENESIS_HASH}.
 *
 * A line holds names and decisions only: never a payload, a signature, a key,
 * or any VALUE of `target` / `guard_context` (their keys, sorted).
 */

/** Format version of a line. */
export const AUDIT_VERSION = 1;
/** `prev_hash` of the first line. */
export const GENESIS_HASH = "0".repeat(64);
/** The hashed fields, in canonical order. */
export const AUDIT_FIELDS = [
  "v",
  "seq",
  "time",
  "request_id",
  "caller",
  "account",
  "intent",
  "route",
  "target_keys",
  "guard_context_keys",
  "decision",
  "reason",
  "prev_hash",
] as const;

/** Most characters of a text field (caller, account, intent, route); longer texts are cut. */
const MAX_TEXT = 128;
/** Most keys listed per context, and most characters per key. */
const MAX_KEYS = 64;
const MAX_KEY_TEXT = 64;

/** What the plane hands the log for one request; the log adds `v`, `seq`, `prev_hash` and `hash`. */
export interface AuditEntry {
  /** ISO-8601 UTC time of the decision. */
  readonly time: string;
  /** The request id as echoed to the caller (`""` when the body had none). */
  readonly request_id: string;
  readonly caller: string;
  /** The account (a UUID lowercased); `null` when the body had no string. */
  readonly account: string | null;
  readonly intent: string | null;
  readonly route: string | null;
  readonly target_keys: readonly string[];
  readonly guard_context_keys: readonly string[];
  readonly decision: "granted" | "denied";
  /** The denial reason, or `"ok"` for a grant. */
  readonly reason: string;
}

/** A full audit line. */
export interface AuditRecord extends AuditEntry {
  readonly v: typeof AUDIT_VERSION;
  readonly seq: number;
  readonly prev_hash: string;
  readonly hash: string;
}

const HASH_RE = /^[0-9a-f]{64}$/;
const text = z.string();

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
  target_keys: z.array(text),
  guard_context_keys: z.array(text),
  decision: z.enum(["granted", "denied"]),
  reason: text,
  prev_hash: z.string().regex(HASH_RE),
  hash: z.string().regex(HASH_RE),
});

/** The canonical text a line's `hash` covers. */
export function canonicalAuditText(record: Omit<AuditRecord, "hash">): string {
  const ordered: Record<string, unknown> = {};
  for (const f of AUDIT_FIELDS) ordered[f] = record[f];
  return JSON.stringify(ordered);
}

/** sha256 hex of {@link canonicalAuditText}. */
export function auditHash(record: Omit<AuditRecord, "hash">): string {
  return hashCanonicalText(canonicalAuditText(record));
}

/** sha256 hex of a canonical text (as {@link canonicalAuditText} made it). */
export function hashCanonicalText(canonical: string): string {
  return createHash("sha256").update(canonical, "utf8").digest("hex");
}

/** A line's text (without the line break): the canonical fields, then `hash`. */
export function formatAuditLine(record: AuditRecord): string {
  return lineOfCanonicalText(canonicalAuditText(record), record.hash);
}

/**
 * The line (without its line break) of a record given its canonical text and
 * hash: the canonical object with `hash` as its last key. `hash` is 64 hex
 * digits, so splicing it in is the same text `JSON.stringify` would write.
 */
export function lineOfCanonicalText(canonical: string, hash: string): string {
  if (!HASH_RE.test(hash) || !canonical.endsWith("}")) throw new TypeError("not a canonical audit text");
  return `${canonical.slice(0, -1)},"hash":"${hash}"}`;
}

/** Why one line is bad, as `intentgate audit verify` reports it. */
export type AuditProblem = "json" | "hash" | "seq" | "prev_hash";

/** Parses one line and checks its own hash (not its place in the chain). */
export function parseAuditLine(
  line: string,
): { ok: true; record: AuditRecord } | { ok: false; problem: "json" | "hash" } {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { ok: false, problem: "json" };
  }
  const parsed = auditRecordSchema.safeParse(value);
  if (!parsed.success) return { ok: false, problem: "json" };
  const record = parsed.data as AuditRecord;
  return auditHash(record) === record.hash ? { ok: true, record } : { ok: false, problem: "hash" };
}

/**
 * The audit fields of one request: names only, cut to bounded lengths so a
 * hostile body cannot bloat the log, `target` / `guard_context` reduced to
 * their sorted keys. Values are never read.
 */
export function auditFieldsOf(
  caller: string,
  raw: unknown,
  view: RequestView,
): Pick<
  AuditEntry,
  "request_id" | "caller" | "account" | "intent" | "route" | "target_keys" | "guard_context_keys"
> {
  const body = isPlainObject(raw) ? raw : {};
  return {
    request_id: view.requestIdEcho,
    caller: cutText(caller, MAX_TEXT),
    account: view.account ?? textOrNull(body.account),
    intent: textOrNull(body.intent),
    route: textOrNull(body.route),
    target_keys: keysOf(body.target),
    guard_context_keys: keysOf(body.guard_context),
  };
}

function textOrNull(v: unknown): string | null {
  return typeof v === "string" ? cutText(v, MAX_TEXT) : null;
}

function keysOf(v: unknown): string[] {
  if (!isPlainObject(v)) return [];
  return Object.keys(v)
    .sort()
    .slice(0, MAX_KEYS)
    .map((k) => cutText(k, MAX_KEY_TEXT));
}
