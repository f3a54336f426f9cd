/**
 * `limits.max_daily_notional` over a restart at midnight (issue 13): real
 * executor processes whose clock libfaketime sets (and holds) at 23:59:59
 * UTC, then after 00:00 UTC. The day's total lives on the bus, so a restart
 * at 23:59:59 carries it over; the next UTC day starts from zero, exactly
 * once (a restart after midnight does not reset it again). Both buses.
 *
 * The midnight is the one nearest to now, so the executors' clocks are at
 * most 12 hours from Redis's, which libfaketime cannot move (redis-server's
 * allocator clashes with it): the test widens `max_bus_clock_skew_ms` to a
 * day, or the executors would rightly refuse to decide.
 */
import { afterEach, describe, expect, inject, it } from "vitest";
import { type BusKind, ExecutorHarness, entryFields, type PlanSpec } from "../support/executorHarness.js";
import { libfaketime } from "../support/libfaketime.js";

let h: ExecutorHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe.each<BusKind>(["redis", "sqlite"])("the daily cap over a restart at midnight (%s)", (bus) => {
  it("carries over at 23:59:59, resets after 00:00 UTC, exactly once", async () => {
    h = await ExecutorHarness.create({ bus, redisUrl: inject("redisUrl") });
    const harness = h;
    // 100000 a day: one BTC (65000) fits, a second does not, half of one more does
    const config = harness.writeConfig({
      limits: { max_daily_notional: { "*": "100000" } },
      max_bus_clock_skew_ms: 86_400_000,
    });
    const DAY_MS = 86_400_000;
    const midnight = Math.round(Date.now() / DAY_MS) * DAY_MS;
    const before = new Date(midnight - DAY_MS).toISOString().slice(0, 10);
    const after = new Date(midnight).toISOString().slice(0, 10);
    const fromMidnight = (offsetMs: number) =>
      new Date(midnight + offsetMs).toISOString().replace(/\.000Z$/, "Z");
    const lib = libfaketime();
    let n = 0;
    /** Starts an executor whose clock stands at `iso` (UTC), decides each qty in turn, stops it. */
    const session = async (iso: string, qtys: readonly string[]): Promise<(string | null)[]> => {
      const at = Date.parse(iso);
      const env = harness.childEnv({
        LD_PRELOAD: lib,
        FAKETIME: iso.replace("T", " ").replace(/\.\d+Z$|Z$/, ""),
        FAKETIME_DONT_FAKE_MONOTONIC: "1",
        TZ: "UTC",
      });
      const [proc] = await harness.start([`mid-${++n}`], { config, env });
      const out: (string | null)[] = [];
      for (const qty of qtys) {
        const spec: PlanSpec = {
          planId: `mid-${n}-${qty}-${out.length}`,
          lane: "main",
          account: "acct-m",
          symbol: "BTCUSDT",
          side: "BUY",
          qty,
          auth: "ok",
        };
        const { result } = await harness.decide(spec, entryFields(spec, harness.secret, at));
        // the executor decided at its (fake) time: the result says so
        expect(result.timestamp).toBe(at);
        out.push(result.error);
      }
      // a clean stop: the restart is a real one, nothing killed half way
      expect((await proc!.stop()).code).toBe(0);
      return out;
    };
    const total = async (day: string) =>
      (
        await harness.backend.readFacts({
          planIds: [],
          permitIds: [],
          rates: [],
          positions: [],
          dailyNotional: [{ account: "acct-m", day }],
        })
      ).dailyNotional.get(JSON.stringify(["acct-m", day]));

    expect(await session(fromMidnight(-2000), ["1"])).toEqual([null]);
    expect(await total(before)).toBe("65000");
    // restarted at 23:59:59: the day's 65000 carried over
    expect(await session(fromMidnight(-1000), ["1", "0.5"])).toEqual(["limit:daily_notional", null]);
    expect(await total(before)).toBe("97500");
    // after midnight: a new day from zero
    expect(await session(fromMidnight(1000), ["1"])).toEqual([null]);
    // restarted again the same day: no second reset
    expect(await session(fromMidnight(30_000), ["1", "0.5"])).toEqual(["limit:daily_notional", null]);
    expect(await total(after)).toBe("97500");
    expect(await total(before)).toBe("97500");
    expect(await harness.backend.pendingCount()).toBe(0);
  }, 120_000);
});
