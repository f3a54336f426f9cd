/**
 * `limits.duplicate_window_ms` when executors' clocks disagree (Redis bus).
 * Executors on other hosts share a consumer group, and their clocks are
 * never exactly equal. The window must not be measured with the deciding
 * executor's clock against a time another executor wrote. It is the
 * lifetime of the mark on the bus (the key's expiry, kept by Redis's own
 * clock), so a copy that arrives while the mark is there is denied whatever
 * the executor's clock says.
 *
 * The attack: executor A executes an order. Executor B's clock runs ahead
 * (libfaketime, +50 s), inside the tolerance this test gives the bus clock
 * guard (`max_bus_clock_skew_ms` 60 s), so B decides. B decides a copy of
 * the order under a new plan_id a few seconds later, well inside the 40 s
 * window on the bus. Measured with B's clock, the copy looks more than 50 s
 * after A's mark, so B would execute it: the same order twice. (The same
 * holds at the default 1 s tolerance for any window shorter than the skew:
 * wire-v1's example window is 2 s.)
 *
 * The embedded bus is not tested here: its executors share one host and
 * one clock.
 */
import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, inject, it } from "vitest";
import { ExecutorHarness, entryFields, type PlanSpec } from "../support/executorHarness.js";
import { libfaketime } from "../support/libfaketime.js";

const WINDOW_MS = 40_000;
const AHEAD_S = 50;

let h: ExecutorHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe("the duplicate window across executors whose clocks disagree (redis)", () => {
  it("an executor whose clock runs ahead still denies a copy while the mark is on the bus", async () => {
    h = await ExecutorHarness.create({ bus: "redis", redisUrl: inject("redisUrl") });
    const harness = h;
    const config = harness.writeConfig({
      limits: { duplicate_window_ms: WINDOW_MS },
      max_bus_clock_skew_ms: 60_000,
    });
    const tag = randomBytes(3).toString("hex");
    const order = (planId: string): PlanSpec => ({
      planId,
      lane: "main",
      account: "acct-skew",
      symbol: "BTCUSDT",
      side: "BUY",
      qty: "0.25",
      auth: "ok",
    });

    // A, clock right: executes the order and marks it for the window
    const [a] = await harness.start([`skew-a-${tag}`], { config });
    const first = await harness.decide(order(`skew-${tag}-1`));
    expect(first.result.decision).toBe("EXECUTED");
    const executedAt = Date.now();
    expect((await a!.stop()).code).toBe(0);

    // B, clock 50 s ahead: the copy (signed at B's time, so it is fresh to B)
    const env = harness.childEnv({
      LD_PRELOAD: libfaketime(),
      FAKETIME: `+${AHEAD_S}s`,
      FAKETIME_DONT_FAKE_MONOTONIC: "1",
    });
    const [b] = await harness.start([`skew-b-${tag}`], { config, env });
    const copy = order(`skew-${tag}-2`);
    const second = await harness.decide(copy, entryFields(copy, harness.secret, Date.now() + AHEAD_S * 1000));
    // B did run ahead (its result's timestamp is its own clock)
    expect(second.result.timestamp).toBeGreaterThan(Date.now() + (AHEAD_S - 20) * 1000);
    // and the copy came well inside the window by the real clock
    expect(Date.now() - executedAt).toBeLessThan(WINDOW_MS / 2);
    expect(second.result.error).toBe("limit:duplicate_order");
    expect(second.result.executed).toBe(false);
    expect((await b!.stop()).code).toBe(0);
  });
});
