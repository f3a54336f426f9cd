/**
 * Crash safety: while 5,000 signed plans stream in (paced over several
 * seconds), executor processes are SIGKILLed repeatedly while they hold
 * pending work (checked right before each kill, and confirmed after it: the
 * dead consumer still owns pending entries), and replaced by executors under
 * new consumer names. With a short claim_idle_ms the others reclaim what the
 * dead held. Afterwards every entry has exactly one result, every authentic
 * plan_id executed exactly once (no fill twice, none lost: positions are the
 * exact signed sum), nothing is pending, no delivery_limit result, DLQ empty.
 */
import { afterEach, describe, expect, inject, it } from "vitest";
import {
  type BusKind,
  checkExactlyOnce,
  ExecutorHarness,
  type ExecutorProcess,
  makePlans,
  type Published,
} from "../support/executorHarness.js";

const TOTAL = 5_000;
const KILLS_HOLDING_WORK = 5;
const MAX_KILL_ATTEMPTS = 15;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

let h: ExecutorHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

interface Kill {
  consumer: string;
  heldBefore: number;
  heldAfter: number;
}

/** Polls the victim's pending count until it holds entries (or `timeoutMs`); returns the count seen. */
async function waitUntilHolding(
  harness: ExecutorHarness,
  victim: ExecutorProcess,
  timeoutMs: number,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && victim.alive) {
    const n = await harness.pendingFor(victim.consumer);
    if (n > 0) return n;
    // The SQLite probe is synchronous: let the publisher (same event loop) go on between probes.
    await new Promise((r) => setImmediate(r));
  }
  return 0;
}

describe.each<BusKind>(["redis", "sqlite"])("executor crash (%s)", (bus) => {
  it(`SIGKILL executors holding pending work ≥${KILLS_HOLDING_WORK} times during ${TOTAL} plans: still exactly once`, async () => {
    const harness = await ExecutorHarness.create({ bus, redisUrl: inject("redisUrl") });
    h = harness;
    const config = harness.writeConfig({ claim_idle_ms: 500, max_deliveries: 1000, batch_size: 50 });
    const live: ExecutorProcess[] = await harness.start(["crash-1", "crash-2", "crash-3"], { config });
    let next = 4;

    const specs = makePlans(TOTAL, { dupEvery: 40, badEvery: 101, manualEvery: 9 });
    let publishing = true;
    const publishDone: Promise<Published[]> = harness
      .publish(specs, { burst: 50, pauseMs: 70 })
      .finally(() => {
        publishing = false;
      });

    const kills: Kill[] = [];
    let attempts = 0;
    await sleep(300);
    while (publishing && kills.filter((k) => k.heldAfter > 0).length < KILLS_HOLDING_WORK) {
      if (attempts >= MAX_KILL_ATTEMPTS) break;
      const ready = live.filter((p) => p.alive && p.logsWith("executor started").length > 0);
      if (ready.length === 0) {
        await sleep(50);
        continue;
      }
      const victim = ready[attempts % ready.length]!;
      attempts++;
      const heldBefore = await waitUntilHolding(harness, victim, 1500);
      if (heldBefore === 0) continue;
      victim.kill("SIGKILL");
      const status = await victim.exited;
      expect(status.signal).toBe("SIGKILL");
      await sleep(20);
      const heldAfter = await harness.pendingFor(victim.consumer);
      kills.push({ consumer: victim.consumer, heldBefore, heldAfter });
      live.splice(live.indexOf(victim), 1);
      live.push(harness.spawn(`crash-${next++}`, { config }));
      await sleep(250);
    }
    const published = await publishDone;
    expect(
      kills.filter((k) => k.heldAfter > 0).length,
      `kills that left the dead consumer holding entries: ${JSON.stringify(kills)}`,
    ).toBeGreaterThanOrEqual(KILLS_HOLDING_WORK);

    const results = await harness.waitForResults(published.length, 60_000);
    const summary = await checkExactlyOnce(harness, published, results);

    // The survivors and replacements stop cleanly.
    const statuses = await Promise.all(live.map((p) => p.stop()));
    for (const [i, s] of statuses.entries())
      expect(s, live[i]!.describe()).toEqual({ code: 0, signal: null });
    expect(await harness.backend.pendingCount()).toBe(0);
    console.log(
      `[${bus}] ${published.length} entries, ${kills.length} SIGKILLs (${attempts} attempts), held by the dead: ` +
        `${kills.map((k) => `${k.consumer}:${k.heldBefore}->${k.heldAfter}`).join(" ")}; ${JSON.stringify(summary.decisions)}`,
    );
  }, 120_000);
});
