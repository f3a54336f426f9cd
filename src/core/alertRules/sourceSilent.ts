import type { PlanResult } from "../result.js";
import { type SourceSilentAlert, sourceSilentKey } from "./alert.js";
import { BoundedMap } from "./boundedMap.js";
import type { Cooldowns } from "./cooldowns.js";
import { eventTime, passedSourceGate, sourceOf } from "./resultFacts.js";
import type { SourceSilentSettings } from "./settings.js";

/** A watched source and the timestamp of its latest result, as a snapshot keeps it. */
export interface SourceSeenState {
  readonly source: string;
  readonly last_seen: number;
}

/**
 * The `source_silent` rule: remembers when each watched source last wrote a
 * result that passed gate 3 (so a plan merely naming a source does not count
 * as that source being alive), and alerts once a source has been silent for
 * `after_ms`. The source is then forgotten until it is seen again: one alert
 * per silence, not one per cooldown forever. An alert held back by the
 * cooldown is retried on later ticks.
 *
 * Watched: with `sources` null, every source seen on lane `main` (the manual
 * lane's operators are sporadic by nature); with a list, those sources on
 * either lane. A source never seen is not watched.
 */
export class SourceSilentRule {
  readonly #settings: SourceSilentSettings;
  readonly #only: ReadonlySet<string> | null;
  readonly #seen: BoundedMap<string, number>;

  /** `cap`: most sources held; `state`: from {@link SourceSilentRule.state}, oldest first. */
  constructor(settings: SourceSilentSettings, cap: number, state: readonly SourceSeenState[] = []) {
    this.#settings = settings;
    this.#only = settings.sources === null ? null : new Set(settings.sources);
    this.#seen = new BoundedMap(cap);
    for (const s of state) this.#seen.put(s.source, s.last_seen);
  }

  /** Records a sign of life from the result's source, if it is watched. */
  observe(result: PlanResult, clock: number): void {
    if (this.#settings.after_ms === 0) return;
    const source = sourceOf(result);
    if (source === null || !passedSourceGate(result)) return;
    if (this.#only === null ? result.lane !== "main" : !this.#only.has(source)) return;
    const t = eventTime(result, clock);
    this.#seen.put(source, Math.max(t, this.#seen.get(source) ?? t));
  }

  /** Alerts for sources silent for `after_ms` at `clock`. */
  tick(clock: number, cooldowns: Cooldowns): SourceSilentAlert[] {
    const { after_ms, cooldown_ms } = this.#settings;
    if (after_ms === 0) return [];
    const alerts: SourceSilentAlert[] = [];
    for (const [source, lastSeen] of this.#seen.entries()) {
      if (clock - lastSeen < after_ms) continue;
      const key = sourceSilentKey(source);
      if (!cooldowns.claim(key, clock, cooldown_ms)) continue;
      this.#seen.delete(source);
      alerts.push({
        v: 1,
        timestamp: clock,
        kind: "source_silent",
        severity: "warning",
        dedup_key: key,
        source,
        last_seen: lastSeen,
        silent_ms: clock - lastSeen,
      });
    }
    return alerts;
  }

  /** Sources dropped for the cap. */
  get dropped(): number {
    return this.#seen.dropped;
  }

  /** The sources watched, least recently seen first (JSON-serialisable). */
  state(): SourceSeenState[] {
    return [...this.#seen.entries()].map(([source, last_seen]) => ({ source, last_seen }));
  }
}
