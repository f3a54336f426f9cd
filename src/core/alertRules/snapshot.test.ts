import { describe, expect, it } from "vitest";
import { exampleResult } from "../../../test/support/exampleResult.js";
import { AlertRuleEngine } from "./engine.js";
import { DEFAULT_ALERT_RULES, parseAlertRules } from "./settings.js";
import { AlertRuleSnapshotError, parseAlertRuleSnapshot } from "./snapshot.js";

const T0 = 1_700_000_000_000;

/** A snapshot holding some of every kind of state. */
function busySnapshot(): unknown {
  const engine = new AlertRuleEngine();
  for (let i = 0; i < 12; i++) engine.observeResult(exampleResult({ timestamp: T0 + i }), T0 + i);
  engine.observeResult(
    exampleResult({ timestamp: T0 + 20, decision: "UNKNOWN", error: "venue_error:timeout" }),
    T0 + 20,
  );
  engine.observeDlq({ lane: "manual", stream_id: "9-0", deliveries: 10, error: null }, T0 + 30);
  return JSON.parse(JSON.stringify(engine.snapshot()));
}

describe("alert-rule snapshots", () => {
  it("a fresh engine's snapshot is empty and restores", () => {
    const snap = new AlertRuleEngine().snapshot();
    expect(snap).toEqual({
      v: 1,
      clock: null,
      deny_burst: [],
      source_silent: [],
      unknown_open: [],
      cooldowns: [],
    });
    expect(AlertRuleEngine.restore(DEFAULT_ALERT_RULES, snap).snapshot()).toEqual(snap);
  });

  it("holds every kind of state, as JSON", () => {
    const snap = busySnapshot() as Record<string, unknown[]>;
    expect(snap.deny_burst).toEqual([{ code: "NOT_EXIT_OWNER", source: "bot_a", times: [T0 + 10, T0 + 11] }]);
    expect(snap.source_silent).toEqual([{ source: "bot_a", last_seen: T0 + 20 }]);
    expect(snap.unknown_open).toHaveLength(1);
    expect(snap.cooldowns).toEqual([
      { dedup_key: "deny_burst:NOT_EXIT_OWNER:bot_a", until: T0 + 9 + 300_000 },
      { dedup_key: "dead_letter:manual:9-0", until: T0 + 30 + 86_400_000 },
    ]);
  });

  it("restoring with a smaller max_tracked_keys keeps the newest keys", () => {
    const engine = AlertRuleEngine.restore(parseAlertRules({ max_tracked_keys: 1 }), busySnapshot());
    expect(engine.snapshot().cooldowns.map((c) => c.dedup_key)).toEqual(["dead_letter:manual:9-0"]);
  });

  const mutations: [string, (s: Record<string, unknown>) => unknown, string][] = [
    ["not an object", () => "snapshot", "<snapshot>"],
    ["null", () => null, "<snapshot>"],
    ["another version", (s) => ({ ...s, v: 2 }), "v"],
    ["an unknown key", (s) => ({ ...s, extra: 1 }), "extra"],
    ["a missing list", ({ cooldowns: _, ...s }) => s, "cooldowns"],
    ["a clock that is not a number", (s) => ({ ...s, clock: "now" }), "clock"],
    [
      "an unregistered code",
      (s) => ({ ...s, deny_burst: [{ code: "nope", source: null, times: [1] }] }),
      "deny_burst.0.code",
    ],
    [
      "times not ascending",
      (s) => ({ ...s, deny_burst: [{ code: "limit", source: null, times: [2, 1] }] }),
      "deny_burst.0.times",
    ],
    [
      "empty times",
      (s) => ({ ...s, deny_burst: [{ code: "limit", source: null, times: [] }] }),
      "deny_burst.0.times",
    ],
    [
      "a repeated burst key",
      (s) => ({ ...s, deny_burst: [0, 1].map(() => ({ code: "limit", source: "a", times: [1] })) }),
      "deny_burst",
    ],
    [
      "a source with a control character",
      (s) => ({ ...s, source_silent: [{ source: "a\u0000", last_seen: 1 }] }),
      "source_silent.0.source",
    ],
    [
      "a null last_seen (NaN through JSON)",
      (s) => ({ ...s, source_silent: [{ source: "a", last_seen: null }] }),
      "source_silent.0.last_seen",
    ],
    [
      "an unknown lane",
      (s) => ({
        ...s,
        unknown_open: [
          {
            lane: "side",
            stream_id: "1-0",
            plan_id: null,
            source: null,
            venue: null,
            client_order_id: null,
            opened_at: 1,
          },
        ],
      }),
      "unknown_open.0.lane",
    ],
    ["a cooldown without its end", (s) => ({ ...s, cooldowns: [{ dedup_key: "k" }] }), "cooldowns.0.until"],
    [
      "an empty dedup_key",
      (s) => ({ ...s, cooldowns: [{ dedup_key: "", until: 1 }] }),
      "cooldowns.0.dedup_key",
    ],
  ];

  it.each(mutations)("refuses %s, naming %s", (_name, mutate, field) => {
    const bad = mutate(busySnapshot() as Record<string, unknown>);
    let error: unknown;
    try {
      AlertRuleEngine.restore(DEFAULT_ALERT_RULES, bad);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AlertRuleSnapshotError);
    expect((error as AlertRuleSnapshotError).field).toBe(field);
    expect(() => parseAlertRuleSnapshot(bad)).toThrow(AlertRuleSnapshotError);
  });
});
