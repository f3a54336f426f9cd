import { absDecimal, addDecimal, DECIMAL_ONE, type Decimal, negDecimal, ZERO } from "../decimal.js";
import type { AccountExposure } from "../exposure.js";
import { type Facts, type PositionMode, positionKey } from "../facts.js";
import type { OrderPlan } from "../plan.js";
import type { Policy } from "../policy.js";
import { type Reason, reason } from "../reasons.js";
import { bookPrice } from "../referencePrice.js";
import type { AccountCapOutcome } from "./accountCaps.js";
import { capFor } from "./accountCaps.js";
import type { GateFindings } from "./gate.js";
import { planMode } from "./venueRoute.js";

/** The account's exposure as read for this batch; throws when it was not read (never decided on a guess). */
function exposureOf(facts: Facts, account: string): AccountExposure {
  const x = facts.exposure.get(account);
  if (x === undefined) throw new Error(`exposure of ${account} was not read`);
  return x;
}

/** The check every exposure-cap verdict carries: the batch's snapshot, and what of the batch came before. */
function exposureCheck(x: AccountExposure): GateFindings {
  return {
    checks: {
      exposure: { account: x.account, snapshot: x.snapshot, version: x.version, touched: x.touched },
    },
  };
}

/**
 * `limits.max_position`: a BUY may not take the account's position in the
 * plan's book (venue, mode) above the cap, counting its BUY orders that may
 * still fill; a SELL may not take it below −cap, counting its SELL orders.
 * A plan that moves the position toward zero, and not past the cap on the
 * other side, is never refused by it, nor is a reduce-only plan. Both
 * verdicts are re-checked at commit against the ledger (`checks.exposure`).
 * Undefined when no cap applies.
 */
export function positionCap(opts: {
  readonly plan: OrderPlan;
  readonly account: string;
  readonly policy: Policy;
  readonly facts: Facts;
}): AccountCapOutcome | undefined {
  const { plan, account, policy } = opts;
  const cap = capFor(policy.limits.maxPosition, plan.symbol);
  if (cap === undefined || plan.reduce_only) return undefined;
  const x = exposureOf(opts.facts, account);
  const mode = planMode(plan, policy);
  const book = { account, symbol: plan.symbol, venue: plan.venue, mode };
  // long side for a BUY, short side (counted positive) for a SELL
  const key = positionKey(book);
  const held = x.positions.get(key)?.qty ?? ZERO;
  const pending = x.pending.get(key);
  const resting = pending === undefined ? ZERO : plan.side === "BUY" ? pending.buy : pending.sell;
  const after = addDecimal(addDecimal(plan.side === "BUY" ? held : negDecimal(held), plan.qty), resting);
  const findings = exposureCheck(x);
  return after > cap ? { findings, denial: reason("limit", "max_position") } : { findings };
}

/**
 * `limits.max_gross_notional`: the account's gross open notional in the
 * plan's mode — |position| of every book of that mode and what may still
 * fill of every order, each at its book's reference price — plus this
 * plan's notional (`price`) may not pass the cap, in exact decimals. A
 * held symbol without a reference price refuses the plan
 * (`limit:stale_price`, `limit:no_reference_price`): exposure is never
 * counted as zero for want of a price. Reduce-only plans are exempt. Re-checked at commit like
 * {@link positionCap}. Undefined when no cap applies.
 */
export function grossNotionalCap(opts: {
  readonly plan: OrderPlan;
  readonly account: string;
  readonly policy: Policy;
  readonly facts: Facts;
  /** This plan's price (`pricingPrice`); undefined when none is known. */
  readonly price: Decimal | undefined;
  readonly now: number;
}): AccountCapOutcome | undefined {
  const { plan, account, policy, now } = opts;
  const cap = capFor(policy.limits.maxGrossNotional, account);
  if (cap === undefined || plan.reduce_only) return undefined;
  const x = exposureOf(opts.facts, account);
  const findings = exposureCheck(x);
  if (opts.price === undefined) return { findings, denial: reason("limit", "no_reference_price") };
  const mode = planMode(plan, policy);
  // exact products (scale 10^-36), summed, then compared: the total is never rounded down
  let gross = plan.qty * opts.price;
  for (const { ref, qty } of x.positions.values()) {
    if (ref.mode !== mode || qty === ZERO) continue;
    const price = heldPrice(ref.venue, ref.symbol, mode, policy, now);
    if (typeof price === "string") return { findings, denial: price };
    gross += absDecimal(qty) * price;
  }
  // what may still fill, summed per book: one price per book, however many orders rest in it
  for (const { ref, buy, sell } of x.pending.values()) {
    if (ref.mode !== mode) continue;
    const price = heldPrice(ref.venue, ref.symbol, mode, policy, now);
    if (typeof price === "string") return { findings, denial: price };
    gross += (buy + sell) * price;
  }
  return gross > cap * DECIMAL_ONE
    ? { findings, denial: reason("limit", "max_gross_notional") }
    : { findings };
}

/** The reference price of a held symbol, or the denial when it has none. */
function heldPrice(
  venue: OrderPlan["venue"],
  symbol: string,
  mode: PositionMode,
  policy: Policy,
  now: number,
): Decimal | Reason {
  const price = bookPrice({ venue, symbol, mode }, policy, now);
  if (price === "stale") return reason("limit", "stale_price");
  if (price === "none") return reason("limit", "no_reference_price");
  return price;
}
