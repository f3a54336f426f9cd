/**
 * Working orders at live venues, end to end through real processes: three
 * executors, the signer process and both venue emulators on a real Redis.
 * Cancel plans cancel at the venue; fills and venue cancels are followed
 * as order events (wire-v1 §4a); HALTED and REDUCING cancel at the venue
 * (§7); and when every executor is killed, the venues' own dead-man
 * switches cancel the resting orders.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { OrderEvent } from "../../src/core/orderEvent.js";
import type { PlanResult } from "../../src/core/result.js";
import type { WorkingOrder } from "../../src/core/workingOrder.js";
import {
  BINANCE_ACCOUNT,
  EXIT_SOURCE,
  type LiveStack,
  type Proc,
  startLiveStack,
  warmUpLive,
} from "../support/liveStack.js";
import { PM_ACCOUNT, PM_CANARY, PM_TOKEN } from "../support/polymarketWorld.js";
import { waitUntil as waitFor } from "../support/waitUntil.js";

const RECONCILE_MS = 2000;
const COUNTDOWN_MS = 3000;
const HEARTBEAT_TIMEOUT_MS = 3000;
/** A book the tests' Polymarket BUYs at 0.5 rest against (nothing offered at or below 0.5). */
const PM_BOOK = { bids: [{ price: "0.3", size: "100000" }], asks: [{ price: "0.7", size: "100000" }] };

/** What a timed-out wait prints: the working orders and what the venues hold open. */
let explainState: (() => Promise<unknown>) | undefined;

/** The shared wait, its timeout message carrying the state {@link explainState} describes. */
const waitUntil = <T>(
  what: string,
  fn: () => Promise<T | undefined> | T | undefined,
  ms = 30_000,
): Promise<T> =>
  waitFor(async () => `${what}; state: ${JSON.stringify(await explainState?.())}`, fn, {
    timeoutMs: ms,
    pollMs: 50,
  });

describe("live working orders: cancels, fills, HALT at the venue, dead-man switches (redis bus, 3 executors)", () => {
  let stack: LiveStack;
  let redis: Redis;

  const resultOf = async (id: string): Promise<PlanResult> =>
    waitUntil(`the result of ${id}`, async () =>
      (await stack.results()).find((r) => r.stream_id === id && r.decision !== "UNKNOWN"),
    );
  const events = async (): Promise<OrderEvent[]> =>
    (await stack.backend.readOrderEvents("0", 100_000)).map((e) => e.event);
  const eventsOf = async (clientOrderId: string) =>
    (await events()).filter((e) => e.client_order_id === clientOrderId);
  const working = async (venue?: WorkingOrder["venue"]) =>
    (await stack.backend.workingOrders(venue)).filter((o) => o.mode === "live");
  const alerts = async (): Promise<Record<string, unknown>[]> =>
    (await redis.xrange(`${stack.prefix}stream:exit.alert`, "-", "+")).map(
      ([, fields]) => JSON.parse(fields[1] as string) as Record<string, unknown>,
    );
  const binanceOpen = () =>
    stack.emulator.state
      .orders({ account: BINANCE_ACCOUNT })
      .filter((o) => o.status === "NEW" || o.status === "PARTIALLY_FILLED");
  const pmOpen = () => stack.polymarket.orders().filter((o) => o.status === "LIVE");
  const cancelPlan = (target: PlanResult, over: Record<string, unknown> = {}) => ({
    action: "cancel",
    target_plan_id: target.plan_id,
    venue: target.venue,
    symbol: target.symbol,
    account: target.venue === "polymarket" ? PM_ACCOUNT : BINANCE_ACCOUNT,
    side: undefined,
    qty: undefined,
    ...over,
  });
  /** Places a resting LIMIT on Binance (BUY below the 65 000 mark) and waits until it is followed. */
  async function restBinance(price = "60000", over: Record<string, unknown> = {}): Promise<PlanResult> {
    const r = await resultOf(await stack.publish({ type: "LIMIT", price, qty: "0.01", ...over }));
    expect(r).toMatchObject({ decision: "EXECUTED", mode: "live", fill_qty: "0" });
    return r;
  }
  async function restPm(): Promise<PlanResult> {
    const r = await resultOf(await stack.publishPm({ price: "0.5", qty: "10" }));
    expect(r).toMatchObject({ decision: "EXECUTED", mode: "live", fill_qty: "0" });
    return r;
  }

  beforeAll(async () => {
    stack = await startLiveStack({
      redisUrl: inject("redisUrl"),
      executor: { reconcile_interval_ms: RECONCILE_MS },
      binance: { countdown_ms: COUNTDOWN_MS },
      polymarket: { heartbeat_every_ms: 1000 },
      polymarketEmulator: { heartbeatTimeoutMs: HEARTBEAT_TIMEOUT_MS },
    });
    redis = new Redis(inject("redisUrl"), { lazyConnect: false });
    explainState = async () => ({
      working: (await working()).map((o) => [o.venue, o.plan_id, o.order_id, o.fill_qty]),
      binanceOpen: binanceOpen().map((o) => o.clientOrderId),
      pmOpen: pmOpen().map((o) => o.orderHash),
      events: (await events()).slice(-10),
      executors: stack.executorOutput().slice(-3000),
    });
    for (const name of ["lo-1", "lo-2", "lo-3"]) await stack.startExecutor(name);
    await warmUpLive(stack, "binance-usdm");
    await warmUpLive(stack, "polymarket");
    stack.polymarket.setMarket(PM_TOKEN, { tickSize: "0.01", minOrderSize: "5", liquidity: PM_BOOK });
  }, 120_000);

  afterAll(async () => {
    redis?.disconnect();
    await stack?.close();
  }, 60_000);

  it("a resting live LIMIT is a working order; a cancel plan cancels it at the venue, once; a second cancel is order_not_open", async () => {
    for (const rest of [() => restBinance(), () => restPm()]) {
      const placed = await rest();
      const order = await waitUntil("the working order", async () =>
        (await working()).find((o) => o.plan_id === placed.plan_id),
      );
      expect(order).toMatchObject({ mode: "live", order_id: placed.order_id, fill_qty: "0" });
      const cancel = await resultOf(await stack.publish(cancelPlan(placed)));
      expect(cancel).toMatchObject({ decision: "EXECUTED", action: "cancel", error: null, mode: "live" });
      const evs = await eventsOf(placed.client_order_id!);
      expect(evs).toEqual([
        expect.objectContaining({ event: "CANCELED", cause: `plan:${cancel.plan_id}`, fill_qty: "0" }),
      ]);
      expect((await working()).some((o) => o.plan_id === placed.plan_id)).toBe(false);
      const again = await resultOf(await stack.publish(cancelPlan(placed)));
      expect(again).toMatchObject({ decision: "FAILED", error: "venue_error:order_not_open" });
    }
    expect(binanceOpen()).toEqual([]);
    expect(pmOpen()).toEqual([]);
  }, 60_000);

  it("a switch armed once stays refreshed after its orders ended: a later order is not cancelled by it", async () => {
    // Every order of both accounts ended in the test before. Placed shortly before a switch left
    // to run out would fire (the e2e run that found it placed 2.3 s after the last order ended).
    expect(await working()).toEqual([]);
    await sleep(HEARTBEAT_TIMEOUT_MS - 800);
    const b = await restBinance("60000");
    const p = await restPm();
    await sleep(Math.max(COUNTDOWN_MS, HEARTBEAT_TIMEOUT_MS) + 1000);
    expect(binanceOpen().map((o) => o.clientOrderId)).toEqual([b.client_order_id]);
    expect(pmOpen().map((o) => o.orderHash)).toEqual([p.order_id]);
    for (const placed of [b, p]) {
      expect(await eventsOf(placed.client_order_id!)).toEqual([]);
      const cancel = await resultOf(await stack.publish(cancelPlan(placed)));
      // (the error and the executors' last words, should it ever fail again: CI saw a FAILED once)
      expect(cancel, stack.executorOutput().slice(-3000)).toMatchObject({
        decision: "EXECUTED",
        error: null,
      });
    }
  }, 60_000);

  /** The ledger's live book of an account in a symbol, as a number (0 when flat). */
  const ledgerLive = async (venue: string, account: string, symbol: string): Promise<number> =>
    Number(
      (await stack.backend.positions()).find(
        (p) => p.venue === venue && p.mode === "live" && p.account === account && p.symbol === symbol,
      )?.qty ?? "0",
    );

  it("a fill at the venue is written once as a FILL event, moving the ledger's live book; a cancel after it is order_not_open", async () => {
    const booksBefore = [
      await ledgerLive("binance-usdm", BINANCE_ACCOUNT, "BTCUSDT"),
      await ledgerLive("polymarket", PM_ACCOUNT, PM_TOKEN),
    ];
    const b = await restBinance("61000");
    const p = await restPm();
    stack.emulator.state.setMarkPrice("BTCUSDT", "60500");
    stack.polymarket.setBook(PM_TOKEN, { bids: PM_BOOK.bids, asks: [{ price: "0.45", size: "100000" }] });
    for (const placed of [b, p]) {
      const [fill] = await waitUntil("the FILL event", async () => {
        const evs = await eventsOf(placed.client_order_id!);
        return evs.length > 0 ? evs : undefined;
      });
      expect(fill).toMatchObject({ event: "FILL", fill_qty: placed.qty, cause: null });
      const cancel = await resultOf(await stack.publish(cancelPlan(placed)));
      expect(cancel).toMatchObject({ decision: "FAILED", error: "venue_error:order_not_open" });
      expect(await eventsOf(placed.client_order_id!)).toHaveLength(1);
    }
    // each BUY's fill moved its live book by its qty (with the FILL event, in one write)
    expect(await ledgerLive("binance-usdm", BINANCE_ACCOUNT, "BTCUSDT")).toBeCloseTo(
      booksBefore[0]! + 0.01,
      12,
    );
    expect(await ledgerLive("polymarket", PM_ACCOUNT, PM_TOKEN)).toBeCloseTo(booksBefore[1]! + 10, 12);
    stack.emulator.state.setMarkPrice("BTCUSDT", "65000");
    stack.polymarket.setBook(PM_TOKEN, PM_BOOK);
  }, 60_000);

  it("a fill racing a cancel: one terminal outcome per order, its event once, the position right", async () => {
    for (let i = 0; i < 6; i++) {
      const before = Number(stack.emulator.state.position(BINANCE_ACCOUNT, "BTCUSDT"));
      const bookBefore = await ledgerLive("binance-usdm", BINANCE_ACCOUNT, "BTCUSDT");
      const placed = await restBinance("61000");
      const id = await stack.publish(cancelPlan(placed));
      await sleep(i * 7);
      stack.emulator.state.setMarkPrice("BTCUSDT", "60500");
      const cancel = await resultOf(id);
      const [order] = stack.emulator.state.orders({ clientOrderId: placed.client_order_id! });
      const evs = await waitUntil("the order's one terminal event", async () => {
        const e = await eventsOf(placed.client_order_id!);
        return e.length > 0 && !(await working()).some((o) => o.plan_id === placed.plan_id) ? e : undefined;
      });
      expect(evs).toHaveLength(1);
      const after = Number(stack.emulator.state.position(BINANCE_ACCOUNT, "BTCUSDT"));
      // the ledger's live book moved exactly as the venue's position did
      expect((await ledgerLive("binance-usdm", BINANCE_ACCOUNT, "BTCUSDT")) - bookBefore).toBeCloseTo(
        after - before,
        12,
      );
      if (order!.status === "FILLED") {
        expect(cancel).toMatchObject({ decision: "FAILED", error: "venue_error:order_not_open" });
        expect(evs[0]).toMatchObject({ event: "FILL", fill_qty: "0.01" });
        expect(after - before).toBeCloseTo(0.01, 8);
      } else {
        expect(order!.status).toBe("CANCELED");
        expect(cancel).toMatchObject({ decision: "EXECUTED" });
        expect(evs[0]).toMatchObject({ event: "CANCELED", cause: `plan:${cancel.plan_id}` });
        expect(after).toBeCloseTo(before, 8);
      }
      stack.emulator.state.setMarkPrice("BTCUSDT", "65000");
    }
  }, 120_000);

  it("an order partly filled, then cancelled by a plan: its fill moves the ledger's live book once, FILL then CANCELED", async () => {
    const bookBefore = await ledgerLive("binance-usdm", BINANCE_ACCOUNT, "BTCUSDT");
    const venueBefore = Number(stack.emulator.state.position(BINANCE_ACCOUNT, "BTCUSDT"));
    // above every other resting BUY: only this one meets the short ask
    const placed = await restBinance("62000");
    stack.emulator.state.setDepth("BTCUSDT", { bids: [], asks: [{ price: "61900", qty: "0.004" }] });
    const cancel = await resultOf(await stack.publish(cancelPlan(placed)));
    stack.emulator.state.clearDepth("BTCUSDT");
    expect(cancel).toMatchObject({ decision: "EXECUTED" });
    const evs = await waitUntil("the order's CANCELED event", async () => {
      const e = await eventsOf(placed.client_order_id!);
      const open = (await working()).some((o) => o.plan_id === placed.plan_id);
      return !open && e.some((x) => x.event === "CANCELED") ? e : undefined;
    });
    // whether the follower or the cancel saw the partial fill first, it is written once, before the cancel
    expect(evs.map((e) => [e.event, e.fill_qty])).toEqual([
      ["FILL", "0.004"],
      ["CANCELED", "0.004"],
    ]);
    const venueAfter = Number(stack.emulator.state.position(BINANCE_ACCOUNT, "BTCUSDT"));
    expect(venueAfter - venueBefore).toBeCloseTo(0.004, 12);
    expect((await ledgerLive("binance-usdm", BINANCE_ACCOUNT, "BTCUSDT")) - bookBefore).toBeCloseTo(
      0.004,
      12,
    );
  }, 60_000);

  it("HALTED cancels all 40 working orders at both venues within two reconcile intervals; orders are denied, cancels pass", async () => {
    const placed: PlanResult[] = [];
    for (let i = 0; i < 20; i++) placed.push(await restBinance("60000"), await restPm());
    await waitUntil("40 working orders", async () => ((await working()).length === 40 ? true : undefined));
    expect(binanceOpen()).toHaveLength(20);
    expect(pmOpen()).toHaveLength(20);
    const t0 = Date.now();
    await stack.backend.setTradingState("HALTED", "test:halt");
    await waitUntil("every order cancelled at the venues", () =>
      binanceOpen().length === 0 && pmOpen().length === 0 ? true : undefined,
    );
    const took = Date.now() - t0;
    console.log(
      `HALTED → 40 orders cancelled at the venues in ${took} ms (reconcile interval ${RECONCILE_MS} ms)`,
    );
    expect(took).toBeLessThan(2 * RECONCILE_MS);
    await waitUntil("no working orders", async () => ((await working()).length === 0 ? true : undefined));
    for (const p of placed) {
      const evs = await eventsOf(p.client_order_id!);
      expect(evs, p.client_order_id!).toEqual([
        expect.objectContaining({ event: "CANCELED", cause: "state:HALTED" }),
      ]);
    }
    const order = await resultOf(await stack.publish({ qty: "0.01" }));
    expect(order).toMatchObject({ decision: "DENIED", error: "trading_halted" });
    const cancel = await resultOf(await stack.publish(cancelPlan(placed[0]!)));
    expect(cancel.decision).not.toBe("DENIED");
    expect(cancel).toMatchObject({ decision: "FAILED", error: "venue_error:order_not_open" });
    await stack.backend.setTradingState("ACTIVE", "test:halt");
  }, 120_000);

  it("REDUCING cancels orders that are not reduce_only; a reduce_only one stays, and the exit owner's cancel plan cancels it", async () => {
    stack.emulator.state.setPosition(BINANCE_ACCOUNT, "BTCUSDT", "0.02");
    const opening = await restBinance("60000");
    const closing = await resultOf(
      await stack.publish(
        { type: "LIMIT", side: "SELL", price: "70000", qty: "0.01", reduce_only: true },
        { exit: true },
      ),
    );
    expect(closing).toMatchObject({ decision: "EXECUTED", fill_qty: "0", source: EXIT_SOURCE });
    await waitUntil("2 working orders", async () => ((await working()).length === 2 ? true : undefined));
    await stack.backend.setTradingState("REDUCING", "test:reducing");
    const [ev] = await waitUntil("the REDUCING cancel", async () => {
      const e = await eventsOf(opening.client_order_id!);
      return e.length > 0 ? e : undefined;
    });
    expect(ev).toMatchObject({ event: "CANCELED", cause: "state:REDUCING" });
    await sleep(RECONCILE_MS + 500);
    expect((await working()).map((o) => o.plan_id)).toEqual([closing.plan_id]);
    const cancel = await resultOf(await stack.publish(cancelPlan(closing), { exit: true }));
    expect(cancel).toMatchObject({ decision: "EXECUTED" });
    expect(await eventsOf(closing.client_order_id!)).toEqual([
      expect.objectContaining({ event: "CANCELED", cause: `plan:${cancel.plan_id}` }),
    ]);
    await stack.backend.setTradingState("ACTIVE", "test:reducing");
    stack.emulator.state.setPosition(BINANCE_ACCOUNT, "BTCUSDT", "0");
  }, 60_000);

  it("a HALT cancel the venue fails is retried with backoff and alerted once (order_cancel_failed)", async () => {
    const placed = await restBinance("60000");
    await waitUntil("the working order", async () => ((await working()).length === 1 ? true : undefined));
    stack.emulator.faults.inject(
      "cancelOrder",
      { kind: "http_error", status: 503, process: false },
      { times: 2 },
    );
    await stack.backend.setTradingState("HALTED", "test:retry");
    const [ev] = await waitUntil(
      "the cancel after two failures",
      async () => {
        const e = await eventsOf(placed.client_order_id!);
        return e.length > 0 ? e : undefined;
      },
      60_000,
    );
    expect(ev).toMatchObject({ event: "CANCELED", cause: "state:HALTED" });
    const failed = (await alerts()).filter(
      (a) => a.kind === "order_cancel_failed" && a.client_order_id === placed.client_order_id,
    );
    expect(failed).toEqual([
      expect.objectContaining({
        v: 1,
        severity: "critical",
        venue: "binance-usdm",
        account: BINANCE_ACCOUNT,
        dedup_key: `order_cancel_failed:binance-usdm:${placed.client_order_id}`,
      }),
    ]);
    expect(String(failed[0]!.error)).toMatch(/^venue_error:/);
    expect(stack.emulator.requests("cancelOrder").filter((r) => r.fault === "http_error")).toHaveLength(2);
    await stack.backend.setTradingState("ACTIVE", "test:retry");
  }, 90_000);

  it("a cancel whose answer is lost is UNKNOWN cancel_unknown, then reconciled once: EXECUTED, its CANCELED event once", async () => {
    const b = await restBinance("60000");
    const p = await restPm();
    await waitUntil("2 working orders", async () => ((await working()).length === 2 ? true : undefined));
    // Binance cancels the order but the answer is a 503; the Polymarket CLOB fails the first two cancels.
    stack.emulator.faults.inject(
      "cancelOrder",
      { kind: "http_error", status: 503, process: true },
      { times: 1 },
    );
    stack.polymarket.faults.inject(
      { kind: "http_5xx", status: 503, process: false },
      { method: "DELETE", path: "/order", times: 2 },
    );
    for (const placed of [b, p]) {
      const id = await stack.publish(cancelPlan(placed));
      const [unknown, follow] = await waitUntil(
        "the UNKNOWN and its reconciled follow-up",
        async () => {
          const rs = (await stack.results()).filter((r) => r.stream_id === id);
          return rs.length >= 2 ? rs : undefined;
        },
        30_000,
      );
      expect(unknown).toMatchObject({
        decision: "UNKNOWN",
        action: "cancel",
        executed: false,
        error: "venue_error:cancel_unknown",
      });
      expect(unknown!.reconciled).toBeUndefined();
      expect(follow).toMatchObject({ decision: "EXECUTED", executed: true, error: null, reconciled: true });
      await sleep(RECONCILE_MS + 500);
      expect((await stack.results()).filter((r) => r.stream_id === id)).toHaveLength(2);
      expect(await eventsOf(placed.client_order_id!)).toEqual([
        expect.objectContaining({ event: "CANCELED", cause: `plan:${unknown!.plan_id}` }),
      ]);
    }
    expect(await working()).toEqual([]);
    expect(binanceOpen()).toEqual([]);
    expect(pmOpen()).toEqual([]);
    expect(stack.polymarket.faults.pending()).toBe(0);
    expect(stack.emulator.faults.pending()).toBe(0);
  }, 90_000);

  it("every executor SIGKILLed: the venues' dead-man switches cancel the resting orders; a restarted executor says cause venue", async () => {
    const placed = [await restBinance("60000"), await restBinance("59000"), await restPm(), await restPm()];
    await waitUntil("4 working orders", async () => ((await working()).length === 4 ? true : undefined));
    await waitUntil("both dead-man switches armed", () =>
      stack.emulator.state.countdownArmed(BINANCE_ACCOUNT, "BTCUSDT") &&
      stack.polymarket.heartbeatActive(PM_CANARY.apiKey)
        ? true
        : undefined,
    );
    const live = stack
      .executors()
      .filter((p: Proc) => p.child.exitCode === null && p.child.signalCode === null);
    const t0 = Date.now();
    for (const p of live) p.child.kill("SIGKILL");
    await Promise.all(live.map((p) => p.exited));
    const tBinance = await waitUntil(
      "Binance's countdown",
      () => (binanceOpen().length === 0 ? Date.now() - t0 : undefined),
      20_000,
    );
    const tPm = await waitUntil(
      "Polymarket's heartbeat timeout",
      () => (pmOpen().length === 0 ? Date.now() - t0 : undefined),
      20_000,
    );
    console.log(
      `dead-man: Binance cancelled after ${tBinance} ms (countdown ${COUNTDOWN_MS}), Polymarket after ${tPm} ms (timeout ${HEARTBEAT_TIMEOUT_MS})`,
    );
    expect(tBinance).toBeLessThanOrEqual(COUNTDOWN_MS + 1000);
    expect(tPm).toBeLessThanOrEqual(HEARTBEAT_TIMEOUT_MS + 1000);
    // Nobody followed while they were down: the orders are still working in the ledger.
    expect((await working()).length).toBe(4);
    await stack.startExecutor("lo-4");
    await waitUntil(
      "no working orders",
      async () => ((await working()).length === 0 ? true : undefined),
      30_000,
    );
    for (const p of placed) {
      expect(await eventsOf(p.client_order_id!)).toEqual([
        expect.objectContaining({ event: "CANCELED", cause: "venue" }),
      ]);
    }
  }, 90_000);
});
