import { compareProduct, DECIMAL_ONE, type Decimal, maxDecimal } from "../decimal.js";
import type { DecisionChecks } from "../decision.js";
import { duplicateKeyOf } from "../duplicateKey.js";
import { type RateWindow, rateKey } from "../facts.js";
import { DEFAULT_ACCOUNT, type OrderPlan } from "../plan.js";
import type { Policy } from "../policy.js";
import { type Reason, reason } from "../reasons.js";
import { lastReadReference, marketOrderPrice, referenceFor } from "../referencePrice.js";
import { type AccountCapOutcome, capFor, dailyNotionalCap, openOrdersCap } from "./accountCaps.js";
import { grossNotionalCap, positionCap } from "./exposureCaps.js";
import type { Gate, GateFindings, GateOutcome, Mutable } from "./gate.js";
import { planOf } from "./gate.js";

/**
 * Gate 9: `limit:max_qty`, `limit:stale_price` (a live venue's price older
 * than `max_price_age_ms`) or `limit:no_reference_price` (no price at all)
 * when a price is needed, `limit:max_notional`, `limit:price_band`,
 * `limit:duplicate_order` (the same content executed within
 * `duplicate_window_ms`), `limit:daily_notional`, `limit:open_orders`
 * (account caps, `accountCaps.ts`), `limit:max_position`,
 * `limit:max_gross_notional` (exposure caps, `exposureCaps.ts`), `limit:rate`, `limit:kelly_fraction`, in that order. A price is needed
 * for `max_notional`, a price band, a MARKET plan filled on paper, and a
 * live Polymarket MARKET plan (sent at the book's best price); the price
 * used is recorded in the result (`reference`).
 * Every plan that reaches this gate counts against its source's rate window;
 * a cancel is checked against the rate alone.
 */
export const limitsGate: Gate = {
  name: "limits",
  run({ policy, facts, now }, ev) {
    const plan = planOf(ev);
    const limits = policy.limits;
    // What this gate finds and reads: one object each, filled in as it goes and handed back
    // with the verdict (the runner merges them; empty ones add nothing).
    const found: Found = {};
    const checks: Mutable<DecisionChecks> = {};
    let rateAllowed = true;
    if (limits.ratePerSourcePerS !== undefined) {
      const source = plan.source;
      const second = Math.floor(now / 1000);
      const window: RateWindow = { source, window: second };
      const count = facts.rateCounts.get(rateKey(window)) ?? 0;
      // A stored counter that is not a count is corrupt shared state: this entry fails alone
      // (internal_error, nothing written), never decided on a guess.
      if (!Number.isSafeInteger(count) || count < 0)
        throw new Error(`rate counter of ${source} holds ${String(count).slice(0, 20)}, not a count`);
      rateAllowed = count + 1 <= limits.ratePerSourcePerS;
      checks.rate = { source, window: second, limit: limits.ratePerSourcePerS, allowed: rateAllowed };
      found.countRate = window;
    }
    // Cancels count against the rate, and no other limit applies to them.
    if (plan.action !== "place")
      return rateAllowed ? { ok: true, found, checks } : denied(found, checks, reason("limit", "rate"));
    const maxQty = capFor(limits.maxQty, plan.symbol);
    if (maxQty !== undefined && plan.qty > maxQty) return denied(found, checks, reason("limit", "max_qty"));
    const reference = referenceFor(plan, policy, now);
    const band = plan.type === "LIMIT" ? capFor(limits.priceBandPct, plan.symbol) : undefined;
    // A live Polymarket MARKET order is a FOK at the book's best price on its side (none when it cannot go live now).
    const livePolymarketMarket =
      plan.venue === "polymarket" && plan.type === "MARKET" && policy.live && reference.kind !== "not_ready";
    // A LIMIT plan's notional is measured at its own price when no price is configured.
    const account = plan.account ?? DEFAULT_ACCOUNT;
    // A reduce-only plan is never refused by the daily or gross cap, so it never needs a price for them.
    const notionalCapped =
      limits.maxNotional !== undefined ||
      (!plan.reduce_only &&
        (capFor(limits.maxDailyNotional, account) !== undefined ||
          capFor(limits.maxGrossNotional, account) !== undefined));
    const needsPrice =
      (notionalCapped && (plan.type === "MARKET" || reference.kind === "stale")) ||
      band !== undefined ||
      fillsAtReference(plan, policy) ||
      livePolymarketMarket;
    if (reference.kind === "stale" && needsPrice)
      return denied(found, checks, reason("limit", "stale_price"));
    if (reference.kind === "none" && needsPrice)
      return denied(found, checks, reason("limit", "no_reference_price"));
    if (reference.kind === "price") found.reference = reference;
    const refPrice = reference.kind === "price" ? reference.price : undefined;
    // A live Polymarket MARKET order is sent as a FOK at the book's best price on its side: it is
    // measured as the LIMIT order it is (the larger of that price and the reference), never at the
    // midpoint alone; an empty side has no price to send it at, so no order.
    let sentAt: Decimal | undefined;
    if (livePolymarketMarket) {
      sentAt = marketOrderPrice(plan, reference);
      if (sentAt === undefined) return denied(found, checks, reason("limit", "no_reference_price"));
    }
    const price = pricingPrice(plan, refPrice, sentAt);
    // The daily cap never refuses a reduce-only plan but always counts it: with no fresh price, at
    // the last one read however old (the result records it), so a stale feed leaves no hole in the total.
    let dailyPrice = price;
    if (dailyPrice === undefined && plan.reduce_only && reference.kind === "stale") {
      const last = lastReadReference({ venue: plan.venue, symbol: plan.symbol, mode: "live" }, policy);
      if (last?.kind === "price" && capFor(limits.maxDailyNotional, account) !== undefined) {
        found.reference = last;
        dailyPrice = last.price;
      }
    }
    if (
      limits.maxNotional !== undefined &&
      price !== undefined &&
      compareProduct(plan.qty, price, limits.maxNotional) > 0
    )
      return denied(found, checks, reason("limit", "max_notional"));
    if (band !== undefined && refPrice !== undefined && outsideBand(plan.price as Decimal, refPrice, band))
      return denied(found, checks, reason("limit", "price_band"));
    if (limits.duplicateWindowMs !== undefined) {
      // The mark of a plan with the same content (re-checked at commit). A ledger returns a mark only
      // while it lasts, by the ledger's clock (Redis: the key's expiry), so any mark denies: the time it
      // holds was read by another executor's clock, which this one's must not be compared with.
      const key = duplicateKeyOf(plan);
      const stored = facts.duplicates.get(key);
      checks.duplicate = { key, expected: stored ?? null };
      found.duplicateKey = key;
      if (stored !== undefined) {
        if (!Number.isSafeInteger(Number(stored)))
          throw new Error(`duplicate mark holds ${stored.slice(0, 20)}, not a time`);
        return denied(found, checks, reason("limit", "duplicate_order"));
      }
    }
    // The account and exposure caps, in order; the first to refuse stops the gate, carrying its
    // own findings and those of the caps before it.
    const refused =
      capped(found, checks, dailyNotionalCap({ plan, account, limits, facts, price: dailyPrice, now })) ??
      capped(found, checks, openOrdersCap({ plan, account, limits, facts })) ??
      capped(found, checks, positionCap({ plan, account, policy, facts })) ??
      capped(found, checks, grossNotionalCap({ plan, account, policy, facts, price, now }));
    if (refused !== undefined) return denied(found, checks, refused);
    if (!rateAllowed) return denied(found, checks, reason("limit", "rate"));
    const kelly = plan.meta?.kelly_fraction;
    if (
      limits.maxKellyFraction !== undefined &&
      typeof kelly === "number" &&
      kelly > limits.maxKellyFraction
    ) {
      return denied(found, checks, reason("limit", "kelly_fraction"));
    }
    return { ok: true, found, checks };
  },
};

type Found = Mutable<NonNullable<GateFindings["found"]>>;

/** A denial carrying what the gate found and read so far. */
function denied(found: Found, checks: DecisionChecks, r: Reason): GateOutcome {
  return { ok: false, reason: r, found, checks };
}

/** Adds a cap's findings to the gate's; its denial, if it refuses. */
function capped(found: Found, checks: Mutable<DecisionChecks>, cap: AccountCapOutcome | undefined) {
  if (cap === undefined) return undefined;
  if (cap.findings.found) Object.assign(found, cap.findings.found);
  if (cap.findings.checks) Object.assign(checks, cap.findings.checks);
  return cap.denial;
}

/**
 * The price a plan's notional is measured at: the venue's reference price for
 * MARKET (never the plan's own claim), the larger of the limit price and the
 * reference price for LIMIT. A MARKET plan sent with a price (`sentAt`: a
 * live Polymarket FOK at the book's best price on its side) is a LIMIT at
 * that price, and measured as one.
 */
export function pricingPrice(
  plan: OrderPlan,
  reference: Decimal | undefined,
  sentAt?: Decimal,
): Decimal | undefined {
  const limit = plan.type === "LIMIT" ? (plan.price as Decimal) : sentAt;
  if (limit === undefined) return reference;
  return reference === undefined ? limit : maxDecimal(limit, reference);
}

/**
 * Whether `price` is further than `pct` percent from `reference`:
 * |price − reference| × 100 > pct × reference, in exact decimals (a price
 * exactly at the band's edge is inside it).
 */
export function outsideBand(price: Decimal, reference: Decimal, pct: Decimal): boolean {
  const diff = price > reference ? price - reference : reference - price;
  return diff * 100n * DECIMAL_ONE > pct * reference;
}

/** A MARKET plan that will fill on the paper venue needs a reference price to fill at. */
function fillsAtReference(plan: OrderPlan, policy: Policy): boolean {
  return plan.type === "MARKET" && (plan.venue === "paper" || !policy.live);
}
