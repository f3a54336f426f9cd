import type { PlanResult } from "../result.js";
import { type DenyBurstAlert, denyBurstKey } from "./alert.js";
import { BoundedMap } from "./boundedMap.js";
import type { Cooldowns } from "./cooldowns.js";
import { codeOf, eventTime, sourceOf } from "./resultFacts.js";
import type { DenyBurstSettings } from "./settings.js";

/** The results of one (code, source) still inside the window, as a snapshot keeps them. */
export interface DenyBurstState {
  readonly code: string;
  readonly source: string | null;
  /** Event times of the matching results, ascending. */
  readonly times: readonly number[];
}

interface Window {
  readonly code: string;
  readonly source: string | null;
  readonly times: number[];
}

/**
 * The `deny_burst` rule: counts results whose error's base code is watched,
 * per (code, source), in a sliding window on the results' own timestamps.
 * Reaching `threshold` within `window_ms` is a burst: the count for that key
 * restarts, and an alert goes out unless its dedup_key is cooling down. So
 * ten denials make one alert, not ten, and a burst after the cooldown alerts
 * again. A key's window holds fewer than `threshold` times, so memory is
 * bounded by `threshold` × the key cap.
 */
export class DenyBurstRule {
  readonly #settings: DenyBurstSettings;
  readonly #codes: ReadonlySet<string>;
  readonly #windows: BoundedMap<string, Window>;

  /** `cap`: most (code, source) keys held; `state`: from {@link DenyBurstRule.state}, oldest first. */
  constructor(settings: DenyBurstSettings, cap: number, state: readonly DenyBurstState[] = []) {
    this.#settings = settings;
    this.#codes = new Set(settings.codes);
    this.#windows = new BoundedMap(cap);
    for (const s of state) {
      this.#windows.put(denyBurstKey(s.code, s.source), {
        code: s.code,
        source: s.source,
        times: [...s.times],
      });
    }
  }

  /** Counts one result; returns the alert it completes, if any. `clock`: the engine's clock. */
  observe(result: PlanResult, clock: number, cooldowns: Cooldowns): DenyBurstAlert | undefined {
    const code = codeOf(result);
    if (code === null || !this.#codes.has(code)) return undefined;
    const source = sourceOf(result);
    const key = denyBurstKey(code, source);
    const t = eventTime(result, clock);
    const { threshold, window_ms, cooldown_ms } = this.#settings;
    const times = this.#windows.get(key)?.times ?? [];
    insertSorted(times, t);
    const newest = times[times.length - 1]!;
    let stale = 0;
    while (stale < times.length && newest - times[stale]! >= window_ms) stale++;
    times.splice(0, stale);
    if (times.length < threshold) {
      this.#windows.put(key, { code, source, times });
      return undefined;
    }
    this.#windows.delete(key);
    if (!cooldowns.claim(key, clock, cooldown_ms)) return undefined;
    return {
      v: 1,
      timestamp: clock,
      kind: "deny_burst",
      severity: "warning",
      dedup_key: key,
      code,
      source,
      count: times.length,
      window_ms,
      first_at: times[0]!,
      last_at: newest,
    };
  }

  /** Forgets keys whose newest result left the window by `clock`. */
  prune(clock: number): void {
    for (const [key, w] of this.#windows.entries()) {
      if (clock - w.times[w.times.length - 1]! >= this.#settings.window_ms) this.#windows.delete(key);
    }
  }

  /** Keys dropped for the cap. */
  get dropped(): number {
    return this.#windows.dropped;
  }

  /** The windows held, oldest key first (JSON-serialisable). */
  state(): DenyBurstState[] {
    return [...this.#windows.entries()].map(([, w]) => ({
      code: w.code,
      source: w.source,
      times: [...w.times],
    }));
  }
}

/** Inserts `t` into ascending `times`, after any equal value (results mostly arrive in order). */
function insertSorted(times: number[], t: number): void {
  let i = times.length;
  while (i > 0 && times[i - 1]! > t) i--;
  times.splice(i, 0, t);
}
