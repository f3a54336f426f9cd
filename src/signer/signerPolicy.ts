import { type Decimal, parseDecimal } from "../core/decimal.js";
import type { Intent } from "../ports/signingPlane.js";
import type { PayloadEffect } from "./payloadKind.js";
import type { SignerConfig } from "./signerConfig.js";

/**
 * The signer's own hard limits (signing-plane-v1 §3 `policy:<name>`),
 * configured per intent in the signer's file and independent of the
 * executor's. Limits apply to payloads that place an order
 * ({@link PayloadEffect.placesOrder}); queries are not limited.
 *
 * Names, in the order they are checked: `max_notional`, `symbols`, `rate`.
 * A limit that cannot be evaluated fails closed: with `max_notional` set, an
 * order whose notional the handler cannot tell is denied `policy:max_notional`;
 * with `symbols` set, an order without a symbol is denied `policy:symbols`.
 */
export interface IntentPolicy {
  readonly maxNotional: Decimal | undefined;
  readonly symbols: ReadonlySet<string> | undefined;
  readonly ratePerAccountPerS: number | undefined;
}

/** A policy denial. */
export type PolicyReason = `policy:${"max_notional" | "symbols" | "rate" | "request_id"}`;

/** Builds each configured intent's {@link IntentPolicy} once, at start. */
export function compilePolicies(config: SignerConfig): ReadonlyMap<Intent, IntentPolicy> {
  const out = new Map<Intent, IntentPolicy>();
  for (const [intent, p] of Object.entries(config.policy) as [Intent, SignerConfig["policy"][Intent]][]) {
    if (p === undefined) continue;
    const maxNotional = p.max_notional === undefined ? undefined : parseDecimal(p.max_notional);
    if (p.max_notional !== undefined && maxNotional === undefined) {
      throw new TypeError(`policy.${intent}.max_notional: not a decimal (the config was not validated)`);
    }
    out.set(
      intent,
      Object.freeze({
        maxNotional,
        symbols: p.symbols === undefined ? undefined : new Set(p.symbols),
        ratePerAccountPerS: p.rate_per_account_per_s,
      }),
    );
  }
  return out;
}

/**
 * The stateless limits (`max_notional`, then `symbols`) for one bound
 * payload; `undefined` when they pass. The `rate` limit is stateful: see
 * {@link RateLimiter}.
 */
export function checkStatelessPolicy(
  policy: IntentPolicy | undefined,
  effect: PayloadEffect,
): PolicyReason | undefined {
  if (policy === undefined || !effect.placesOrder) return undefined;
  if (policy.maxNotional !== undefined) {
    if (effect.notional === undefined || effect.notional < 0n || effect.notional > policy.maxNotional) {
      return "policy:max_notional";
    }
  }
  if (policy.symbols !== undefined) {
    if (effect.symbol === undefined || !policy.symbols.has(effect.symbol)) return "policy:symbols";
  }
  return undefined;
}

/** The rate limit one request is subject to: its counter key and the most grants per second. */
export interface RateClaim {
  readonly key: string;
  readonly limit: number;
}

/** The rate claim of an order-placing request, or `undefined` when no rate limit applies. */
export function rateClaim(
  policy: IntentPolicy | undefined,
  account: string,
  intent: Intent,
  effect: PayloadEffect,
): RateClaim | undefined {
  if (policy?.ratePerAccountPerS === undefined || !effect.placesOrder) return undefined;
  return { key: `${intent}\n${account}`, limit: policy.ratePerAccountPerS };
}

const WINDOW_MS = 1000;
const SWEEP_EVERY = 1024;

/**
 * Per account and intent sliding one-second window (`rate_per_account_per_s`).
 * {@link RateLimiter.tryRecord} checks and records in one synchronous step,
 * so two concurrent requests can never both take the last slot. The plane
 * calls it after every other check passed and BEFORE it reads the key or
 * signs: a request denied by any check (including the rate itself) is not
 * counted; a request that passed counts even when reading the key or signing
 * then fails (`signer_unavailable`), so failures cannot be used to probe past
 * the limit. In memory only: a restart starts every window empty.
 */
export class RateLimiter {
  readonly #grants = new Map<string, number[]>();
  #calls = 0;

  /** Records one grant at `nowMs` and returns true, or returns false (nothing recorded) when the window is full. */
  tryRecord(claim: RateClaim, nowMs: number): boolean {
    if (++this.#calls % SWEEP_EVERY === 0) this.#sweep(nowMs);
    let times = this.#grants.get(claim.key);
    if (times === undefined) {
      times = [];
      this.#grants.set(claim.key, times);
    }
    const from = nowMs - WINDOW_MS;
    let drop = 0;
    while (drop < times.length && (times[drop] as number) <= from) drop++;
    if (drop > 0) times.splice(0, drop);
    if (times.length >= claim.limit) return false;
    times.push(nowMs);
    return true;
  }

  /** Forgets windows with no grant in the last second (keeps memory bounded by active accounts). */
  #sweep(nowMs: number): void {
    for (const [key, times] of this.#grants) {
      const last = times[times.length - 1];
      if (last === undefined || last <= nowMs - WINDOW_MS) this.#grants.delete(key);
    }
  }
}
