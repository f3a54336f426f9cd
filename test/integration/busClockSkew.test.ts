/**
 * An executor whose clock disagrees with the bus's decides nothing (Redis
 * bus, `max_bus_clock_skew_ms`). Freshness, permit expiry, rate windows and
 * the UTC day all read the executor's clock; executors on other hosts must
 * mean the same time by it.
 *
 * The attack: executor B's clock runs 100 s behind (libfaketime). A plan
 * created 120 s ago is stale (`max_plan_age_ms` 60 s), but by B's clock it
 * is 20 s old, so B would execute it. With the guard, B reads nothing while
 * its clock is off, says so (log line, `clock_skew` alert, `/readyz`), and
 * executor A, whose clock is right, takes the plan and denies it stale.
 */
import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, inject, it } from "vitest";
import { ExecutorHarness, entryFields, type PlanSpec } from "../support/executorHarness.js";
import { libfaketime } from "../support/libfaketime.js";
import { readAlerts } from "../support/readAlerts.js";
import { readProbe } from "../support/readProbe.js";

const BEHIND_S = 100;

let h: ExecutorHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe("an executor whose clock disagrees with the bus's (redis)", () => {
  it("decides nothing, says why, and leaves the plan to an executor whose clock is right", async () => {
    h = await ExecutorHarness.create({ bus: "redis", redisUrl: inject("redisUrl") });
    const harness = h;
    const config = harness.writeConfig({ limits: { max_plan_age_ms: 60_000 }, metrics_port: 0 });
    const tag = randomBytes(3).toString("hex");
    const behind = `clock-b-${tag}`;
    const env = harness.childEnv({
      LD_PRELOAD: libfaketime(),
      FAKETIME: `-${BEHIND_S}s`,
      FAKETIME_DONT_FAKE_MONOTONIC: "1",
    });
    const [b] = await harness.start([behind], { config, env });
    const line = await b!.waitForLog(
      (l) => l.msg?.includes("clock") === true && (l.level ?? 0) >= 50,
      "clock skew error line",
    );
    expect(line.offset_ms as number).toBeLessThanOrEqual(-(BEHIND_S - 10) * 1000);
    expect(line.tolerance_ms).toBe(1000);
    // not ready, and /readyz says why
    const port = (await b!.ready()).metrics_port as number;
    const readyz = await readProbe(port, "readyz");
    expect(readyz.status).toBe(503);
    expect(readyz.body.checks?.bus_clock?.ok).toBe(false);
    expect(readyz.body.checks?.bus_clock?.detail).toMatch(/behind the bus's/);

    // stale by the real clock, fresh by B's
    const spec: PlanSpec = {
      planId: `clock-${tag}`,
      lane: "main",
      account: "acct-clock",
      symbol: "BTCUSDT",
      side: "BUY",
      qty: "0.1",
      auth: "ok",
    };
    const [published] = await harness.publish([spec], {
      fields: (s) => entryFields(s, harness.secret, Date.now() - 120_000),
    });

    const [a] = await harness.start([`clock-a-${tag}`], { config });
    const { result } = await harness.waitForResult("main", published!.id);
    expect([result.decision, result.error, result.executed]).toEqual(["DENIED", "stale_plan", false]);
    // B never took it
    expect(await harness.pendingFor(behind)).toBe(0);

    const alert = (await readAlerts(harness.busUrl, harness.prefix)).find((x) => x.kind === "clock_skew");
    expect(alert).toMatchObject({
      v: 1,
      kind: "clock_skew",
      severity: "critical",
      consumer: behind,
      tolerance_ms: 1000,
    });
    expect(alert?.offset_ms as number).toBeLessThanOrEqual(-(BEHIND_S - 10) * 1000);
    expect((await b!.stop()).code).toBe(0);
    expect((await a!.stop()).code).toBe(0);
  });
});
