import type { Decimal } from "../../core/decimal.js";
import type { CompiledWindow } from "./intentPolicy.js";
import { type RateClaim, RateLimiter } from "./rateLimiter.js";
import { RollingWindow } from "./rollingWindow.js";

/** The stateful limits one authorized request is subject to (see {@link PolicyLedger.tryClaim}). */
export interface LedgerClaim {
  /** `<intent>\n<account>`: whose counters. */
  readonly key: string;
  /** Orders per second (`rate_per_account_per_s`), for an order. */
  readonly rate?: number | undefined;
  /** Cancels per second (`cancel_rate_per_account_per_s`), for a cancel-capable request. */
  readonly cancelRate?: number | undefined;
  /** Keep-alives per second (`keepalive_rate_per_account_per_s`), for a countdown or heartbeat. */
  readonly keepaliveRate?: number | undefined;
  /** The rolling windows an order counts in, with its notional. */
  readonly windows: readonly CompiledWindow[];
  readonly notional?: Decimal | undefined;
}

/** A stateful policy denial, in the order they are checked. */
export type LedgerReason =
  | "policy:rate"
  | "policy:cancel_rate"
  | "policy:keepalive_rate"
  | "policy:window_notional"
  | "policy:window_orders";

/**
 * The signer's stateful limits (signing-plane-v1 §3a): orders, cancels and
 * keep-alives per second (each its own counter, so cancels cannot starve the
 * dead-man switch's keep-alives, nor keep-alives use up the cancels), and orders and notional per account over rolling windows.
 * {@link tryClaim} checks every limit of a claim and, only when all pass,
 * records it in all, in one synchronous step: two concurrent requests can
 * never both take the last slot, and a denied request is counted nowhere.
 * The plane claims after every other check passed and BEFORE it reads the
 * key or signs, so a request that then fails (`signer_unavailable`) still
 * counts and failures cannot be used to probe past a limit.
 *
 * The one-second rates live in memory only. The windows are rebuilt at start
 * from the audit log ({@link restore}, fed by `openAuditLog`), whose granted
 * order lines carry the signer's notional: the log is the durable record.
 */
export class PolicyLedger {
  readonly #orders = new RateLimiter();
  readonly #cancels = new RateLimiter();
  readonly #keepalives = new RateLimiter();
  readonly #windows = new Map<string, RollingWindow>();

  /** Checks and records `claim` at `nowMs`; the first limit it would break, or `undefined` (recorded). */
  tryClaim(claim: LedgerClaim, nowMs: number): LedgerReason | undefined {
    const rate: RateClaim | undefined =
      claim.rate === undefined ? undefined : { key: claim.key, limit: claim.rate };
    const cancel: RateClaim | undefined =
      claim.cancelRate === undefined ? undefined : { key: claim.key, limit: claim.cancelRate };
    if (rate !== undefined && !this.#orders.check(rate, nowMs)) return "policy:rate";
    const keepalive: RateClaim | undefined =
      claim.keepaliveRate === undefined ? undefined : { key: claim.key, limit: claim.keepaliveRate };
    if (cancel !== undefined && !this.#cancels.check(cancel, nowMs)) return "policy:cancel_rate";
    if (keepalive !== undefined && !this.#keepalives.check(keepalive, nowMs)) return "policy:keepalive_rate";
    for (const w of claim.windows) {
      if (w.maxNotional === undefined) continue;
      const sum = this.#window(claim.key, w).sum(nowMs);
      if (claim.notional === undefined || sum.notional + claim.notional > w.maxNotional) {
        return "policy:window_notional";
      }
    }
    for (const w of claim.windows) {
      if (w.maxOrders !== undefined && this.#window(claim.key, w).sum(nowMs).orders + 1 > w.maxOrders) {
        return "policy:window_orders";
      }
    }
    if (rate !== undefined) this.#orders.record(rate, nowMs);
    if (cancel !== undefined) this.#cancels.record(cancel, nowMs);
    if (keepalive !== undefined) this.#keepalives.record(keepalive, nowMs);
    for (const w of claim.windows) this.#window(claim.key, w).add(nowMs, claim.notional);
    return undefined;
  }

  /** Counts an order granted at `atMs` (a line of the audit log, at start) in `windows`. */
  restore(
    key: string,
    windows: readonly CompiledWindow[],
    atMs: number,
    notional: Decimal | undefined,
  ): void {
    for (const w of windows) this.#window(key, w).add(atMs, notional);
  }

  #window(key: string, w: CompiledWindow): RollingWindow {
    const k = `${key}\n${w.ms}`;
    let win = this.#windows.get(k);
    if (win === undefined) {
      win = new RollingWindow(w.ms);
      this.#windows.set(k, win);
    }
    return win;
  }
}
