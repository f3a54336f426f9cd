/**
 * `limits.duplicate_window_ms` across processes (issue 13): 3 real executor
 * processes in one consumer group share copies of the same orders, each
 * copy under its own plan_id, the orders in a random order and each
 * order's copies next to each other, read two at a time. Within the
 * window, exactly one copy of each order executes and every other is
 * denied `limit:duplicate_order`, on both buses: the mark is re-checked
 * inside the atomic commit, so two executors deciding copies at once
 * cannot both execute.
 */
import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, inject, it } from "vitest";
import { type BusKind, ExecutorHarness, type PlanSpec } from "../support/executorHarness.js";

const ORDERS = 200;
const COPIES = 5;

let h: ExecutorHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** A seeded shuffle (the seed is printed, so a failing order can be replayed). */
function shuffled<T>(xs: readonly T[], seed: number): T[] {
  const out = [...xs];
  let s = seed >>> 0;
  for (let i = out.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe.each<BusKind>(["redis", "sqlite"])("duplicate orders across 3 executors (%s)", (bus) => {
  it(`${ORDERS} orders × ${COPIES} copies under new plan_ids: one copy of each executes`, async () => {
    h = await ExecutorHarness.create({ bus, redisUrl: inject("redisUrl") });
    // Small batches, copies published next to each other: the executors decide copies of one order at the same time.
    const config = h.writeConfig({ limits: { duplicate_window_ms: 600_000 }, batch_size: 2 });
    const tag = randomBytes(3).toString("hex");
    const specs: PlanSpec[] = [];
    for (let o = 0; o < ORDERS; o++)
      for (let c = 0; c < COPIES; c++)
        specs.push({
          planId: `dw-${tag}-${o}-${c}`,
          lane: "main",
          account: ["acct-a", "acct-b"][o % 2]!,
          symbol: "BTCUSDT",
          side: o % 3 === 0 ? "SELL" : "BUY",
          qty: `0.${String(o + 1).padStart(3, "0")}`,
          auth: "ok",
        });
    // Orders shuffled, each order's copies kept together.
    const seed = Number.parseInt(randomBytes(4).toString("hex"), 16);
    const groups = shuffled(
      Array.from({ length: ORDERS }, (_, o) => specs.slice(o * COPIES, (o + 1) * COPIES)),
      seed,
    );
    const order = groups.flat();
    const procs = await h.start(["dw-1", "dw-2", "dw-3"], { config });
    // Small bursts with pauses, so that every executor gets to read while the others decide.
    const published = await h.publish(order, { burst: 50, pauseMs: 20 });
    const results = await h.waitForResults(published.length, 90_000);

    const byOrder = new Map<string, string[]>();
    const entries = new Set<string>();
    for (const { result } of results) {
      const key = `${result.lane}/${result.stream_id}`;
      expect(entries.has(key), `one result per entry (seed ${seed})`).toBe(false);
      entries.add(key);
      const content = `${result.account}|${result.side}|${result.qty}`;
      byOrder.set(content, [...(byOrder.get(content) ?? []), result.error ?? result.decision]);
    }
    expect(entries.size).toBe(ORDERS * COPIES);
    expect(byOrder.size).toBe(ORDERS);
    for (const [content, outcomes] of byOrder)
      expect(outcomes.sort(), `${content} (seed ${seed})`).toEqual([
        "EXECUTED",
        ...Array<string>(COPIES - 1).fill("limit:duplicate_order"),
      ]);
    // several executors decided copies at once (the point of the test)
    const perProc = procs.map((p) => p.logsWith("decision").length);
    expect(
      perProc.filter((n) => n > 0).length,
      `decisions per executor ${perProc.join("/")}`,
    ).toBeGreaterThanOrEqual(2);
    for (const p of procs) await p.stop();
    expect(await h.backend.pendingCount()).toBe(0);
    console.log(
      `[${bus}] ${ORDERS * COPIES} entries (seed ${seed}), per executor ${perProc.join("/")}: ${ORDERS} executed, ${ORDERS * (COPIES - 1)} duplicates denied`,
    );
  }, 150_000);
});
