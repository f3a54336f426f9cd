import { BoundedMap } from "./boundedMap.js";

/** One cooldown held: no alert with `dedup_key` before `until` (the engine's clock, ms). */
export interface CooldownState {
  readonly dedup_key: string;
  readonly until: number;
}

/**
 * Cooldowns per dedup_key (wire §1a): after an alert, none with the same key
 * until its kind's cooldown has passed on the engine's clock. Each key holds
 * the end of its cooldown, so a later change of the settings leaves running
 * cooldowns as they were. Expired keys are pruned on each tick; past the cap
 * the oldest go first (then a repeat within the cooldown is possible).
 */
export class Cooldowns {
  readonly #until: BoundedMap<string, number>;

  /** `cap`: most keys held; `state`: from {@link Cooldowns.state}, oldest first. */
  constructor(cap: number, state: readonly CooldownState[] = []) {
    this.#until = new BoundedMap(cap);
    for (const s of state) this.#until.put(s.dedup_key, s.until);
  }

  /**
   * When `dedup_key` is not cooling down at `now`: records its new cooldown
   * (ending at `now + cooldownMs`) and returns true. Else false.
   */
  claim(dedupKey: string, now: number, cooldownMs: number): boolean {
    const until = this.#until.get(dedupKey);
    if (until !== undefined && now < until) return false;
    this.#until.put(dedupKey, now + cooldownMs);
    return true;
  }

  /** Forgets the cooldowns that ended by `now`. */
  prune(now: number): void {
    for (const [key, until] of this.#until.entries()) if (until <= now) this.#until.delete(key);
  }

  /** Keys dropped for the cap. */
  get dropped(): number {
    return this.#until.dropped;
  }

  /** The cooldowns held, oldest first (JSON-serialisable). */
  state(): CooldownState[] {
    return [...this.#until.entries()].map(([dedup_key, until]) => ({ dedup_key, until }));
  }
}
