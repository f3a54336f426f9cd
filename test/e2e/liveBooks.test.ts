/**
 * The ledger's live books under concurrency (issue 13, positions for live
 * venues): 3 executor processes finish many live Binance fills of one
 * account and symbol at once, BUY and SELL, some through a lost answer
 * (`UNKNOWN`, then reconciled). Each fill moves the book exactly once,
 * whichever executor writes it and however the writes race: a write whose
 * position another fill moved first writes nothing and is read again.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { storedDecimal } from "../../src/core/decimal.js";
import type { PlanResult } from "../../src/core/result.js";
import { BINANCE_ACCOUNT, type LiveStack, startLiveStack, warmUpLive } from "../support/liveStack.js";

const N = 60;

/** The entry's final result: its first that is not UNKNOWN (the reconciled follow-up after one). */
const finalOf = (rs: PlanResult[], id: string): PlanResult | undefined =>
  rs.find((r) => r.stream_id === id && r.decision !== "UNKNOWN");

describe.each(["redis", "sqlite"] as const)("live books across 3 executors (%s bus)", (bus) => {
  let stack: LiveStack;

  beforeAll(async () => {
    // small batches, so the three executors share the plans and their writes race
    const executor = { batch_size: 2 };
    stack = await startLiveStack(bus === "redis" ? { redisUrl: inject("redisUrl"), executor } : { executor });
    for (const name of ["book-1", "book-2", "book-3"]) await stack.startExecutor(name);
    await warmUpLive(stack, "binance-usdm");
  }, 120_000);

  afterAll(async () => {
    await stack?.close();
  }, 60_000);

  const book = async (): Promise<bigint> => {
    const p = (await stack.backend.positions()).find(
      (x) => x.venue === "binance-usdm" && x.mode === "live" && x.account === BINANCE_ACCOUNT,
    );
    return p === undefined ? 0n : storedDecimal(p.qty, "book");
  };
  const venue = (): bigint =>
    storedDecimal(stack.emulator.state.position(BINANCE_ACCOUNT, "BTCUSDT"), "venue");

  it(`${N} fills racing on one book, some UNKNOWN then reconciled: the book moves exactly as the venue's position`, async () => {
    const [bookBefore, venueBefore] = [await book(), venue()];
    // every sixth order's answer is lost after the venue placed it: UNKNOWN, then reconciled
    stack.emulator.faults.inject("order", { kind: "drop_response", process: true }, { times: N / 6 });
    const rnd = randomBytes(N * 2);
    const ids = await Promise.all(
      Array.from({ length: N }, (_, i) =>
        stack.publish({ side: rnd[i]! % 2 === 0 ? "BUY" : "SELL", qty: `0.00${2 + (rnd[N + i]! % 8)}` }),
      ),
    );
    const rs = await stack.waitFor((x) => ids.every((id) => finalOf(x, id) !== undefined), 120_000);
    let filled = 0n;
    let unknown = 0;
    for (const id of ids) {
      const mine = rs.filter((r) => r.stream_id === id);
      const final = finalOf(rs, id)!;
      expect(final, `${id}: ${JSON.stringify(mine)}`).toMatchObject({ decision: "EXECUTED", mode: "live" });
      if (mine[0]!.decision === "UNKNOWN") unknown++;
      const qty = storedDecimal(final.fill_qty!, "fill");
      filled += final.side === "BUY" ? qty : -qty;
    }
    expect(unknown, "some answers were lost and reconciled").toBeGreaterThan(0);
    expect(venue() - venueBefore).toBe(filled);
    expect((await book()) - bookBefore).toBe(filled);
    const perExecutor = stack.executors().map((p) => (p.output().match(/"decision"/g) ?? []).length);
    expect(
      perExecutor.filter((n) => n > 0).length,
      `results per executor ${perExecutor}`,
    ).toBeGreaterThanOrEqual(2);
  }, 180_000);
});
