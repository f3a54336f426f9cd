import { formatDecimal } from "./decimal.js";
import { DEFAULT_ACCOUNT, type OrderPlan } from "./plan.js";

/**
 * What makes two plans the same order for `limits.duplicate_window_ms`
 * (wire-v1 §6 `limit:duplicate_order`): the same source, account, symbol,
 * side, qty, price and reduce_only, whatever their plan_ids (producers that
 * resend an order under a new id). The price is a LIMIT plan's own; a MARKET
 * plan's is `""` whatever it carries (nothing reads a MARKET plan's price, so
 * a resend stamped with the price its producer saw is the same order).
 * LIMIT and MARKET keys never meet: a LIMIT plan always has a price.
 * Decimals are canonical, so `"1.0"` and `"1"` are the same qty. The key is
 * JSON, so no field can run into another.
 * @example duplicateKeyOf(plan) // '["bot","default","BTCUSDT","BUY","1","",false]'
 */
export function duplicateKeyOf(plan: OrderPlan): string {
  let key = KEYS.get(plan);
  if (key === undefined) {
    if (KEYS.size >= MAX_KEYS) KEYS.clear();
    key = contentKey(plan);
    KEYS.set(plan, key);
  }
  return key;
}

/**
 * Each plan's key, computed once (a batch asks for it when reading facts and
 * again at gate 9). A plain Map emptied whole when full, not a WeakMap: a
 * WeakMap entry costs the garbage collector more than the key costs to build.
 * The Map holds its plans (each with up to 4 KB of `meta`) until it is
 * emptied, so it is bounded to a few default batches, not to the largest
 * `batch_size`: a larger batch only builds some keys twice.
 */
const KEYS = new Map<OrderPlan, string>();
const MAX_KEYS = 2_048;

function contentKey(plan: OrderPlan): string {
  return JSON.stringify([
    plan.source,
    plan.account ?? DEFAULT_ACCOUNT,
    plan.symbol,
    plan.side,
    formatDecimal(plan.qty),
    plan.type === "LIMIT" && plan.price !== undefined ? formatDecimal(plan.price) : "",
    plan.reduce_only,
  ]);
}
