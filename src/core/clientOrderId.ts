import { createHash } from "node:crypto";

const PREFIX = "ig-";
/** Hashed ids start with `ig/`: `/` is in Binance's alphabet but never in a plan_id, so the two forms cannot collide. */
const HASHED_PREFIX = "ig/";
/** Binance's limit on client order ids; the strictest of the venues. */
const MAX_LEN = 36;

/**
 * The client order id for a plan: derived from `plan_id` alone, so a retry of
 * the same plan can never place a second order. plan_id's alphabet is a subset
 * of Binance's (`^[.A-Z:/a-z0-9_-]{1,36}$`); a plan_id too long to fit is
 * replaced by a hash of it under a prefix no plan_id can produce.
 */
export function clientOrderId(planId: string): string {
  if (PREFIX.length + planId.length <= MAX_LEN) return PREFIX + planId;
  const digest = createHash("sha256").update(planId, "utf8").digest("base64url");
  return HASHED_PREFIX + digest.slice(0, MAX_LEN - HASHED_PREFIX.length);
}
