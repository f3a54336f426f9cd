import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { exampleResult } from "../../../test/support/exampleResult.js";
import type { Lane } from "../plan.js";
import { baseCode } from "../reasons.js";
import type { PlanResult } from "../result.js";
import type { RuleAlert } from "./alert.js";
import type { DlqEntry } from "./deadLetter.js";
import { AlertRuleEngine } from "./engine.js";
import { sourceOf } from "./resultFacts.js";
import { type AlertRuleSettings, parseAlertRules } from "./settings.js";

const T0 = 1_700_000_000_000;

/** One input to the engine, with the time the watcher passes. */
type Step =
  | { readonly kind: "result"; readonly at: number; readonly result: PlanResult }
  | { readonly kind: "dlq"; readonly at: number; readonly entry: DlqEntry }
  | { readonly kind: "tick"; readonly at: number };

const ERRORS = [
  "NOT_EXIT_OWNER:source=bot_a",
  "NOT_EXIT_OWNER:source=bot_a",
  "NOT_EXIT_OWNER:source=bot_a",
  "unauthenticated:bad_signature",
  "signer_denied:policy",
  "limit:max_qty",
  "invalid_plan:qty",
] as const;
const SOURCES = ["bot_a", "bot_a", "bot_a", "bot_b", null, "bad\nsource", "x".repeat(200)];
const STREAM_IDS = ["1-0", "2-0", "3-0"];

/** Times on a 250 ms grid, so alerts land exactly on window and cooldown bounds often. */
const ms = (min: number, max: number) => fc.integer({ min: min / 250, max: max / 250 }).map((n) => n * 250);

const resultArb = fc.oneof(
  fc.record({ error: fc.constantFrom(...ERRORS), decision: fc.constant("DENIED" as const) }),
  fc.record({
    error: fc.constant("venue_error:timeout" as const),
    decision: fc.constant("UNKNOWN" as const),
  }),
  fc.record({
    error: fc.constant(null),
    decision: fc.constant("EXECUTED" as const),
    reconciled: fc.boolean(),
  }),
);

/** Steps with a clock moving forward (sometimes back: the engine must not follow it back). */
const stepsArb = fc
  .array(
    fc.record({
      dt: fc.oneof(
        { arbitrary: ms(0, 2_000), weight: 6 },
        { arbitrary: ms(-5_000, 0), weight: 1 },
        { arbitrary: ms(0, 120_000), weight: 1 },
      ),
      lag: fc.oneof(
        { arbitrary: ms(-2_000, 5_000), weight: 9 },
        { arbitrary: fc.constant(Number.NaN), weight: 1 },
      ),
      what: fc.constantFrom("result", "result", "result", "dlq", "tick"),
      shape: resultArb,
      source: fc.constantFrom(...SOURCES),
      lane: fc.constantFrom<Lane>("main", "manual"),
      stream: fc.constantFrom(...STREAM_IDS),
    }),
    { maxLength: 150 },
  )
  .map((raw) => {
    let t = T0;
    return raw.map((s): Step => {
      t += s.dt;
      if (s.what === "tick") return { kind: "tick", at: t };
      if (s.what === "dlq") {
        const entry = {
          lane: s.lane,
          stream_id: s.stream,
          deliveries: 10,
          error: "internal_error:delivery_limit",
        };
        return { kind: "dlq", at: t, entry };
      }
      const { reconciled, ...shape } = s.shape as typeof s.shape & { reconciled?: boolean };
      const result = exampleResult({
        ...shape,
        executed: shape.decision === "EXECUTED",
        ...(reconciled === true ? { reconciled: true as const } : {}),
        source: s.source,
        lane: s.lane,
        stream_id: s.stream,
        timestamp: t - s.lag,
      });
      return { kind: "result", at: t, result };
    });
  });

const settingsArb = fc
  .record({
    threshold: fc.integer({ min: 1, max: 5 }),
    window_ms: fc.oneof(ms(250, 20_000), fc.integer({ min: 1, max: 20_000 })),
    burstCooldown: fc.oneof(ms(0, 10_000), ms(0, 60_000)),
    silentAfter: ms(0, 60_000),
    unknownAfter: ms(0, 60_000),
    cooldown: fc.oneof(ms(0, 10_000), ms(0, 200_000)),
    cap: fc.oneof(fc.integer({ min: 1, max: 6 }), fc.constant(10_000)),
  })
  .map(
    (s): AlertRuleSettings =>
      parseAlertRules({
        deny_burst: { threshold: s.threshold, window_ms: s.window_ms, cooldown_ms: s.burstCooldown },
        source_silent: { after_ms: s.silentAfter, cooldown_ms: s.cooldown },
        unknown_open: { after_ms: s.unknownAfter, cooldown_ms: s.cooldown },
        dlq: { cooldown_ms: s.cooldown },
        max_tracked_keys: s.cap,
      }),
  );

function step(engine: AlertRuleEngine, s: Step): RuleAlert[] {
  if (s.kind === "result") return engine.observeResult(s.result, s.at);
  if (s.kind === "dlq") return engine.observeDlq(s.entry, s.at);
  return engine.tick(s.at);
}

function run(engine: AlertRuleEngine, steps: readonly Step[]): RuleAlert[] {
  return steps.flatMap((s) => step(engine, s));
}

function cooldownOf(settings: AlertRuleSettings, alert: RuleAlert): number {
  if (alert.kind === "deny_burst") return settings.deny_burst.cooldown_ms;
  if (alert.kind === "source_silent") return settings.source_silent.cooldown_ms;
  if (alert.kind === "unknown_open") return settings.unknown_open.cooldown_ms;
  return settings.dlq.cooldown_ms;
}

describe("alert rule engine properties", () => {
  it("the generated inputs raise every kind of alert (so the properties below are not vacuous)", () => {
    const kinds = new Set<string>();
    for (const [settings, steps] of fc.sample(fc.tuple(settingsArb, stepsArb), { numRuns: 300, seed: 42 })) {
      for (const a of run(new AlertRuleEngine(settings), steps)) kinds.add(a.kind);
    }
    expect([...kinds].sort()).toEqual(["dead_letter", "deny_burst", "source_silent", "unknown_open"]);
  });

  it("no two alerts with one dedup_key closer than its cooldown (keys within the cap)", () => {
    fc.assert(
      fc.property(settingsArb, stepsArb, (settings, steps) => {
        const alerts = run(new AlertRuleEngine({ ...settings, max_tracked_keys: 10_000 }), steps);
        const last = new Map<string, number>();
        for (const a of alerts) {
          const prev = last.get(a.dedup_key);
          if (prev !== undefined) expect(a.timestamp - prev).toBeGreaterThanOrEqual(cooldownOf(settings, a));
          last.set(a.dedup_key, a.timestamp);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("every deny_burst had at least threshold matching results inside its window", () => {
    fc.assert(
      fc.property(settingsArb, stepsArb, (settings, steps) => {
        const engine = new AlertRuleEngine(settings);
        const seen: { code: string; source: string | null; t: number }[] = [];
        let clock = Number.NEGATIVE_INFINITY;
        for (const s of steps) {
          clock = Math.max(clock, s.at);
          if (s.kind === "result" && s.result.error !== null) {
            const ts = s.result.timestamp;
            const t = Number.isFinite(ts) ? Math.min(ts, clock) : clock;
            seen.push({ code: baseCode(s.result.error), source: sourceOf(s.result), t });
          }
          for (const a of step(engine, s)) {
            if (a.kind !== "deny_burst") continue;
            expect(a.count).toBeGreaterThanOrEqual(settings.deny_burst.threshold);
            expect(a.last_at - a.first_at).toBeLessThan(a.window_ms);
            const inside = seen.filter(
              (x) => x.code === a.code && x.source === a.source && x.t >= a.first_at && x.t <= a.last_at,
            );
            expect(inside.length).toBeGreaterThanOrEqual(a.count);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it("snapshot, JSON round trip and restore at any point: the same alerts as never stopping", () => {
    fc.assert(
      fc.property(settingsArb, stepsArb, fc.nat(), (settings, steps, cut) => {
        const k = steps.length === 0 ? 0 : cut % (steps.length + 1);
        const whole = new AlertRuleEngine(settings);
        const expected = run(whole, steps);
        const first = new AlertRuleEngine(settings);
        const before = run(first, steps.slice(0, k));
        const stored = JSON.parse(JSON.stringify(first.snapshot())) as unknown;
        const restored = AlertRuleEngine.restore(settings, stored);
        const after = run(restored, steps.slice(k));
        expect([...before, ...after]).toEqual(expected);
        expect(restored.snapshot()).toEqual(whole.snapshot());
      }),
      { numRuns: 300 },
    );
  });

  it("state stays within the cap, and every alert is JSON with the wire §1a fields", () => {
    fc.assert(
      fc.property(settingsArb, stepsArb, (settings, steps) => {
        const engine = new AlertRuleEngine(settings);
        for (const a of run(engine, steps)) {
          expect(JSON.parse(JSON.stringify(a))).toEqual(a);
          expect(a).toMatchObject({ v: 1, timestamp: expect.any(Number), dedup_key: expect.any(String) });
          expect(["info", "warning", "critical"]).toContain(a.severity);
        }
        const snap = engine.snapshot();
        for (const list of [snap.deny_burst, snap.source_silent, snap.unknown_open, snap.cooldowns]) {
          expect(list.length).toBeLessThanOrEqual(settings.max_tracked_keys);
        }
      }),
      { numRuns: 200 },
    );
  });
});
