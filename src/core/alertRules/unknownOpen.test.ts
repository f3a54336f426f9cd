import { describe, expect, it } from "vitest";
import { exampleResult } from "../../../test/support/exampleResult.js";
import type { PlanResult } from "../result.js";
import { AlertRuleEngine } from "./engine.js";
import { parseAlertRules } from "./settings.js";

const T0 = 1_700_000_000_000;
/** Only this rule: the results here would also make their source look silent later. */
const ONLY_UNKNOWN = parseAlertRules({ source_silent: { after_ms: 0 } });
const unknown = (streamId: string, t: number): PlanResult =>
  exampleResult({
    stream_id: streamId,
    plan_id: `p-${streamId}`,
    venue: "binance-usdm",
    mode: "live",
    decision: "UNKNOWN",
    error: "venue_error:timeout",
    client_order_id: "ig-abc",
    timestamp: t,
  });
const followUp = (streamId: string, t: number): PlanResult => ({
  ...unknown(streamId, t),
  decision: "EXECUTED",
  executed: true,
  error: null,
  reconciled: true,
});

describe("unknown_open", () => {
  it("alerts for an UNKNOWN open for after_ms, and reminds each cooldown while it stays open", () => {
    const engine = new AlertRuleEngine(ONLY_UNKNOWN);
    expect(engine.observeResult(unknown("5-0", T0), T0)).toEqual([]);
    expect(engine.tick(T0 + 59_999)).toEqual([]);
    expect(engine.tick(T0 + 60_000)).toEqual([
      {
        v: 1,
        timestamp: T0 + 60_000,
        kind: "unknown_open",
        severity: "critical",
        dedup_key: "unknown_open:main:5-0",
        lane: "main",
        stream_id: "5-0",
        plan_id: "p-5-0",
        source: "bot_a",
        venue: "binance-usdm",
        client_order_id: "ig-abc",
        opened_at: T0,
        open_ms: 60_000,
      },
    ]);
    expect(engine.tick(T0 + 120_000)).toEqual([]);
    expect(engine.tick(T0 + 60_000 + 3_600_000).map((a) => a.kind)).toEqual(["unknown_open"]);
  });

  it.each([
    ["before the bound", 30_000, 0],
    ["after an alert", 70_000, 1],
  ])("a reconciled follow-up %s closes it: no alert after", (_name, closeAfter, before) => {
    const engine = new AlertRuleEngine(ONLY_UNKNOWN);
    engine.observeResult(unknown("5-0", T0), T0);
    expect(engine.tick(T0 + closeAfter - 1)).toHaveLength(before);
    engine.observeResult(followUp("5-0", T0 + closeAfter), T0 + closeAfter);
    expect(engine.tick(T0 + 10_000_000)).toEqual([]);
    expect(engine.snapshot().unknown_open).toEqual([]);
  });

  it("keys by (lane, stream_id): a follow-up of another entry or lane closes nothing", () => {
    const engine = new AlertRuleEngine(ONLY_UNKNOWN);
    engine.observeResult(unknown("5-0", T0), T0);
    engine.observeResult(followUp("6-0", T0 + 1), T0 + 1);
    engine.observeResult({ ...followUp("5-0", T0 + 2), lane: "manual" }, T0 + 2);
    expect(engine.tick(T0 + 60_000).map((a) => a.dedup_key)).toEqual(["unknown_open:main:5-0"]);
  });

  it("a repeated UNKNOWN keeps the first opening time", () => {
    const engine = new AlertRuleEngine(ONLY_UNKNOWN);
    engine.observeResult(unknown("5-0", T0), T0);
    engine.observeResult(unknown("5-0", T0 + 50_000), T0 + 50_000);
    expect(engine.tick(T0 + 60_000)).toHaveLength(1);
  });

  it("after_ms 0 turns it off", () => {
    const engine = new AlertRuleEngine(
      parseAlertRules({ unknown_open: { after_ms: 0 }, source_silent: { after_ms: 0 } }),
    );
    engine.observeResult(unknown("5-0", T0), T0);
    expect(engine.tick(T0 + 10_000_000)).toEqual([]);
  });
});
