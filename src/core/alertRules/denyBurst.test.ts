import { describe, expect, it } from "vitest";
import { exampleResult } from "../../../test/support/exampleResult.js";
import type { PlanResult } from "../result.js";
import type { DenyBurstAlert, RuleAlert } from "./alert.js";
import { AlertRuleEngine } from "./engine.js";
import { parseAlertRules } from "./settings.js";

const T0 = 1_700_000_000_000;

/** `n` NOT_EXIT_OWNER denials from `source`, one every `stepMs` from `start`. */
function denials(n: number, start: number, stepMs = 1000, source = "bot_a"): PlanResult[] {
  return Array.from({ length: n }, (_, i) =>
    exampleResult({
      stream_id: `${start + i * stepMs}-0`,
      source,
      error: `NOT_EXIT_OWNER:source=${source}`,
      timestamp: start + i * stepMs,
    }),
  );
}

/** Feeds each result at its own timestamp; returns every alert. */
function feed(engine: AlertRuleEngine, results: readonly PlanResult[]): RuleAlert[] {
  return results.flatMap((r) => engine.observeResult(r, r.timestamp));
}

describe("deny_burst", () => {
  it("10 NOT_EXIT_OWNER denials within the window: exactly one deny_burst alert", () => {
    const alerts = feed(new AlertRuleEngine(), denials(10, T0));
    expect(alerts).toEqual([
      {
        v: 1,
        timestamp: T0 + 9000,
        kind: "deny_burst",
        severity: "warning",
        dedup_key: "deny_burst:NOT_EXIT_OWNER:bot_a",
        code: "NOT_EXIT_OWNER",
        source: "bot_a",
        count: 10,
        window_ms: 60_000,
        first_at: T0,
        last_at: T0 + 9000,
      } satisfies DenyBurstAlert,
    ]);
  });

  it.each([
    ["9 within the window", denials(9, T0), 0],
    ["10 spread wider than the window", denials(10, T0, 7000), 0],
    ["30 within the cooldown", denials(30, T0, 100), 1],
    ["10, then 10 more after the cooldown", [...denials(10, T0), ...denials(10, T0 + 400_000)], 2],
    ["10, then 10 more inside the cooldown", [...denials(10, T0), ...denials(10, T0 + 200_000)], 1],
  ])("%s: %i alert(s)", (_name, results, expected) => {
    expect(feed(new AlertRuleEngine(), results)).toHaveLength(expected);
  });

  it("after the cooldown, a new burst alerts again; a burst held back by the cooldown restarts the count", () => {
    const engine = new AlertRuleEngine();
    expect(feed(engine, denials(10, T0))).toHaveLength(1); // cooldown until T0 + 309 s
    expect(feed(engine, denials(10, T0 + 280_000))).toHaveLength(0); // a burst inside the cooldown
    expect(feed(engine, denials(1, T0 + 310_000))).toHaveLength(0); // cooldown over, but the count restarted
    const again = feed(engine, denials(9, T0 + 311_000));
    expect(again.map((a) => [a.dedup_key, (a as DenyBurstAlert).count, a.timestamp])).toEqual([
      ["deny_burst:NOT_EXIT_OWNER:bot_a", 10, T0 + 319_000],
    ]);
  });

  it("counts each source separately, and a null source on its own key", () => {
    const engine = new AlertRuleEngine();
    const mixed = [...denials(6, T0, 1000, "bot_a"), ...denials(6, T0 + 500, 1000, "bot_b")];
    expect(
      feed(
        engine,
        mixed.sort((a, b) => a.timestamp - b.timestamp),
      ),
    ).toEqual([]);
    const nulls = Array.from({ length: 10 }, (_, i) =>
      exampleResult({ source: null, error: "unauthenticated:bad_signature", timestamp: T0 + i }),
    );
    expect(feed(engine, nulls).map((a) => [a.dedup_key, (a as DenyBurstAlert).source])).toEqual([
      ["deny_burst:unauthenticated", null],
    ]);
  });

  it("ignores codes it does not watch, executed results and unregistered errors", () => {
    const others = Array.from({ length: 20 }, (_, i) => [
      exampleResult({ error: "limit:max_qty", timestamp: T0 + i }),
      exampleResult({ error: "not_order_owner:source=bot_a", timestamp: T0 + i }),
      exampleResult({ error: null, decision: "EXECUTED", executed: true, timestamp: T0 + i }),
      exampleResult({ error: "not_exit_owner:source=bot_a" as PlanResult["error"], timestamp: T0 + i }),
    ]).flat();
    expect(feed(new AlertRuleEngine(), others)).toEqual([]);
  });

  it.each([
    ["unauthenticated:bad_signature", "unauthenticated"],
    ["permit_invalid:signature", "permit_invalid"],
    ["signer_denied:policy", "signer_denied"],
    ["venue_not_ready:binance-usdm", "venue_not_ready"],
  ] as const)("matches %s by its base code %s", (error, code) => {
    const results = Array.from({ length: 10 }, (_, i) => exampleResult({ error, timestamp: T0 + i }));
    expect(feed(new AlertRuleEngine(), results).map((a) => (a as DenyBurstAlert).code)).toEqual([code]);
  });

  it("follows its settings: threshold, window and codes", () => {
    const settings = parseAlertRules({ deny_burst: { threshold: 3, window_ms: 1000, codes: ["limit"] } });
    const engine = new AlertRuleEngine(settings);
    const at = (t: number) => exampleResult({ error: "limit:rate", timestamp: T0 + t });
    expect(feed(engine, [at(0), at(600), at(1200)])).toEqual([]); // 0 left the window before 1200
    expect(feed(engine, [at(1300)])).toHaveLength(1); // 600, 1200, 1300
  });

  it.each([
    [999, 1],
    [1000, 0],
  ])("threshold 2, window 1000 ms: two results %i ms apart make %i alert(s)", (gap, expected) => {
    const engine = new AlertRuleEngine(parseAlertRules({ deny_burst: { threshold: 2, window_ms: 1000 } }));
    expect(feed(engine, [...denials(1, T0), ...denials(1, T0 + gap)])).toHaveLength(expected);
  });

  it("windows on the results' timestamps, so a backlog read at once is not a burst", () => {
    const engine = new AlertRuleEngine();
    const backlog = denials(10, T0, 10_000);
    expect(backlog.flatMap((r) => engine.observeResult(r, T0 + 200_000))).toEqual([]);
  });

  it("caps a timestamp ahead of the engine's clock at the clock", () => {
    const engine = new AlertRuleEngine();
    const future = denials(10, T0 + 10_000_000, 1000).map((r, i) => ({ ...r, timestamp: r.timestamp + i }));
    const alerts = future.flatMap((r, i) => engine.observeResult(r, T0 + i * 100_000));
    expect(alerts).toEqual([]); // each sits at its own read time, 100 s apart
  });
});
