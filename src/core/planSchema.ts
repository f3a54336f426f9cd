import { z } from "zod";
import { PLAN_ACTIONS, VENUES } from "./plan.js";

/** plan_id grammar (wire-v1 §3). */
export const PLAN_ID_RE = /^[A-Za-z0-9._:-]{1,64}$/;
/** Free-text identifiers (source, symbol, account): 1–128 characters, no control characters. */
const IDENT_RE = /^[^\u0000-\u001f\u007f]{1,128}$/;
/**
 * A UTF-16 surrogate without its pair (a JSON `"\ud800"` escape): not a
 * character, and not text every reader of the ledger can decode (Redis'
 * Lua `cjson` refuses it), so identifiers holding one are refused.
 */
const LONE_SURROGATE_RE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const ident = z
  .string()
  .regex(IDENT_RE)
  .refine((s) => !LONE_SURROGATE_RE.test(s), { error: "must not hold a lone UTF-16 surrogate" });
/** Largest `meta` JSON text, in UTF-8 bytes. */
export const MAX_META_BYTES = 4096;

const decimalInput = z.union([z.string(), z.number()]);
const epochMs = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

/**
 * The plan JSON object of wire-v1 §3 as received (before decimals are
 * converted): unknown top-level fields are refused. Which fields an action
 * needs or forbids (an order's `side` and `qty`; a cancel's
 * `target_plan_id`) is checked after this, per action, by `parseEntry`.
 */
export const planObjectSchema = z.strictObject({
  v: z.literal(1),
  plan_id: z.string().regex(PLAN_ID_RE),
  source: ident,
  venue: z.enum(VENUES as [string, ...string[]]),
  account: ident.optional(),
  action: z.enum(PLAN_ACTIONS as [string, ...string[]]).optional(),
  symbol: ident.optional(),
  side: z.enum(["BUY", "SELL"]).optional(),
  type: z.enum(["MARKET", "LIMIT"]).optional(),
  qty: decimalInput.optional(),
  price: decimalInput.optional(),
  reduce_only: z.boolean().optional(),
  created_at: epochMs,
  expires_at: epochMs.optional(),
  permit: z.string().min(1).max(4096).optional(),
  meta: z.record(z.string(), z.unknown()).optional(),
  target_plan_id: z.string().regex(PLAN_ID_RE).optional(),
});

/** Fields only an order (`action: "place"`) may carry: on a cancel each is `invalid_plan:<field>`. */
export const ORDER_ONLY_FIELDS = ["side", "type", "qty", "price", "reduce_only", "permit"] as const;

/** The parsed, not yet converted, plan object. */
export type PlanObject = z.infer<typeof planObjectSchema>;
