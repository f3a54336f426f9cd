/**
 * End to end through real processes: executor (remote plane) → signer
 * process (vault) → Binance USDⓈ-M emulator on 127.0.0.1, on a real bus.
 */
import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { PlanResult } from "../../src/core/result.js";
import { BAD_SIG_ACCOUNT, type LiveStack, READ_KEY_ACCOUNT, startLiveStack } from "../support/liveStack.js";

const byStream = (rs: PlanResult[], id: string) => rs.filter((r) => r.stream_id === id);

describe.each(["redis", "sqlite"] as const)("live Binance end to end (%s bus)", (bus) => {
  let stack: LiveStack;

  beforeAll(async () => {
    stack = await startLiveStack(bus === "redis" ? { redisUrl: inject("redisUrl") } : {});
    await stack.startExecutor("e2e-1");
  }, 60_000);

  afterAll(async () => {
    await stack?.close();
  }, 60_000);

  it("a plan is signed by the signer process and executed live at the venue, once", async () => {
    const id = await stack.publish({ qty: "0.01", side: "BUY" });
    const rs = await stack.waitFor((r) => byStream(r, id).length === 1);
    const [r] = byStream(rs, id);
    expect(r).toMatchObject({
      decision: "EXECUTED",
      mode: "live",
      executed: true,
      error: null,
      venue: "binance-usdm",
    });
    expect(r!.order_id).toMatch(/^\d+$/);
    expect(r!.fill_qty).toBe("0.01");
    // the fill moved the account's live Binance book in the ledger, written with the result
    expect(
      (await stack.backend.positions()).filter((p) => p.venue === "binance-usdm" && p.mode === "live"),
    ).toEqual([{ venue: "binance-usdm", mode: "live", account: r!.account, symbol: "BTCUSDT", qty: "0.01" }]);
    expect(stack.emulator.state.countOrders(r!.client_order_id!)).toBe(1);
    expect(
      stack.emulator.state.position(stack.emulator.state.orders({})[0]!.account, "BTCUSDT"),
    ).toBeDefined();
  });

  it("a reduce-only order the venue rejects fails with venue_error:reduce_only_rejected and places nothing", async () => {
    const id = await stack.publish(
      { symbol: "ETHUSDT", side: "SELL", reduce_only: true, qty: "0.5" },
      { exit: true },
    );
    const [r] = byStream(await stack.waitFor((x) => byStream(x, id).length === 1), id);
    expect(r).toMatchObject({
      decision: "FAILED",
      mode: "live",
      executed: false,
      error: "venue_error:reduce_only_rejected",
    });
    expect(stack.emulator.state.countOrders(r!.client_order_id!)).toBe(0);
  });

  it("the signer's own limit denies an order the executor allowed: signer_denied:policy:max_notional", async () => {
    const id = await stack.publish({ qty: "1" }); // 65,000 notional > the signer's 50,000
    const [r] = byStream(await stack.waitFor((x) => byStream(x, id).length === 1), id);
    expect(r).toMatchObject({ decision: "DENIED", mode: "live", error: "signer_denied:policy:max_notional" });
    expect(stack.emulator.state.countOrders(r!.client_order_id!)).toBe(0);
  });

  it("an account with a read-only API key (read_api_key_env): reads use it, the order the trade key", async () => {
    const id = await stack.publish({ account: READ_KEY_ACCOUNT, qty: "0.01" });
    const [r] = byStream(await stack.waitFor((x) => byStream(x, id).length === 1), id);
    expect(r).toMatchObject({ decision: "EXECUTED", mode: "live", error: null });
    expect(stack.emulator.state.countOrders(r!.client_order_id!)).toBe(1);
    // The account became ready through a signed read (positionRisk) made with the read-only key,
    // and the audit says which key signed each request.
    const audit = await readFile(stack.auditPath, "utf8");
    const lines = audit
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.account === READ_KEY_ACCOUNT && l.decision === "granted");
    const keyOf = (action: string) =>
      lines.filter((l) => (l.target as { action?: string } | null)?.action === action).map((l) => l.key);
    expect(keyOf("position_risk").length).toBeGreaterThan(0);
    expect(new Set(keyOf("position_risk"))).toEqual(new Set(["read_only"]));
    expect(keyOf("order")).toEqual(["trade"]);
  });

  it("an account whose credentials fail the readiness check is denied venue_not_ready, never filled on paper", async () => {
    const id = await stack.publish({ account: BAD_SIG_ACCOUNT });
    const [r] = byStream(await stack.waitFor((x) => byStream(x, id).length === 1), id);
    expect(r).toMatchObject({
      decision: "DENIED",
      executed: false,
      mode: "live",
      error: "venue_not_ready:binance-usdm",
    });
    expect(stack.emulator.state.countOrders(r!.client_order_id!)).toBe(0);
    // nothing on paper, and nothing in the account's live book
    const positions = await stack.backend.positions();
    expect(positions.filter((p) => p.mode === "paper" || p.account === BAD_SIG_ACCOUNT)).toEqual([]);
  });

  // Last: a rotated key also makes the account fail its next readiness check (venue_not_ready until it recovers).
  it("a signature the venue rejects (a rotated key) fails with a clear reason and places nothing", async () => {
    stack.emulator.state.setSecret(stack.secrets.apiKey, "rotated-at-the-venue");
    try {
      const id = await stack.publish({});
      const [r] = byStream(await stack.waitFor((x) => byStream(x, id).length === 1), id);
      expect(r).toMatchObject({ decision: "FAILED", mode: "live", error: "venue_error:bad_signature" });
      expect(stack.emulator.state.countOrders(r!.client_order_id!)).toBe(0);
    } finally {
      stack.emulator.state.setSecret(stack.secrets.apiKey, stack.secrets.binanceSecret);
    }
  });
});
