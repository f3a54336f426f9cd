import { randomUUID } from "node:crypto";
import { parseEntry } from "../core/parseEntry.js";
import type { OrderType, PlanAction, Side, VenueName } from "../core/plan.js";
import { planObjectSchema } from "../core/planSchema.js";
import { parseStrictJson } from "../core/strictJson.js";

/**
 * A plan's fields as a producer writes them (wire-v1 §3). Quantities and
 * prices are decimal strings (`"0.3"`), never JS numbers: `0.1 + 0.2` is
 * `0.30000000000000004`, and a plan must say exactly what it means.
 */
export interface PlanInput {
  /** Default: a new `p-<uuid>`. */
  readonly plan_id?: string;
  readonly source: string;
  /** Default `paper`. */
  readonly venue?: VenueName;
  readonly account?: string;
  /** Default `place`. */
  readonly action?: PlanAction;
  readonly symbol?: string;
  readonly side?: Side;
  readonly type?: OrderType;
  /** Decimal string, e.g. `"0.01"`. */
  readonly qty?: string;
  /** Decimal string, for `LIMIT`. */
  readonly price?: string;
  readonly reduce_only?: boolean;
  /** ms since epoch; default now. */
  readonly created_at?: number;
  /** ms since epoch. */
  readonly expires_at?: number;
  readonly permit?: string;
  readonly target_plan_id?: string;
  readonly meta?: Readonly<Record<string, unknown>>;
}

/** A plan a producer must not publish, with the field at fault (`field` is `plan` for the whole text). */
export class PlanInputError extends Error {
  override readonly name = "PlanInputError";
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

/**
 * Earliest `created_at` / `expires_at` taken as milliseconds: anything below
 * is taken to be seconds (1e12 ms is September 2001; 1e12 s is 33 658 AD).
 */
const MIN_EPOCH_MS = 1e12;

/**
 * Builds the JSON text of a plan from typed fields, checked as
 * {@link checkPlanText} checks it.
 *
 * @example
 * ```ts
 * const text = buildPlan({ source: "bridge", symbol: "BTCUSDT", side: "BUY", qty: "0.01" });
 * JSON.parse(text).qty; // => "0.01"
 * ```
 */
export function buildPlan(input: PlanInput, now: number = Date.now()): string {
  for (const field of ["qty", "price"] as const) {
    const v = (input as unknown as Record<string, unknown>)[field];
    if (v !== undefined && typeof v !== "string")
      throw new PlanInputError(
        field,
        `a ${typeof v}; write the decimal as a string (e.g. "0.3") so it is exact`,
      );
  }
  const plan = {
    v: 1,
    ...input,
    plan_id: input.plan_id ?? `p-${randomUUID()}`,
    venue: input.venue ?? "paper",
    created_at: input.created_at ?? now,
  };
  const text = JSON.stringify(plan);
  checkPlanText(text);
  return text;
}

/**
 * Refuses a plan text a producer should not publish, with a
 * {@link PlanInputError} naming the field: what gate 1 would deny
 * (`invalid_plan:<detail>`: bad JSON, unknown fields, a malformed field),
 * and what gate 1 accepts but is almost certainly a mistake: a JSON number
 * for `qty` or `price` (write decimals as strings), and `created_at` /
 * `expires_at` in seconds rather than milliseconds.
 */
export function checkPlanText(text: string): void {
  const json = parseStrictJson(text);
  if (!json.ok) throw new PlanInputError("plan", `not a valid JSON plan (${json.error})`);
  const parsed = parseEntry([["plan", Buffer.from(text, "utf8")]]);
  const obj = json.value as Record<string, unknown>;
  if (!parsed.ok) {
    const unknown = Object.keys(obj).find((k) => !(k in planObjectSchema.shape));
    if (parsed.detail === "unknown_field" && unknown !== undefined)
      throw new PlanInputError(unknown, "not a plan field (invalid_plan:unknown_field)");
    throw new PlanInputError(fieldOf(parsed.detail), `invalid_plan:${parsed.detail}`);
  }
  for (const field of ["qty", "price"] as const) {
    if (typeof obj[field] === "number")
      throw new PlanInputError(
        field,
        `a JSON number (${String(obj[field])}); write the decimal as a string (e.g. "0.3") so it is exact`,
      );
  }
  for (const field of ["created_at", "expires_at"] as const) {
    const v = obj[field];
    if (typeof v === "number" && v < MIN_EPOCH_MS)
      throw new PlanInputError(field, `${v} looks like seconds; expected milliseconds since epoch`);
  }
}

/** The plan field an `invalid_plan` detail names, or `plan` for the whole text. */
function fieldOf(detail: string): string {
  return /^[a-z_]+$/.test(detail) && !NOT_FIELDS.has(detail) ? detail : "plan";
}

const NOT_FIELDS = new Set([
  "duplicate_field",
  "unknown_field",
  "missing_plan",
  "too_large",
  "encoding",
  "json",
  "duplicate_key",
  "too_deep",
  "not_object",
  "meta_too_large",
]);
