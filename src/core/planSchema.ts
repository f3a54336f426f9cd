import { z } from "zod";
import { VENUES } from "./plan.js";

/** plan_id grammar (wire-v1 §3). */
export const PLAN_ID_RE = /^[A-Za-z0-9._:-]{1,64}$/;
/** Free-text identifiers (source, symbol, account): 1–128 characters, no control characters. */
const IDENT_RE = /^[^\u0000-\u001f\u007f]{1,128}$/;
/** Largest `meta` JSON text, in UTF-8 bytes. */
export const MAX_META_BYTES = 4096;

const decimalInput = z.union([z.string(), z.number()]);
const epochMs = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

/**
 * The plan JSON object of wire-v1 §3 as received (before decimals are
 * converted): unknown top-level fields are refused.
 */
export const planObjectSchema = z.strictObject({
  v: z.literal(1),
  plan_id: z.string().regex(PLAN_ID_RE),
  source: z.string().regex(IDENT_RE),
  venue: z.enum(VENUES as [string, ...string[]]),
  account: z.string().regex(IDENT_RE).optional(),
  symbol: z.string().regex(IDENT_RE),
  side: z.enum(["BUY", "SELL"]),
  type: z.enum(["MARKET", "LIMIT"]).optional(),
  qty: decimalInput,
  price: decimalInput.optional(),
  reduce_only: z.boolean().optional(),
  created_at: epochMs,
  expires_at: epochMs.optional(),
  permit: z.string().min(1).max(4096).optional(),
  meta: z.record(z.string(), z.unknown()).optional(),
});

/** The parsed, not yet converted, plan object. */
export type PlanObject = z.infer<typeof planObjectSchema>;
