/**
 * The exposure caps on a live venue (issue 13, `limits.max_position` and
 * `limits.max_gross_notional`): an executor, the signer process and the
 * Binance emulator, on both buses. A resting live LIMIT counts toward the
 * position cap on its side and toward the gross notional at the venue's
 * mark price; live fills move the book the caps read; a mark price move is
 * followed; a reduce-only plan is never refused by either.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { storedDecimal } from "../../src/core/decimal.js";
import type { PlanResult } from "../../src/core/result.js";
import { BINANCE_ACCOUNT, type LiveStack, startLiveStack, warmUpLive } from "../support/liveStack.js";

const POLL_MS = 200;

describe.each(["redis", "sqlite"] as const)("live exposure caps (%s bus)", (bus) => {
  let stack: LiveStack;

  const resultOf = async (id: string): Promise<PlanResult> => {
    const rs = await stack.waitFor((x) => x.some((r) => r.stream_id === id && r.decision !== "UNKNOWN"));
    return rs.find((r) => r.stream_id === id && r.decision !== "UNKNOWN")!;
  };
  const outcome = async (over: Record<string, unknown>, opts?: { exit?: boolean }) => {
    const r = await resultOf(await stack.publish(over, opts));
    return r.error ?? `${r.decision} ${r.mode} ${r.fill_qty}`;
  };
  const book = async (): Promise<bigint> => {
    const p = (await stack.backend.positions()).find(
      (x) => x.venue === "binance-usdm" && x.mode === "live" && x.account === BINANCE_ACCOUNT,
    );
    return p === undefined ? 0n : storedDecimal(p.qty, "book");
  };
  /** Sets Binance's mark and waits until the executor has read it (a few polls). */
  const mark = async (price: string) => {
    stack.emulator.state.setMarkPrice("BTCUSDT", price);
    await sleep(POLL_MS * 5);
  };

  beforeAll(async () => {
    const executor = { limits: { max_position: { BTCUSDT: "0.05" }, max_gross_notional: "4000" } };
    const binance = { price_poll_ms: POLL_MS };
    stack = await startLiveStack(
      bus === "redis" ? { redisUrl: inject("redisUrl"), executor, binance } : { executor, binance },
    );
    await stack.startExecutor("exposure-1");
    await mark("65000");
    // one live MARKET BUY of 0.01 on success
    await warmUpLive(stack, "binance-usdm");
  }, 120_000);

  afterAll(async () => {
    await stack?.close();
  }, 60_000);

  it("a resting order counts on its side and at the mark; fills move what the caps read; reduce-only always passes", async () => {
    expect(await book()).toBe(10n ** 16n); // 0.01 from the warm-up
    // 0.01 held + 0.02 resting BUY (at 60000, below the mark) = 0.03; gross 650 + 1300
    expect(await outcome({ type: "LIMIT", price: "60000", qty: "0.02" })).toBe("EXECUTED live 0");
    // 0.01 + 0.02 resting + 0.03 = 0.06 > 0.05: the resting order counts (without it, 0.04 would pass)
    expect(await outcome({ qty: "0.03" })).toBe("limit:max_position");
    // 0.01 + 0.02 + 0.02 = 0.05, on the cap; gross 650 + 1300 + 1300 = 3250
    expect(await outcome({ qty: "0.02" })).toBe("EXECUTED live 0.02");
    expect(await book()).toBe(3n * 10n ** 16n);
    // a SELL counts BUY orders on neither side of its cap: -0.03 + 0.04 = 0.01 short is fine, but the
    // gross is 0.03 × 65000 + 0.02 × 65000 (the resting BUY at the mark) + 0.04 × 65000 = 5850 > 4000
    expect(await outcome({ side: "SELL", qty: "0.04" })).toBe("limit:max_gross_notional");
    expect(await outcome({ side: "SELL", qty: "0.01" })).toBe("EXECUTED live 0.01");
    // the mark doubles: 0.02 held and 0.02 resting are 5200 of gross, over the cap whatever is added
    await mark("130000");
    expect(await outcome({ qty: "0.001" })).toBe("limit:max_gross_notional");
    // the exit owner's reduce-only SELL is never refused by either cap
    expect(await outcome({ side: "SELL", qty: "0.02", reduce_only: true }, { exit: true })).toBe(
      "EXECUTED live 0.02",
    );
    expect(await book()).toBe(0n);
    // flat again, only the resting 0.02 BUY (2600 at this mark): a BUY of 0.01 (1300) fits both caps
    expect(await outcome({ qty: "0.01" })).toBe("EXECUTED live 0.01");
  }, 120_000);
});
