import { describe, expect, it } from "vitest";
import { exampleResult } from "../../../test/support/exampleResult.js";
import { AlertRuleEngine } from "./engine.js";
import { parseAlertRules } from "./settings.js";

const T0 = 1_700_000_000_000;

describe("AlertRuleEngine", () => {
  it.each([Number.NaN, Number.POSITIVE_INFINITY])("refuses a time of %s", (t) => {
    const engine = new AlertRuleEngine();
    expect(() => engine.tick(t)).toThrow(RangeError);
    expect(() => engine.observeResult(exampleResult(), t)).toThrow(RangeError);
    expect(engine.snapshot().clock).toBeNull();
  });

  it("keeps its clock when a later call passes an earlier time", () => {
    const engine = new AlertRuleEngine();
    engine.tick(T0 + 1000);
    engine.tick(T0);
    expect(engine.snapshot().clock).toBe(T0 + 1000);
  });

  it("ties each rule's alerts to its own kind, all from one engine", () => {
    const engine = new AlertRuleEngine(parseAlertRules({ deny_burst: { threshold: 2 } }));
    const alerts = [
      ...engine.observeResult(exampleResult({ timestamp: T0 }), T0),
      ...engine.observeResult(exampleResult({ timestamp: T0 + 1 }), T0 + 1),
      ...engine.observeResult(
        exampleResult({
          stream_id: "7-0",
          decision: "UNKNOWN",
          error: "venue_error:timeout",
          timestamp: T0 + 2,
        }),
        T0 + 2,
      ),
      ...engine.observeDlq({ lane: "main", stream_id: "8-0", deliveries: 10, error: null }, T0 + 3),
      ...engine.tick(T0 + 400_000),
    ];
    expect(alerts.map((a) => a.dedup_key)).toEqual([
      "deny_burst:NOT_EXIT_OWNER:bot_a",
      "dead_letter:main:8-0",
      "source_silent:bot_a",
      "unknown_open:main:7-0",
    ]);
  });

  it("ignores a DLQ entry whose lane or id is not readable", () => {
    const engine = new AlertRuleEngine();
    const entry = { lane: "side", stream_id: "1-0", deliveries: null, error: null } as never;
    expect(engine.observeDlq(entry, T0)).toEqual([]);
    expect(engine.observeDlq({ lane: "main", stream_id: "", deliveries: null, error: null }, T0)).toEqual([]);
  });

  it("holds at most max_tracked_keys keys per map, dropping the oldest, and counts the drops", () => {
    const engine = new AlertRuleEngine(parseAlertRules({ max_tracked_keys: 3 }));
    for (let i = 0; i < 5; i++)
      engine.observeResult(exampleResult({ source: `bot_${i}`, timestamp: T0 + i }), T0 + i);
    expect(engine.snapshot().deny_burst.map((w) => w.source)).toEqual(["bot_2", "bot_3", "bot_4"]);
    // A NOT_EXIT_OWNER denial (gate 4) also shows its source is alive: the sources map is capped the same way.
    expect(engine.snapshot().source_silent.map((s) => s.source)).toEqual(["bot_2", "bot_3", "bot_4"]);
    expect(engine.droppedKeys).toBe(4);
  });
});
