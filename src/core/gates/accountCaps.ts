import { dailyKey, utcDay } from "../dailyNotional.js";
import { type Decimal, formatDecimal, mulDecimalUp, storedDecimal } from "../decimal.js";
import type { Facts } from "../facts.js";
import type { OrderPlan } from "../plan.js";
import type { Limits } from "../policy.js";
import { type Reason, reason } from "../reasons.js";
import type { GateFindings } from "./gate.js";

/** The limit configured for `key` (an account, a symbol): its own entry, else the `*` default, else none. */
export function capFor<T>(caps: ReadonlyMap<string, T>, key: string): T | undefined {
  return caps.get(key) ?? caps.get("*");
}

/** What an account cap decided: findings to merge, and the denial when it refuses the plan. */
export interface AccountCapOutcome {
  readonly findings: GateFindings;
  readonly denial?: Reason;
}

/**
 * `limits.max_daily_notional`: the account's notional placed since 00:00 UTC
 * (`now`'s day) plus this plan's (qty × `price`, rounded up) must stay within
 * the cap. A reduce-only plan is counted but never refused. The stored total
 * is re-checked at commit whatever the verdict, so executors never pass the
 * cap together and no plan is refused for an order that was never placed.
 * Undefined when no cap applies or no price is known (a reduce-only plan
 * without a price is not counted).
 */
export function dailyNotionalCap(opts: {
  readonly plan: OrderPlan;
  readonly account: string;
  readonly limits: Limits;
  readonly facts: Facts;
  readonly price: Decimal | undefined;
  readonly now: number;
}): AccountCapOutcome | undefined {
  const { plan, account, price } = opts;
  const cap = capFor(opts.limits.maxDailyNotional, account);
  if (cap === undefined || price === undefined) return undefined;
  const day = utcDay(opts.now);
  const stored = opts.facts.dailyNotional.get(dailyKey({ account, day })) ?? "0";
  const before = storedDecimal(stored, () => `daily notional of ${account} on ${day}`);
  const after = (before + mulDecimalUp(plan.qty, price)) as Decimal;
  // Both verdicts are re-checked: the total read may hold an earlier order of this batch (the
  // overlay), and a refusal counted against an order that then conflicted would be a wrong one.
  const checks = { dailyNotional: { account, day, expected: stored } };
  if (!plan.reduce_only && after > cap)
    return { findings: { checks }, denial: reason("limit", "daily_notional") };
  return { findings: { found: { dailyNotional: { account, day, value: formatDecimal(after) } }, checks } };
}

/**
 * `limits.max_open_orders`: a new order is refused while the account already
 * has the cap's number of orders open (working, being sent, open UNKNOWN).
 * Reduce-only plans are exempt. Both verdicts are re-checked at commit
 * against the live count. Undefined when no cap applies.
 */
export function openOrdersCap(opts: {
  readonly plan: OrderPlan;
  readonly account: string;
  readonly limits: Limits;
  readonly facts: Facts;
}): AccountCapOutcome | undefined {
  const { account } = opts;
  const limit = capFor(opts.limits.maxOpenOrders, account);
  if (limit === undefined || opts.plan.reduce_only) return undefined;
  const count = opts.facts.openOrders.get(account) ?? 0;
  if (!Number.isSafeInteger(count) || count < 0)
    throw new Error(`open-order count of ${account} is ${String(count).slice(0, 20)}, not a count`);
  const allowed = count + 1 <= limit;
  const findings: GateFindings = { checks: { openOrders: { account, limit, allowed } } };
  return allowed ? { findings } : { findings, denial: reason("limit", "open_orders") };
}
