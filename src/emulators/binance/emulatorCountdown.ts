/**
 * Binance's auto-cancel ("dead man's switch", `POST /fapi/v1/countdownCancelAll`):
 * one timer per account and symbol, on the real clock. Arming again
 * replaces the timer (the heartbeat); a countdown of 0 disarms it; when a
 * timer runs out, `fire` is called once (the emulator cancels every open
 * order of that account on that symbol).
 */
export class EmulatorCountdown {
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #fire: (account: string, symbol: string) => void;

  constructor(fire: (account: string, symbol: string) => void) {
    this.#fire = fire;
  }

  /** Arms (or re-arms) the timer of `account` on `symbol` for `ms`; 0 disarms it. */
  set(account: string, symbol: string, ms: number): void {
    const key = JSON.stringify([account, symbol]);
    const old = this.#timers.get(key);
    if (old !== undefined) clearTimeout(old);
    this.#timers.delete(key);
    if (ms === 0) return;
    const timer = setTimeout(() => {
      this.#timers.delete(key);
      this.#fire(account, symbol);
    }, ms);
    timer.unref();
    this.#timers.set(key, timer);
  }

  /** Whether a timer is armed for `account` on `symbol`. */
  armed(account: string, symbol: string): boolean {
    return this.#timers.has(JSON.stringify([account, symbol]));
  }

  /** Disarms every timer (the emulator is closing). */
  clear(): void {
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
  }
}
