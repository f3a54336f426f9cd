/** One rate limit a request is subject to: its counter key and the most grants per second. */
export interface RateClaim {
  readonly key: string;
  readonly limit: number;
}

const WINDOW_MS = 1000;
const SWEEP_EVERY = 1024;

/**
 * Sliding one-second windows by key (`rate_per_account_per_s`,
 * `cancel_rate_per_account_per_s`). {@link check} and {@link record} are
 * split so that several limits can be checked first and all recorded
 * together (see `policyLedger.ts`); both are synchronous, so nothing runs
 * between them. In memory only: a restart starts every one-second window
 * empty.
 */
export class RateLimiter {
  readonly #grants = new Map<string, number[]>();
  #calls = 0;

  /** True when `claim` has room at `nowMs`. */
  check(claim: RateClaim, nowMs: number): boolean {
    const times = this.#grants.get(claim.key);
    if (times === undefined) return claim.limit > 0;
    const from = nowMs - WINDOW_MS;
    let drop = 0;
    while (drop < times.length && (times[drop] as number) <= from) drop++;
    if (drop > 0) times.splice(0, drop);
    return times.length < claim.limit;
  }

  /** Records one grant at `nowMs` (after {@link check} said there is room). */
  record(claim: RateClaim, nowMs: number): void {
    if (++this.#calls % SWEEP_EVERY === 0) this.#sweep(nowMs);
    let times = this.#grants.get(claim.key);
    if (times === undefined) {
      times = [];
      this.#grants.set(claim.key, times);
    }
    times.push(nowMs);
  }

  /** {@link check} then {@link record}: true when recorded. */
  tryRecord(claim: RateClaim, nowMs: number): boolean {
    if (!this.check(claim, nowMs)) return false;
    this.record(claim, nowMs);
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
