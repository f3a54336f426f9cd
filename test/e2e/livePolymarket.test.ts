/**
 * End to end through real processes on the Polymarket CLOB: executor (remote
 * plane) → signer process (EIP-712 order + L2 headers) → CLOB emulator.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PlanResult } from "../../src/core/result.js";
import { type LiveStack, startLiveStack, warmUpLive } from "../support/liveStack.js";
import { PM_ADDRESS, PM_NEG_TOKEN, PM_TOKEN } from "../support/polymarketWorld.js";

const only = (rs: PlanResult[], id: string) => {
  const mine = rs.filter((r) => r.stream_id === id);
  expect(mine).toHaveLength(1);
  return mine[0]!;
};

describe("live Polymarket end to end (sqlite bus)", () => {
  let stack: LiveStack;

  beforeAll(async () => {
    stack = await startLiveStack();
    await stack.startExecutor("pm-1");
    await warmUpLive(stack, "polymarket");
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
  }, 60_000);

  const settle = (id: string) => stack.waitFor((rs) => rs.some((r) => r.stream_id === id));

  it("a LIMIT BUY is signed (EIP-712 V2 order + L2 headers) by the signer process and placed once", async () => {
    const id = await stack.publishPm({ qty: "10", price: "0.5" });
    const r = only(await settle(id), id);
    expect(r).toMatchObject({ decision: "EXECUTED", mode: "live", venue: "polymarket", error: null });
    const placed = stack.polymarket.orders().filter((o) => o.orderHash === r.order_id);
    expect(placed).toHaveLength(1);
    expect(stack.polymarket.balance(PM_ADDRESS, PM_TOKEN)).not.toBe("0");
  });

  it("a neg-risk market's order is signed for the neg-risk exchange and accepted", async () => {
    const id = await stack.publishPm({ symbol: PM_NEG_TOKEN, qty: "10", price: "0.25" });
    const r = only(await settle(id), id);
    expect(r).toMatchObject({ decision: "EXECUTED", mode: "live" });
    expect(stack.polymarket.orders().filter((o) => o.orderHash === r.order_id)).toHaveLength(1);
  });

  it("a reduce-only SELL of more than the account holds is refused and places nothing", async () => {
    const before = stack.polymarket.orders().length;
    const id = await stack.publishPm({ side: "SELL", reduce_only: true, qty: "100000" }, { exit: true });
    const r = only(await settle(id), id);
    expect(r).toMatchObject({ decision: "FAILED", mode: "live", error: "venue_error:reduce_only_rejected" });
    expect(stack.polymarket.orders().length).toBe(before);
  });

  it("a price off the market's tick is refused before anything is signed or sent", async () => {
    const before = stack.polymarket.orders().length;
    const id = await stack.publishPm({ price: "0.505" });
    const r = only(await settle(id), id);
    expect(r).toMatchObject({ decision: "DENIED", error: "invalid_plan:tick_size" });
    expect(stack.polymarket.orders().length).toBe(before);
  });
});
