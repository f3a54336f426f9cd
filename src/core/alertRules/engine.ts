import { LANES } from "../plan.js";
import type { PlanResult } from "../result.js";
import type { RuleAlert } from "./alert.js";
import { Cooldowns } from "./cooldowns.js";
import { DeadLetterRule, type DlqEntry } from "./deadLetter.js";
import { DenyBurstRule } from "./denyBurst.js";
import { keptText } from "./resultFacts.js";
import { type AlertRuleSettings, DEFAULT_ALERT_RULES } from "./settings.js";
import { type AlertRuleSnapshot, parseAlertRuleSnapshot } from "./snapshot.js";
import { SourceSilentRule } from "./sourceSilent.js";
import { UnknownOpenRule } from "./unknownOpen.js";

/**
 * The streaming alert rules (issue 12), pure: a watcher feeds it each result
 * and DLQ entry it reads, calls {@link AlertRuleEngine.tick} on a timer, and
 * sends the alerts returned (wire §1a). Time is only what it is given: its
 * clock is the latest `at` / `now` passed in (a clock stepping back does not
 * move it back); windows run on the results' own timestamps, capped at that
 * clock. Cooldowns are kept per dedup_key across every kind.
 *
 * State survives restarts through {@link AlertRuleEngine.snapshot} and
 * {@link AlertRuleEngine.restore}: a restored engine given the same inputs
 * emits the same alerts as one that never stopped. Memory is bounded:
 * windows and cooldowns are pruned on each tick, and each map holds at most
 * `max_tracked_keys` keys, dropping the oldest.
 */
export class AlertRuleEngine {
  #clock: number;
  readonly #cooldowns: Cooldowns;
  readonly #denyBurst: DenyBurstRule;
  readonly #sourceSilent: SourceSilentRule;
  readonly #unknownOpen: UnknownOpenRule;
  readonly #deadLetter: DeadLetterRule;

  /** A fresh engine; `settings` from `parseAlertRules` (default: {@link DEFAULT_ALERT_RULES}). */
  constructor(settings: AlertRuleSettings = DEFAULT_ALERT_RULES, state?: AlertRuleSnapshot) {
    const cap = settings.max_tracked_keys;
    this.#clock = state?.clock ?? Number.NEGATIVE_INFINITY;
    this.#cooldowns = new Cooldowns(cap, state?.cooldowns);
    this.#denyBurst = new DenyBurstRule(settings.deny_burst, cap, state?.deny_burst);
    this.#sourceSilent = new SourceSilentRule(settings.source_silent, cap, state?.source_silent);
    this.#unknownOpen = new UnknownOpenRule(settings.unknown_open, cap, state?.unknown_open);
    this.#deadLetter = new DeadLetterRule(settings.dlq);
  }

  /**
   * An engine continuing from a snapshot (a value from
   * {@link AlertRuleEngine.snapshot}, possibly through JSON). Throws
   * `AlertRuleSnapshotError` when it is not one. Past a smaller
   * `max_tracked_keys`, the oldest keys are dropped.
   */
  static restore(settings: AlertRuleSettings, snapshot: unknown): AlertRuleEngine {
    return new AlertRuleEngine(settings, parseAlertRuleSnapshot(snapshot));
  }

  /** Counts one result read at `at` (ms); returns the alerts it completes (`deny_burst`). */
  observeResult(result: PlanResult, at: number): RuleAlert[] {
    const clock = this.#advance(at);
    this.#sourceSilent.observe(result, clock);
    this.#unknownOpen.observe(result, clock);
    const burst = this.#denyBurst.observe(result, clock, this.#cooldowns);
    return burst === undefined ? [] : [burst];
  }

  /**
   * One DLQ entry read at `at` (see `dlqEntryFromFields`); returns its
   * `dead_letter` alert unless the rule is off or the same entry alerted
   * within the cooldown. An entry with an unreadable lane or id is ignored.
   */
  observeDlq(entry: DlqEntry, at: number): RuleAlert[] {
    const clock = this.#advance(at);
    if (!LANES.includes(entry.lane) || keptText(entry.stream_id) === null) return [];
    const alert = this.#deadLetter.observe(entry, clock, this.#cooldowns);
    return alert === undefined ? [] : [alert];
  }

  /** Advances the clock to `now`, prunes, and returns the time-based alerts due (`source_silent`, `unknown_open`). */
  tick(now: number): RuleAlert[] {
    const clock = this.#advance(now);
    this.#cooldowns.prune(clock);
    this.#denyBurst.prune(clock);
    return [
      ...this.#sourceSilent.tick(clock, this.#cooldowns),
      ...this.#unknownOpen.tick(clock, this.#cooldowns),
    ];
  }

  /** The engine's state as a JSON-serialisable value, for {@link AlertRuleEngine.restore}. */
  snapshot(): AlertRuleSnapshot {
    return {
      v: 1,
      clock: Number.isFinite(this.#clock) ? this.#clock : null,
      deny_burst: this.#denyBurst.state(),
      source_silent: this.#sourceSilent.state(),
      unknown_open: this.#unknownOpen.state(),
      cooldowns: this.#cooldowns.state(),
    };
  }

  /** Keys dropped for `max_tracked_keys` since this engine was made (for a watcher's metrics; not in snapshots). */
  get droppedKeys(): number {
    return (
      this.#cooldowns.dropped +
      this.#denyBurst.dropped +
      this.#sourceSilent.dropped +
      this.#unknownOpen.dropped
    );
  }

  #advance(t: number): number {
    if (!Number.isFinite(t))
      throw new RangeError(`alert rules: time must be a finite number of ms, got ${t}`);
    if (t > this.#clock) this.#clock = t;
    return this.#clock;
  }
}
