import { LANES } from "../plan.js";
import type { PlanResult } from "../result.js";
import { type OpenUnknownState, type UnknownOpenAlert, unknownOpenKey } from "./alert.js";
import { BoundedMap } from "./boundedMap.js";
import type { Cooldowns } from "./cooldowns.js";
import { eventTime, keptText, sourceOf } from "./resultFacts.js";
import type { UnknownOpenSettings } from "./settings.js";

export type { OpenUnknownState } from "./alert.js";

/**
 * The `unknown_open` rule: an `UNKNOWN` result opens its entry (lane,
 * stream_id); the follow-up with `reconciled: true` for the same entry closes
 * it. An entry open for `after_ms` alerts, and alerts again each
 * `cooldown_ms` while it stays open: an order whose outcome is not known is
 * worth a reminder. A repeated `UNKNOWN` for an open entry keeps the first
 * opening time.
 */
export class UnknownOpenRule {
  readonly #settings: UnknownOpenSettings;
  readonly #open: BoundedMap<string, OpenUnknownState>;

  /** `cap`: most open entries held; `state`: from {@link UnknownOpenRule.state}, oldest first. */
  constructor(settings: UnknownOpenSettings, cap: number, state: readonly OpenUnknownState[] = []) {
    this.#settings = settings;
    this.#open = new BoundedMap(cap);
    for (const s of state) this.#open.put(entryKey(s.lane, s.stream_id), { ...s });
  }

  /** Opens or closes the result's entry. */
  observe(result: PlanResult, clock: number): void {
    if (this.#settings.after_ms === 0) return;
    const streamId = keptText(result.stream_id);
    if (streamId === null || !LANES.includes(result.lane)) return;
    const key = entryKey(result.lane, streamId);
    if (result.reconciled === true) {
      this.#open.delete(key);
      return;
    }
    if (result.decision !== "UNKNOWN" || this.#open.get(key) !== undefined) return;
    this.#open.put(key, {
      lane: result.lane,
      stream_id: streamId,
      plan_id: keptText(result.plan_id),
      source: sourceOf(result),
      venue: keptText(result.venue),
      client_order_id: keptText(result.client_order_id),
      opened_at: eventTime(result, clock),
    });
  }

  /** Alerts for entries open for `after_ms` at `clock`. */
  tick(clock: number, cooldowns: Cooldowns): UnknownOpenAlert[] {
    const { after_ms, cooldown_ms } = this.#settings;
    if (after_ms === 0) return [];
    const alerts: UnknownOpenAlert[] = [];
    for (const [, u] of this.#open.entries()) {
      const openMs = clock - u.opened_at;
      if (openMs < after_ms) continue;
      const key = unknownOpenKey(u.lane, u.stream_id);
      if (!cooldowns.claim(key, clock, cooldown_ms)) continue;
      alerts.push({
        v: 1,
        timestamp: clock,
        kind: "unknown_open",
        severity: "critical",
        dedup_key: key,
        ...u,
        open_ms: openMs,
      });
    }
    return alerts;
  }

  /** Open entries dropped for the cap. */
  get dropped(): number {
    return this.#open.dropped;
  }

  /** The open entries, oldest first (JSON-serialisable). */
  state(): OpenUnknownState[] {
    return [...this.#open.entries()].map(([, u]) => ({ ...u }));
  }
}

function entryKey(lane: string, streamId: string): string {
  return `${lane}:${streamId}`;
}
