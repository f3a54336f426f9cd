import { type Decimal, parseDecimal } from "./decimal.js";
import {
  DEFAULT_ACCOUNT,
  LIVE_VENUES,
  PLAN_ACTIONS,
  type Plan,
  type PlanAction,
  VENUES,
  type VenueName,
} from "./plan.js";
import { MAX_META_BYTES, ORDER_ONLY_FIELDS, PLAN_ID_RE, planObjectSchema } from "./planSchema.js";
import { planFieldDetail } from "./reasonRegistry.js";
import type { DetailOf } from "./reasons.js";
import { parseStrictJson } from "./strictJson.js";

/** Largest `plan` field accepted, in bytes. */
export const MAX_PLAN_BYTES = 16 * 1024;
const ENTRY_FIELDS = new Set(["plan", "auth"]);
const LIVE: ReadonlySet<VenueName> = new Set(LIVE_VENUES);
const utf8 = new TextDecoder("utf-8", { fatal: true });

/** A plan entry after gate 1: the plan, the exact bytes it was signed over, and the raw `auth` field. */
export interface ParsedEntry {
  readonly plan: Plan;
  readonly planBytes: Buffer;
  readonly auth: string | undefined;
}

/** Gate 1's answer: a parsed entry, or the `invalid_plan` detail (plus whatever plan fields could be read, for the result). */
export type ParseEntryOutcome =
  | { readonly ok: true; readonly entry: ParsedEntry }
  | {
      readonly ok: false;
      readonly detail: DetailOf<"invalid_plan">;
      readonly partial: Partial<Record<string, unknown>> | undefined;
    };

/**
 * Gate 1: turns raw entry fields into a {@link Plan} or an `invalid_plan`
 * detail. Never throws. Details: `duplicate_field`, `unknown_field`,
 * `missing_plan`, `too_large`, `encoding`, `json`, `duplicate_key`,
 * `not_object`, `meta_too_large`, or the name of the offending plan field.
 */
export function parseEntry(fields: ReadonlyArray<readonly [string, Buffer]>): ParseEntryOutcome {
  const seen = new Set<string>();
  let planBytes: Buffer | undefined;
  let auth: string | undefined;
  for (const [name, value] of fields) {
    if (seen.has(name)) return fail("duplicate_field");
    seen.add(name);
    if (!ENTRY_FIELDS.has(name)) return fail("unknown_field");
    if (name === "plan") planBytes = value;
    else auth = value.toString("latin1");
  }
  if (planBytes === undefined) return fail("missing_plan");
  if (planBytes.length > MAX_PLAN_BYTES) return fail("too_large");
  let text: string;
  try {
    text = utf8.decode(planBytes);
  } catch {
    return fail("encoding");
  }
  const json = parseStrictJson(text);
  if (!json.ok) return fail(json.error);
  if (typeof json.value !== "object" || json.value === null || Array.isArray(json.value))
    return fail("not_object");
  const obj = json.value as Record<string, unknown>;
  const parsed = planObjectSchema.safeParse(obj);
  if (!parsed.success) {
    const partial = readablePart(obj);
    const issue = parsed.error.issues[0];
    const detail = issue?.code === "unrecognized_keys" ? "unknown_field" : planFieldDetail(issue?.path[0]);
    return fail(detail, partial);
  }
  const p = parsed.data;
  const partial = () => readablePart(obj);
  // zod copies records into fresh objects, which turns an own `__proto__` member into a prototype;
  // `meta` is therefore taken from JSON.parse's own object, where it is a plain member.
  const meta = obj.meta as Record<string, unknown> | undefined;
  const venue = p.venue as VenueName;
  const common = {
    v: 1,
    plan_id: p.plan_id,
    source: p.source,
    venue,
    account: p.account ?? (LIVE.has(venue) ? undefined : DEFAULT_ACCOUNT),
    created_at: p.created_at,
    expires_at: p.expires_at,
    meta,
  } as const;
  const action = (p.action ?? "place") as PlanAction;
  let plan: Plan;
  if (action === "place") {
    if (p.target_plan_id !== undefined) return fail("target_plan_id", partial());
    if (p.symbol === undefined) return fail("symbol", partial());
    if (p.side === undefined) return fail("side", partial());
    const qty = p.qty === undefined ? undefined : toDecimal(p.qty);
    if (p.qty === undefined || qty === undefined || qty <= 0n) return fail("qty", partial());
    const type = p.type ?? "MARKET";
    let price: Decimal | undefined;
    if (p.price !== undefined) {
      price = toDecimal(p.price);
      if (price === undefined || price <= 0n) return fail("price", partial());
    } else if (type === "LIMIT") return fail("price", partial());
    plan = {
      ...common,
      action,
      symbol: p.symbol,
      side: p.side,
      type,
      qty,
      qtyText: typeof p.qty === "number" ? String(p.qty) : p.qty,
      price,
      reduce_only: p.reduce_only ?? false,
      permit: p.permit,
    };
  } else {
    const orderField = ORDER_ONLY_FIELDS.find((f) => p[f] !== undefined);
    if (orderField !== undefined) return fail(orderField, partial());
    if (action === "cancel") {
      if (p.symbol === undefined) return fail("symbol", partial());
      if (p.target_plan_id === undefined) return fail("target_plan_id", partial());
      plan = { ...common, action, symbol: p.symbol, target_plan_id: p.target_plan_id };
    } else {
      if (p.target_plan_id !== undefined) return fail("target_plan_id", partial());
      plan = { ...common, action, symbol: p.symbol };
    }
  }
  if (LIVE.has(venue) && p.account === undefined) return fail("account", partial());
  if (meta !== undefined) {
    if (Buffer.byteLength(JSON.stringify(meta), "utf8") > MAX_META_BYTES)
      return fail("meta_too_large", partial());
    const kelly = Object.hasOwn(meta, "kelly_fraction") ? meta.kelly_fraction : undefined;
    if (kelly !== undefined && (typeof kelly !== "number" || !(kelly >= 0 && kelly <= 1)))
      return fail("meta", partial());
  }
  return { ok: true, entry: { plan, planBytes, auth } };
}

function fail(
  detail: DetailOf<"invalid_plan">,
  partial?: Partial<Record<string, unknown>>,
): ParseEntryOutcome {
  return { ok: false, detail, partial };
}

/** A JSON number counts only when `String(n)` matches the decimal grammar (so `1e-7` and `1e999` do not). */
function toDecimal(input: string | number): Decimal | undefined {
  return parseDecimal(typeof input === "number" ? String(input) : input);
}

/** A quantity's text when it is a valid decimal, for echoing. */
function readableDecimal(input: string | number): string | undefined {
  const text = typeof input === "number" ? String(input) : input;
  return parseDecimal(text) === undefined ? undefined : text;
}

/** Plan fields readable enough to echo in a result even when the plan is invalid. */
function readablePart(obj: Record<string, unknown>): Partial<Record<string, unknown>> {
  const text = (k: string, ok: (s: string) => boolean) =>
    typeof obj[k] === "string" && ok(obj[k] as string) ? (obj[k] as string) : undefined;
  const short = (s: string) => s.length > 0 && s.length <= 128;
  return {
    plan_id: text("plan_id", (s) => PLAN_ID_RE.test(s)),
    source: text("source", short),
    symbol: text("symbol", short),
    side: text("side", (s) => s === "BUY" || s === "SELL"),
    venue: text("venue", (s) => (VENUES as readonly string[]).includes(s)),
    qty: typeof obj.qty === "number" || typeof obj.qty === "string" ? readableDecimal(obj.qty) : undefined,
    reduce_only: typeof obj.reduce_only === "boolean" ? obj.reduce_only : undefined,
    action: text("action", (s) => (PLAN_ACTIONS as readonly string[]).includes(s)),
  };
}
