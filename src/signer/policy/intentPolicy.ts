import { type Decimal, maxDecimal, parseDecimal } from "../../core/decimal.js";
import type { Intent } from "../../ports/signingPlane.js";
import type { PayloadEffect } from "../payloadKind.js";
import { mulDecimalCeil } from "../payloads/targetFields.js";
import type { SignerConfig } from "../signerConfig.js";
import { windowMs } from "../signerConfigSchema.js";
import type { LedgerClaim } from "./policyLedger.js";
import type { ReferencePriceSource } from "./referencePrices.js";

/**
 * The signer's own hard limits (signing-plane-v1 §3 `policy:<name>`, §3a),
 * configured per intent in the signer's file and independent of the
 * executor's. They use nothing the caller asserts but the payload itself:
 * the notional is the payload's quantity × the larger of its own price and
 * the signer's reference price; the time is the signer's clock.
 *
 * Names, in the order they are checked: `request_id` (see `authorize.ts`),
 * `stale_timestamp`, `recv_window` (every payload that carries a time),
 * `countdown` (a dead-man countdown), then for orders
 * `no_reference_price`, `max_notional`, `symbols`, then the stateful ones
 * (`policyLedger.ts`): `rate`, `cancel_rate`, `keepalive_rate`,
 * `window_notional`, `window_orders`. Cancels are never held to the
 * notional, symbol or order limits: only to the cancel rate. A limit that cannot be evaluated
 * fails closed: with a notional limit, an order with no fresh reference is
 * `no_reference_price`; with `symbols`, an order without a symbol is
 * `symbols`.
 */
export interface IntentPolicy {
  readonly maxNotional: Decimal | undefined;
  readonly symbols: ReadonlySet<string> | undefined;
  readonly ratePerAccountPerS: number | undefined;
  readonly cancelRatePerAccountPerS: number | undefined;
  /** Keep-alives (dead-man countdowns, heartbeats) per account per second: always limited. */
  readonly keepaliveRatePerAccountPerS: number;
  /** The longest dead-man countdown signed; 0 (disarm) is never signed. */
  readonly maxCountdownMs: number;
  readonly windows: readonly CompiledWindow[];
  /** True when a notional limit applies (`max_notional`, or a window's `max_notional`). */
  readonly needsNotional: boolean;
}

/** One rolling window, compiled. */
export interface CompiledWindow {
  readonly label: string;
  readonly ms: number;
  readonly maxNotional: Decimal | undefined;
  readonly maxOrders: number | undefined;
}

/**
 * Every `policy:<name>` the signer denies with, in the order they are
 * checked (the last five are the ledger's, `policyLedger.ts`). The docs list
 * each (`signerDocs.test.ts`).
 */
export const POLICY_NAMES = [
  "request_id",
  "stale_timestamp",
  "recv_window",
  "countdown",
  "no_reference_price",
  "max_notional",
  "symbols",
  "rate",
  "cancel_rate",
  "keepalive_rate",
  "window_notional",
  "window_orders",
] as const;

/** A stateless policy denial. */
export type PolicyReason = `policy:${(typeof POLICY_NAMES)[number] &
  (
    | "request_id"
    | "stale_timestamp"
    | "recv_window"
    | "countdown"
    | "no_reference_price"
    | "max_notional"
    | "symbols"
  )}`;

/** What the stateless checks read besides the payload: the signer's clock, its limits, its prices. */
export interface PolicyFacts {
  readonly nowMs: number;
  readonly maxClockSkewMs: number;
  readonly maxRecvWindowMs: number;
  readonly prices: ReferencePriceSource;
}

/** What the stateless checks found: the notional the signer counts, and the reference it used. */
export interface PolicyVerdict {
  readonly ok: true;
  readonly notional: Decimal | undefined;
  readonly reference: Decimal | undefined;
}

/** Keep-alives per account and intent per second when the config sets none. */
export const DEFAULT_KEEPALIVE_RATE_PER_S = 10;
/** The longest dead-man countdown signed when the config sets none (5 minutes). */
export const DEFAULT_MAX_COUNTDOWN_MS = 300_000;

const NONE: IntentPolicy = Object.freeze({
  maxNotional: undefined,
  symbols: undefined,
  ratePerAccountPerS: undefined,
  cancelRatePerAccountPerS: undefined,
  keepaliveRatePerAccountPerS: DEFAULT_KEEPALIVE_RATE_PER_S,
  maxCountdownMs: DEFAULT_MAX_COUNTDOWN_MS,
  windows: [],
  needsNotional: false,
});

function decimalOf(text: string | undefined, where: string): Decimal | undefined {
  if (text === undefined) return undefined;
  const value = parseDecimal(text);
  if (value === undefined) throw new TypeError(`${where}: not a decimal (the config was not validated)`);
  return value;
}

/** Builds each configured intent's {@link IntentPolicy} once, at start. */
export function compilePolicies(config: SignerConfig): ReadonlyMap<Intent, IntentPolicy> {
  const out = new Map<Intent, IntentPolicy>();
  for (const [intent, p] of Object.entries(config.policy) as [Intent, SignerConfig["policy"][Intent]][]) {
    if (p === undefined) continue;
    const maxNotional = decimalOf(p.max_notional, `policy.${intent}.max_notional`);
    const windows = (p.windows ?? []).map(
      (w, i): CompiledWindow =>
        Object.freeze({
          label: w.window,
          ms: windowMs(w.window),
          maxNotional: decimalOf(w.max_notional, `policy.${intent}.windows.${i}.max_notional`),
          maxOrders: w.max_orders,
        }),
    );
    out.set(
      intent,
      Object.freeze({
        maxNotional,
        symbols: p.symbols === undefined ? undefined : new Set(p.symbols),
        ratePerAccountPerS: p.rate_per_account_per_s,
        cancelRatePerAccountPerS: p.cancel_rate_per_account_per_s,
        keepaliveRatePerAccountPerS: p.keepalive_rate_per_account_per_s ?? DEFAULT_KEEPALIVE_RATE_PER_S,
        maxCountdownMs: p.max_countdown_ms ?? DEFAULT_MAX_COUNTDOWN_MS,
        windows,
        needsNotional: maxNotional !== undefined || windows.some((w) => w.maxNotional !== undefined),
      }),
    );
  }
  return out;
}

/** The policy of `intent` (one without limits when none is configured). */
export function policyOf(policies: ReadonlyMap<Intent, IntentPolicy>, intent: Intent): IntentPolicy {
  return policies.get(intent) ?? NONE;
}

/**
 * The stateless limits for one bound payload, in order: the payload's time
 * against the signer's clock, then for orders the signer's notional and the
 * symbol list. Returns the first denial, or the notional and reference used.
 */
export function checkStatelessPolicy(
  policy: IntentPolicy,
  effect: PayloadEffect,
  facts: PolicyFacts,
): PolicyVerdict | { readonly ok: false; readonly reason: PolicyReason } {
  const deny = (reason: PolicyReason) => ({ ok: false as const, reason });
  const ts = effect.timestamp;
  if (ts !== undefined) {
    // The payload's time covers [ms, ms + resolution): its distance to the signer's clock.
    const ahead = ts.ms - facts.nowMs;
    const behind = facts.nowMs - (ts.ms + ts.resolutionMs - 1);
    if (ahead > facts.maxClockSkewMs || behind > facts.maxClockSkewMs) return deny("policy:stale_timestamp");
  }
  if (effect.recvWindowMs !== undefined && effect.recvWindowMs > facts.maxRecvWindowMs) {
    return deny("policy:recv_window");
  }
  // A countdown that disarms the dead-man switch (0) or pushes it past the signer's bound is not a keep-alive.
  const countdown = effect.countdownMs;
  if (countdown !== undefined && (countdown <= 0 || countdown > policy.maxCountdownMs)) {
    return deny("policy:countdown");
  }
  const order = effect.order;
  if (order === undefined) return { ok: true, notional: undefined, reference: undefined };

  const own =
    effect.symbol === undefined
      ? undefined
      : facts.prices.reference(effect.venue, effect.symbol, facts.nowMs);
  const reference = own ?? order.unitCap;
  let notional: Decimal | undefined;
  if (reference !== undefined) {
    notional = mulDecimalCeil(
      order.qty,
      order.price === undefined ? reference : maxDecimal(order.price, reference),
    );
  }
  if (policy.needsNotional && notional === undefined) return deny("policy:no_reference_price");
  if (policy.maxNotional !== undefined && notional !== undefined && notional > policy.maxNotional) {
    return deny("policy:max_notional");
  }
  if (policy.symbols !== undefined && (effect.symbol === undefined || !policy.symbols.has(effect.symbol))) {
    return deny("policy:symbols");
  }
  return { ok: true, notional, reference };
}

/**
 * The stateful limits one authorized request claims: an order its rate and
 * windows; a request counted as a cancel (a cancel, a cancel-all, a
 * replayable read signed with the trade key) the cancel rate; a keep-alive
 * (dead-man countdown, heartbeat) the keep-alive rate. `undefined` when none
 * applies.
 */
export function ledgerClaim(
  policy: IntentPolicy,
  o: {
    readonly intent: Intent;
    readonly account: string;
    readonly effect: PayloadEffect;
    /** Counts against the cancel rate: a cancel, a cancel-all, or a cancel-capable read. */
    readonly cancelCapable: boolean;
    /** Counts against the keep-alive rate. */
    readonly keepAlive?: boolean | undefined;
    readonly notional: Decimal | undefined;
  },
): LedgerClaim | undefined {
  const isOrder = o.effect.order !== undefined;
  const rate = isOrder ? policy.ratePerAccountPerS : undefined;
  const cancelRate = o.cancelCapable ? policy.cancelRatePerAccountPerS : undefined;
  const keepaliveRate = o.keepAlive === true ? policy.keepaliveRatePerAccountPerS : undefined;
  const windows = isOrder ? policy.windows : [];
  if (rate === undefined && cancelRate === undefined && keepaliveRate === undefined && windows.length === 0)
    return undefined;
  return { key: `${o.intent}\n${o.account}`, rate, cancelRate, keepaliveRate, windows, notional: o.notional };
}
