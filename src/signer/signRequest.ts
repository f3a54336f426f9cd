import { z } from "zod";
import {
  DECLARED_INTENTS,
  type Intent,
  type PayloadKind,
  type SignerDenyReason,
  type SignPayload,
} from "../ports/signingPlane.js";

/**
 * Validation of one signing request body (signing-plane-v1 §2). The body is
 * treated as `unknown` whatever its static type says: a remote caller sends
 * JSON. Each field is checked by the authorization step that first needs it
 * (see `authorize.ts`), so a malformed field is denied with the code of that
 * step and the order of §3 holds for malformed bodies too:
 *
 * | field | malformed (wrong type, empty, too long, …) is denied |
 * |---|---|
 * | `intent` | `unknown_intent` |
 * | `route` | `route_not_allowed` (it can be in no allowlist) |
 * | `target` | `missing_target` (also: absent, `null`, `{}`, an array, a scalar) |
 * | `guard_context` | `missing_guard_context` (same rule) |
 * | `account` | `unknown_account` (no vault entry can match it) |
 * | `payload` | `payload_mismatch:payload` (not an object), `payload_mismatch:kind` (kind is not the intent's), `payload_mismatch:<field>` (a field of the kind) |
 * | `request_id` | `policy:request_id`: the signer's own rule that every request carries a 1-128 character id without control characters; checked with the other signer limits |
 */

/** A well-formed UUID (any version), in either case. */
export const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** Most characters of a request id. */
export const MAX_REQUEST_ID_LENGTH = 128;
/** Most characters of an account id or route the plane looks up. */
const MAX_ID_LENGTH = 128;
/** Most characters of a payload field (a query string, a body). */
const MAX_PAYLOAD_FIELD_LENGTH = 65536;

/**
 * An account id as the plane looks it up: a well-formed UUID in lowercase,
 * anything else unchanged (account ids other than UUIDs are case-sensitive).
 * @example normalizeAccount("4F1C…-…") // "4f1c…-…"
 */
export function normalizeAccount(account: string): string {
  return UUID_RE.test(account) ? account.toLowerCase() : account;
}

const NO_CONTROL_RE = /^[^\u0000-\u001f\u007f]*$/;

export const requestIdSchema = z.string().min(1).max(MAX_REQUEST_ID_LENGTH).regex(NO_CONTROL_RE);
export const intentSchema = z.enum(DECLARED_INTENTS);
export const routeSchema = z.string().min(1).max(MAX_ID_LENGTH);
export const accountSchema = z.string().min(1).max(MAX_ID_LENGTH).transform(normalizeAccount);

/** A non-empty plain object: what `target` and `guard_context` must be for an enabled intent. */
export const contextSchema = z.custom<Readonly<Record<string, unknown>>>(
  (v) => isPlainObject(v) && Object.keys(v).length > 0,
);

const payloadText = z.string().max(MAX_PAYLOAD_FIELD_LENGTH);
const payloadRecord = z.custom<Readonly<Record<string, unknown>>>((v) => isPlainObject(v));

/** The shape of each payload kind (the handler decodes the content). */
export const payloadSchemas: { readonly [K in PayloadKind]: z.ZodType<Extract<SignPayload, { kind: K }>> } = {
  "hmac-query": z.strictObject({ kind: z.literal("hmac-query"), query: payloadText }),
  "hmac-clob-l2": z.strictObject({
    kind: z.literal("hmac-clob-l2"),
    timestamp: payloadText,
    method: payloadText,
    path: payloadText,
    body: payloadText,
  }),
  "eip712-order": z.strictObject({
    kind: z.literal("eip712-order"),
    domain: payloadRecord,
    order: payloadRecord,
  }),
};

/** The request's fields, each either valid (normalised) or `undefined`; `payload` is left raw for {@link parsePayload}. */
export interface RequestView {
  /** The request id when valid. */
  readonly requestId: string | undefined;
  /** What a denial echoes as `request_id`: the id if it is a string (cut to 128 characters), else `""`. */
  readonly requestIdEcho: string;
  readonly intent: Intent | undefined;
  readonly route: string | undefined;
  readonly target: Readonly<Record<string, unknown>> | undefined;
  readonly guardContext: Readonly<Record<string, unknown>> | undefined;
  /** The account, a UUID lowercased. */
  readonly account: string | undefined;
  readonly payload: unknown;
}

/**
 * Splits a raw request body into validated fields without deciding anything:
 * a field that fails its schema is `undefined` and the authorization step
 * that needs it denies with its own code.
 */
export function readRequest(raw: unknown): RequestView {
  const body = isPlainObject(raw) ? raw : {};
  const requestId = readRequestId(body.request_id);
  return {
    requestId,
    requestIdEcho:
      requestId ??
      (typeof body.request_id === "string" ? cutText(body.request_id, MAX_REQUEST_ID_LENGTH) : ""),
    intent: DECLARED.has(body.intent as string) ? (body.intent as Intent) : undefined,
    route: boundedText(body.route, MAX_ID_LENGTH),
    target: readContext(body.target),
    guardContext: readContext(body.guard_context),
    account: readAccount(body.account),
    payload: body.payload,
  };
}

// Plain-code equivalents of the field schemas above (the same rules, without a parser per field:
// this runs for every request). signRequest.test.ts checks they agree with the schemas.
const DECLARED: ReadonlySet<string> = new Set(DECLARED_INTENTS);

function boundedText(v: unknown, max: number): string | undefined {
  return typeof v === "string" && v.length >= 1 && v.length <= max ? v : undefined;
}

/** {@link requestIdSchema} */
export function readRequestId(v: unknown): string | undefined {
  const text = boundedText(v, MAX_REQUEST_ID_LENGTH);
  return text !== undefined && NO_CONTROL_RE.test(text) ? text : undefined;
}

/** {@link accountSchema} */
export function readAccount(v: unknown): string | undefined {
  const text = boundedText(v, MAX_ID_LENGTH);
  return text === undefined ? undefined : normalizeAccount(text);
}

/** {@link contextSchema} */
export function readContext(v: unknown): Readonly<Record<string, unknown>> | undefined {
  if (!isPlainObject(v)) return undefined;
  for (const k in v) if (Object.hasOwn(v, k)) return v;
  return undefined;
}

/**
 * Checks a raw payload against the shape of `kind`; on failure names the field
 * for `payload_mismatch:<field>` (`payload`, `kind`, or the first bad field).
 */
export function parsePayload<K extends PayloadKind>(
  kind: K,
  raw: unknown,
): { ok: true; payload: Extract<SignPayload, { kind: K }> } | { ok: false; field: string } {
  if (!isPlainObject(raw)) return { ok: false, field: "payload" };
  if (raw.kind !== kind) return { ok: false, field: "kind" };
  // Well-formed (the common case): the payload as is, without running the schema's parser.
  if (wellFormed(kind, raw)) return { ok: true, payload: raw as Extract<SignPayload, { kind: K }> };
  const parsed = payloadSchemas[kind].safeParse(raw);
  if (parsed.success) return { ok: true, payload: parsed.data as Extract<SignPayload, { kind: K }> };
  const issue = parsed.error.issues[0];
  const name =
    issue?.code === "unrecognized_keys"
      ? issue.keys[0]
      : issue?.path[0] === undefined
        ? undefined
        : String(issue.path[0]);
  // A field name from the body is echoed only when it is a plain, short name (signing-plane-v1 §7).
  return { ok: false, field: name !== undefined && FIELD_NAME_RE.test(name) ? name : "payload" };
}

/** A field name a reason may echo: what every handler's own field names look like. */
const FIELD_NAME_RE = /^[A-Za-z][A-Za-z0-9_]{0,47}$/;

/**
 * A reason as it is answered and audited: `payload_mismatch:<field>` and
 * `policy:<name>` with a plain name of at most 48 characters, else the
 * field is `payload` / the name `invalid` (a field name the body chose is
 * never echoed unbounded, signing-plane-v1 §7).
 * @example boundedReason(`payload_mismatch:${"x".repeat(60000)}`) // "payload_mismatch:payload"
 */
export function boundedReason(reason: SignerDenyReason): SignerDenyReason {
  const colon = reason.indexOf(":");
  if (colon < 0) return reason;
  const name = reason.slice(colon + 1);
  if (FIELD_NAME_RE.test(name)) return reason;
  return reason.startsWith("payload_mismatch:") ? "payload_mismatch:payload" : "policy:invalid";
}

/** The text fields of each kind (all required strings of at most {@link MAX_PAYLOAD_FIELD_LENGTH}). */
const TEXT_FIELDS: { readonly [K in PayloadKind]: readonly string[] } = {
  "hmac-query": ["query"],
  "hmac-clob-l2": ["timestamp", "method", "path", "body"],
  "eip712-order": [],
};
const RECORD_FIELDS: { readonly [K in PayloadKind]: readonly string[] } = {
  "hmac-query": [],
  "hmac-clob-l2": [],
  "eip712-order": ["domain", "order"],
};

/** True when `raw` passes {@link payloadSchemas}[kind] as it is: exactly its keys, each of its type. */
function wellFormed(kind: PayloadKind, raw: Record<string, unknown>): boolean {
  const texts = TEXT_FIELDS[kind];
  const records = RECORD_FIELDS[kind];
  let keys = 0;
  for (const k in raw) if (Object.hasOwn(raw, k)) keys++;
  if (keys !== 1 + texts.length + records.length) return false;
  for (const f of texts) {
    const v = raw[f];
    if (!Object.hasOwn(raw, f) || typeof v !== "string" || v.length > MAX_PAYLOAD_FIELD_LENGTH) return false;
  }
  for (const f of records) if (!Object.hasOwn(raw, f) || !isPlainObject(raw[f])) return false;
  return true;
}

/** True for `{…}` built by a literal, `JSON.parse` or `Object.create(null)`; false for arrays, class instances, null. */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** `text` cut to at most `max` UTF-16 units. */
export function cutText(text: string, max: number): string {
  return text.length <= max ? text : text.slice(0, max);
}
