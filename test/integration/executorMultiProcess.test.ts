/**
 * Exactly once across processes: 3 real executor processes (the CLI) in one
 * consumer group share 10,000 signed plans (BUY/SELL of varied decimal
 * quantities over several accounts and symbols, both lanes, some producer
 * retries repeating a plan_id, some badly signed). Every entry must get exactly
 * one result, every authentic plan_id must execute exactly once, nothing may
 * stay pending, the DLQ must stay empty, and the paper positions must equal
 * the exact signed sum of the executed plans.
 */
import { afterEach, describe, expect, inject, it } from "vitest";
import { type BusKind, checkExactlyOnce, ExecutorHarness, makePlans } from "../support/executorHarness.js";

const TOTAL = Number(process.env.IG_EXEC_MP_TOTAL ?? 10_000);

let h: ExecutorHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe.each<BusKind>(["redis", "sqlite"])("executor multi-process (%s)", (bus) => {
  it(`3 executors, ${TOTAL} plans: one result per entry, each plan executed once, positions exact`, async () => {
    h = await ExecutorHarness.create({ bus, redisUrl: inject("redisUrl") });
    const config = h.writeConfig({ claim_idle_ms: 2000, batch_size: 100 });
    const specs = makePlans(TOTAL, { dupEvery: 50, badEvery: 97, manualEvery: 7 });
    const t0 = Date.now();
    const procs = await h.start(["mp-1", "mp-2", "mp-3"], { config });
    const tReady = Date.now();
    const published = await h.publish(specs, { burst: 1000 });
    const tPublished = Date.now();
    const results = await h.waitForResults(published.length, 90_000);
    const tDone = Date.now();
    const summary = await checkExactlyOnce(h, published, results);

    // Every executor took part, and each stopped cleanly (exit 0) on SIGTERM.
    for (const p of procs) expect(p.logsWith("decision").length, p.describe()).toBeGreaterThan(0);
    const decidedPerProc = procs.map((p) => p.logsWith("decision").length);
    const statuses = await Promise.all(procs.map((p) => p.stop()));
    for (const [i, s] of statuses.entries())
      expect(s, procs[i]!.describe()).toEqual({ code: 0, signal: null });
    expect(await h.backend.pendingCount()).toBe(0);
    console.log(
      `[${bus}] ${published.length} entries: start ${tReady - t0} ms, publish ${tPublished - tReady} ms, ` +
        `all results ${tDone - tReady} ms; per executor ${decidedPerProc.join("/")}; ${JSON.stringify(summary.decisions)}`,
    );
  }, 150_000);
});
