import { describe, expect, it } from "vitest";
import { exampleResult } from "../../../test/support/exampleResult.js";
import type { PlanResult } from "../result.js";
import { AlertRuleEngine } from "./engine.js";
import { parseAlertRules } from "./settings.js";

const T0 = 1_700_000_000_000;
const executed = (source: string, t: number, extra: Partial<PlanResult> = {}) =>
  exampleResult({ source, decision: "EXECUTED", executed: true, error: null, timestamp: t, ...extra });

describe("source_silent", () => {
  it("alerts once when a source seen on lane main writes nothing for after_ms", () => {
    const engine = new AlertRuleEngine();
    engine.observeResult(executed("bot_a", T0), T0);
    expect(engine.tick(T0 + 299_999)).toEqual([]);
    expect(engine.tick(T0 + 300_000)).toEqual([
      {
        v: 1,
        timestamp: T0 + 300_000,
        kind: "source_silent",
        severity: "warning",
        dedup_key: "source_silent:bot_a",
        source: "bot_a",
        last_seen: T0,
        silent_ms: 300_000,
      },
    ]);
    expect(engine.tick(T0 + 10_000_000)).toEqual([]); // one alert per silence
  });

  it("a result resets the silence; a source seen again and silent again alerts after the cooldown", () => {
    const engine = new AlertRuleEngine();
    engine.observeResult(executed("bot_a", T0), T0);
    engine.observeResult(executed("bot_a", T0 + 200_000), T0 + 200_000);
    expect(engine.tick(T0 + 400_000)).toEqual([]);
    expect(engine.tick(T0 + 500_000)).toHaveLength(1);
    engine.observeResult(executed("bot_a", T0 + 510_000), T0 + 510_000);
    expect(engine.tick(T0 + 810_000)).toEqual([]); // silent again, held back by the 1 h cooldown
    expect(engine.tick(T0 + 500_000 + 3_600_000).map((a) => a.dedup_key)).toEqual(["source_silent:bot_a"]);
  });

  it.each([
    ["a denial at gate 4 or later", { decision: "DENIED", executed: false, error: "limit:max_qty" }, 1],
    ["the manual lane", { lane: "manual" }, 0],
    [
      "a gate-1 refusal naming the source",
      { decision: "DENIED", executed: false, error: "invalid_plan:qty" },
      0,
    ],
    [
      "an unauthenticated plan",
      { decision: "DENIED", executed: false, error: "unauthenticated:bad_signature" },
      0,
    ],
    ["a source not allowed", { decision: "DENIED", executed: false, error: "source_not_allowed:bot_a" }, 0],
    ["a source with a control character", { source: "bot\u0007" }, 0],
  ] as const)("%s: %i alert(s) later", (_name, extra, expected) => {
    const engine = new AlertRuleEngine();
    engine.observeResult(executed("bot_a", T0, extra as Partial<PlanResult>), T0);
    expect(engine.tick(T0 + 1_000_000)).toHaveLength(expected);
  });

  it("with a sources list, watches only those, on either lane", () => {
    const engine = new AlertRuleEngine(parseAlertRules({ source_silent: { sources: ["ops"] } }));
    engine.observeResult(executed("bot_a", T0), T0);
    engine.observeResult(executed("ops", T0, { lane: "manual" }), T0);
    expect(engine.tick(T0 + 1_000_000).map((a) => a.dedup_key)).toEqual(["source_silent:ops"]);
  });

  it("after_ms 0 turns it off", () => {
    const engine = new AlertRuleEngine(parseAlertRules({ source_silent: { after_ms: 0 } }));
    engine.observeResult(executed("bot_a", T0), T0);
    expect(engine.tick(T0 + 10_000_000)).toEqual([]);
    expect(engine.snapshot().source_silent).toEqual([]);
  });

  it("dates the last sign of life by the result's timestamp, not by when it was read", () => {
    const engine = new AlertRuleEngine();
    engine.observeResult(executed("bot_a", T0), T0 + 250_000); // read late, after a watcher restart
    expect(engine.tick(T0 + 300_000).map((a) => a.dedup_key)).toEqual(["source_silent:bot_a"]);
  });
});
