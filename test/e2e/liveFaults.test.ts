/**
 * Every fault kind, 20 times each, end to end (executor process → signer
 * process → emulator): each plan ends with exactly one order at the venue
 * when it was placed and none when it was not, a correct final result, and
 * at most one `UNKNOWN` followed by exactly one `reconciled: true` result.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { storedDecimal } from "../../src/core/decimal.js";
import type { PlanResult } from "../../src/core/result.js";
import type { EmulatorFault as BinanceFault } from "../../src/emulators/binance/emulatorFaults.js";
import type { EmulatorFault as PmFault } from "../../src/emulators/polymarket/faults.js";
import { type LiveStack, type Proc, startLiveStack, stopProc, warmUpLive } from "../support/liveStack.js";

const N = 20;

/** The ledger's live book of `venue`, summed over accounts and symbols (in units of 1e-18, exact). */
async function liveBookOf(stack: LiveStack, venue: string): Promise<bigint> {
  let sum = 0n;
  for (const p of await stack.backend.positions())
    if (p.venue === venue && p.mode === "live") sum += decimalUnits(p.qty);
  return sum;
}
/** A decimal's value in units of 1e-18 (core's exact decimal). */
const decimalUnits = (text: string): bigint => storedDecimal(text, "qty");

/** The results of one entry once it has its final one (a first non-UNKNOWN, or the reconciled follow-up). */
function finalOf(rs: PlanResult[], id: string): PlanResult | undefined {
  const mine = rs.filter((r) => r.stream_id === id);
  return mine.find((r) => r.decision !== "UNKNOWN");
}

async function settle(stack: LiveStack, ids: string[], ms = 60_000): Promise<PlanResult[]> {
  return stack.waitFor((rs) => ids.every((id) => finalOf(rs, id) !== undefined), ms);
}

/** The wire-v1 §6 shape: [final] or [UNKNOWN, final with reconciled: true], never anything else. */
function expectShape(rs: PlanResult[], id: string, expectUnknown: boolean | "either"): PlanResult {
  const mine = rs.filter((r) => r.stream_id === id);
  if (mine.length === 1) {
    if (expectUnknown === true) expect.fail(`expected an UNKNOWN first for ${id}: ${JSON.stringify(mine)}`);
    expect(mine[0]!.decision).not.toBe("UNKNOWN");
    expect(mine[0]!.reconciled).toBeUndefined();
    return mine[0]!;
  }
  if (expectUnknown === false) expect.fail(`expected no UNKNOWN for ${id}: ${JSON.stringify(mine)}`);
  expect(mine).toHaveLength(2);
  expect(mine[0]!.decision).toBe("UNKNOWN");
  expect(mine[0]!.mode).toBe("live");
  expect(mine[1]!.reconciled).toBe(true);
  expect(["EXECUTED", "FAILED"]).toContain(mine[1]!.decision);
  expect(mine[1]!.client_order_id).toBe(mine[0]!.client_order_id);
  return mine[1]!;
}

describe("live faults, Binance USDⓈ-M (redis bus)", () => {
  let stack: LiveStack;

  beforeAll(async () => {
    stack = await startLiveStack({ redisUrl: inject("redisUrl") });
    await stack.startExecutor("faults-b1");
    await warmUpLive(stack, "binance-usdm");
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
  }, 60_000);

  const cases: Array<{ name: string; fault: BinanceFault; placed: boolean; unknown: boolean | "either" }> = [
    {
      name: "timeout after the order was accepted",
      fault: { kind: "timeout_after_accept", holdMs: 3000 },
      placed: true,
      unknown: true,
    },
    {
      name: "dropped response, order placed",
      fault: { kind: "drop_response", process: true },
      placed: true,
      unknown: true,
    },
    {
      name: "dropped response, order not placed",
      fault: { kind: "drop_response", process: false },
      placed: false,
      unknown: true,
    },
    {
      name: "HTTP 503 after the order was placed",
      fault: { kind: "http_error", status: 503, process: true },
      placed: true,
      unknown: true,
    },
    {
      name: "HTTP 502, order not placed",
      fault: { kind: "http_error", status: 502, process: false },
      placed: false,
      unknown: true,
    },
    {
      name: "-1007 execution status unknown, order placed",
      fault: { kind: "status_unknown", code: -1007, process: true },
      placed: true,
      unknown: true,
    },
    {
      name: "-1006 execution status unknown, order not placed",
      fault: { kind: "status_unknown", code: -1006, process: false },
      placed: false,
      unknown: true,
    },
    { name: "latency within the timeout", fault: { kind: "latency", ms: 300 }, placed: true, unknown: false },
  ];

  for (const c of cases) {
    it(`${c.name}: ${N} plans, exactly ${c.placed ? "one order each" : "no order"}, correct final results`, async () => {
      const bookBefore = await liveBookOf(stack, "binance-usdm");
      stack.emulator.faults.inject("order", c.fault, { times: N });
      const ids: string[] = [];
      for (let i = 0; i < N; i++) ids.push(await stack.publish({ qty: "0.01" }));
      const rs = await settle(stack, ids);
      let filled = 0n;
      for (const id of ids) {
        const final = expectShape(rs, id, c.unknown);
        expect(final.mode).toBe("live");
        expect(final.decision).toBe(c.placed ? "EXECUTED" : "FAILED");
        if (!c.placed) expect(final.error).toBe("venue_error:order_not_found");
        expect(stack.emulator.state.countOrders(final.client_order_id!)).toBe(c.placed ? 1 : 0);
        if (final.decision === "EXECUTED") filled += decimalUnits(final.fill_qty!);
      }
      // every fill moved the ledger's live book once, whether its result came first time or reconciled
      expect(filled).toBe(c.placed ? BigInt(N) * 10n ** 16n : 0n);
      expect((await liveBookOf(stack, "binance-usdm")) - bookBefore).toBe(filled);
      expect(stack.emulator.faults.pending()).toBe(0);
    }, 90_000);
  }

  it(`clock skew: detected (-1021, nothing placed) and corrected; ${N} later plans execute`, async () => {
    // The venue's clock falls 1.5 s behind: uncorrected timestamps are > 1 s ahead of it (-1021).
    stack.emulator.faults.setClockSkew(-1500);
    try {
      const first = await stack.publish({ qty: "0.01" });
      const rs1 = await settle(stack, [first]);
      const f = expectShape(rs1, first, false);
      if (f.decision === "FAILED") {
        expect(f.error).toBe("venue_error:timestamp_outside_recv_window");
        expect(stack.emulator.state.countOrders(f.client_order_id!)).toBe(0);
      }
      const ids: string[] = [];
      for (let i = 0; i < N; i++) ids.push(await stack.publish({ qty: "0.01" }));
      const rs = await settle(stack, ids);
      for (const id of ids) {
        const final = expectShape(rs, id, false);
        expect(final).toMatchObject({ decision: "EXECUTED", mode: "live" });
        expect(stack.emulator.state.countOrders(final.client_order_id!)).toBe(1);
      }
    } finally {
      stack.emulator.faults.setClockSkew(0);
    }
  }, 90_000);
});

describe("live faults, Polymarket CLOB (sqlite bus)", () => {
  let stack: LiveStack;

  beforeAll(async () => {
    stack = await startLiveStack();
    await stack.startExecutor("faults-p1");
    await warmUpLive(stack, "polymarket");
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
  }, 60_000);

  const cases: Array<{ name: string; fault: PmFault; placed: boolean; unknown: boolean }> = [
    {
      name: "timeout after the order was accepted",
      fault: { kind: "timeout", holdMs: 3000, process: true },
      placed: true,
      unknown: true,
    },
    {
      name: "dropped response, order placed",
      fault: { kind: "drop", process: true },
      placed: true,
      unknown: true,
    },
    {
      name: "dropped response, order not placed",
      fault: { kind: "drop", process: false },
      placed: false,
      unknown: true,
    },
    {
      name: "HTTP 500 after the order was placed",
      fault: { kind: "http_5xx", status: 500, process: true },
      placed: true,
      unknown: true,
    },
    {
      name: "HTTP 503, order not placed",
      fault: { kind: "http_5xx", status: 503, process: false },
      placed: false,
      unknown: true,
    },
    { name: "latency within the timeout", fault: { kind: "latency", ms: 300 }, placed: true, unknown: false },
  ];

  for (const c of cases) {
    it(`${c.name}: ${N} plans, exactly ${c.placed ? "one order each" : "no order"}, correct final results`, async () => {
      const before = stack.polymarket.orders().length;
      stack.polymarket.faults.inject(c.fault, { times: N });
      const ids: string[] = [];
      for (let i = 0; i < N; i++) ids.push(await stack.publishPm({}));
      const rs = await settle(stack, ids, 120_000);
      const orders = stack.polymarket.orders();
      expect(orders.length - before).toBe(c.placed ? N : 0);
      const hashes = new Set(orders.map((o) => o.orderHash));
      for (const id of ids) {
        const final = expectShape(rs, id, c.unknown);
        expect(final.mode).toBe("live");
        expect(final.decision).toBe(c.placed ? "EXECUTED" : "FAILED");
        if (c.placed) expect(hashes.has(final.order_id!)).toBe(true);
      }
      // each executed plan names a distinct order: no plan placed two
      const executed = ids.map((id) => finalOf(rs, id)!).filter((r) => r.decision === "EXECUTED");
      expect(new Set(executed.map((r) => r.order_id)).size).toBe(executed.length);
    }, 150_000);
  }
});

describe("executor crash with live orders in flight (sqlite bus)", () => {
  let stack: LiveStack;

  beforeAll(async () => {
    stack = await startLiveStack();
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
  }, 60_000);

  it(`SIGKILL while ${N} orders are in flight: the survivor looks them up and never sends again`, async () => {
    const victim: Proc = await stack.startExecutor("crash-victim");
    // the venue takes 2 s to answer each order; the executor dies before any answer arrives
    stack.emulator.faults.inject("order", { kind: "latency", ms: 2000 }, { times: N });
    const ids: string[] = [];
    for (let i = 0; i < N; i++) ids.push(await stack.publish({ qty: "0.01" }));
    const t0 = Date.now();
    while (stack.emulator.requests("order").length < N && Date.now() - t0 < 20_000)
      await new Promise((r) => setTimeout(r, 20));
    victim.child.kill("SIGKILL");
    await victim.exited;
    await stack.startExecutor("crash-survivor");
    const rs = await settle(stack, ids);
    for (const id of ids) {
      const final = expectShape(rs, id, "either");
      expect(final).toMatchObject({ decision: "EXECUTED", mode: "live" });
      expect(stack.emulator.state.countOrders(final.client_order_id!)).toBe(1);
    }
    // the survivor sent nothing: the only order requests are the victim's N
    expect(stack.emulator.requests("order").length).toBe(N);
    await stopProc(victim);
  }, 90_000);

  it("on start, open UNKNOWNs are reconciled before new plans for that venue go live", async () => {
    for (const p of [...stack.executors()]) await stopProc(p);
    // The venue can be asked nothing: the executor's UNKNOWN stays open when it stops.
    stack.emulator.faults.inject(
      "queryOrder",
      { kind: "http_error", status: 503, process: false },
      { times: Infinity },
    );
    stack.emulator.faults.inject("order", { kind: "drop_response", process: true });
    const first = await stack.startExecutor("start-1");
    const open = await stack.publish({ qty: "0.01" });
    await stack.waitFor((rs) => rs.some((r) => r.stream_id === open && r.decision === "UNKNOWN"));
    await stopProc(first);

    // A new executor starts while the UNKNOWN cannot be reconciled: Binance is not ready, so a new plan
    // is denied venue_not_ready (never filled on paper), and the venue gets no new order.
    const ordersBefore = stack.emulator.state.orders().length;
    await stack.startExecutor("start-2");
    const next = await stack.publish({ qty: "0.02" });
    const rs1 = await stack.waitFor((rs) => rs.some((r) => r.stream_id === next));
    expect(rs1.find((r) => r.stream_id === next)).toMatchObject({
      decision: "DENIED",
      mode: "live",
      error: "venue_not_ready:binance-usdm",
    });
    expect(stack.emulator.state.orders().length).toBe(ordersBefore);
    expect(stack.executorOutput()).toContain(
      "open UNKNOWN orders from before the start are not reconciled yet",
    );

    // The venue answers again: the UNKNOWN gets its one reconciled result, then plans go live again.
    stack.emulator.faults.clear();
    const rs2 = await stack.waitFor((rs) => rs.some((r) => r.stream_id === open && r.reconciled === true));
    const mine = rs2.filter((r) => r.stream_id === open);
    expect(mine.map((r) => r.decision)).toEqual(["UNKNOWN", "EXECUTED"]);
    expect(stack.emulator.state.countOrders(mine[1]!.client_order_id!)).toBe(1);
    const later = await stack.publish({ qty: "0.03" });
    const rs3 = await stack.waitFor((rs) => rs.some((r) => r.stream_id === later));
    expect(rs3.find((r) => r.stream_id === later)).toMatchObject({ decision: "EXECUTED", mode: "live" });
  }, 90_000);
});
