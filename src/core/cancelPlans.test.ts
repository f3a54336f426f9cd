import { describe, expect, it } from "vitest";
import {
  BRIDGE,
  dec,
  decide,
  EXIT_OWNER,
  makeFacts,
  makePolicy,
  NOW,
  OPERATOR,
  PAPER_BOOK,
  planEntry,
  planObject,
} from "../../test/support/coreFixtures.js";
import type { Decision } from "./decision.js";
import type { Facts } from "./facts.js";
import {
  CANCEL_UNKNOWN,
  type CancelRecord,
  completeLiveCancel,
  reconcileCancel,
  unknownCancelResult,
} from "./liveCancel.js";
import { parseOpenRecord } from "./openRecord.js";
import { followPaperOrders } from "./orderUpdate.js";
import { isRegisteredReason, type Reason } from "./reasons.js";
import { encodeWorkingOrder, type WorkingOrder } from "./workingOrder.js";

/** A working order resting on the paper venue, placed by `source` for `planId`. */
function resting(over: Partial<WorkingOrder> = {}): WorkingOrder {
  const planId = over.plan_id ?? "rest-1";
  return {
    key: planId,
    plan_id: planId,
    source: BRIDGE,
    lane: "main",
    stream_id: `${NOW - 5000}-0`,
    venue: "paper",
    mode: "paper",
    account: "default",
    symbol: "BTCUSDT",
    side: "BUY",
    qty: "1",
    price: "60000",
    reduce_only: false,
    client_order_id: `ig-${planId}`,
    order_id: `paper:main:${NOW - 5000}-0`,
    fill_qty: "0",
    placed_at: NOW - 5000,
    ...over,
  };
}

function factsWith(orders: readonly WorkingOrder[], init: Parameters<typeof makeFacts>[0] = {}): Facts {
  const facts = makeFacts(init);
  return {
    ...facts,
    workingOrders: new Map(orders.map((o) => [o.key, { order: o, text: encodeWorkingOrder(o) }])),
  };
}

const cancel = (over: Record<string, unknown> = {}) =>
  planObject({
    action: "cancel",
    side: undefined,
    qty: undefined,
    target_plan_id: "rest-1",
    ...over,
  });
const cancelAll = (over: Record<string, unknown> = {}) =>
  planObject({ action: "cancel_all", side: undefined, qty: undefined, symbol: undefined, ...over });

describe("cancel plans: gate 1", () => {
  it.each([
    ["side", { side: "BUY" }],
    ["qty", { qty: "1" }],
    ["type", { type: "LIMIT" }],
    ["price", { price: "1" }],
    ["reduce_only", { reduce_only: false }],
    ["permit", { permit: "x.y" }],
  ])("a cancel carrying %s is invalid_plan:<field>", (field, over) => {
    const d = decide(planEntry(cancel(over)), makePolicy(), factsWith([resting()]));
    expect(d.result).toMatchObject({ decision: "DENIED", error: `invalid_plan:${field}`, action: "cancel" });
  });

  it("a cancel needs target_plan_id and symbol; an order may not carry target_plan_id", () => {
    expect(decide(planEntry(cancel({ target_plan_id: undefined }))).result.error).toBe(
      "invalid_plan:target_plan_id",
    );
    expect(decide(planEntry(cancel({ symbol: undefined }))).result.error).toBe("invalid_plan:symbol");
    expect(decide(planEntry(planObject({ target_plan_id: "x" }))).result.error).toBe(
      "invalid_plan:target_plan_id",
    );
    expect(decide(planEntry(cancelAll({ target_plan_id: "x" }))).result.error).toBe(
      "invalid_plan:target_plan_id",
    );
    expect(decide(planEntry(planObject({ action: "close" }))).result.error).toBe("invalid_plan:action");
    expect(decide(planEntry(planObject({ side: undefined }))).result.error).toBe("invalid_plan:side");
  });

  it('"action" absent means place, and results say which action they answer', () => {
    expect(decide(planEntry(planObject())).result.action).toBe("place");
    expect(decide(planEntry(planObject({ action: "place" }))).result).toMatchObject({
      action: "place",
      decision: "EXECUTED",
    });
    expect(decide(planEntry("not json")).result.action).toBe("place");
  });
});

describe("cancel plans: ownership (gate 4) and what they pass", () => {
  it("the owner's cancel executes: the order is closed with one CANCELED event, cause plan:<plan_id>", () => {
    const order = resting();
    const plan = cancel();
    const d = decide(planEntry(plan), makePolicy(), factsWith([order]));
    expect(d.result).toMatchObject({
      action: "cancel",
      decision: "EXECUTED",
      executed: true,
      error: null,
      side: null,
      qty: null,
      client_order_id: order.client_order_id,
      order_id: order.order_id,
    });
    expect(d.effects.closeOrders).toEqual([order.key]);
    expect(d.effects.orderEvents).toEqual([
      expect.objectContaining({ event: "CANCELED", cause: `plan:${plan.plan_id}`, plan_id: order.plan_id }),
    ]);
    expect(d.checks.workingOrders).toEqual([{ key: order.key, expected: encodeWorkingOrder(order) }]);
    expect(d.effects.claimPlanId).toBe(plan.plan_id);
  });

  it("another source's cancel is not_order_owner; the exit owner's and the manual lane's are not", () => {
    const order = resting({ source: "someone_else" });
    const facts = factsWith([order]);
    expect(decide(planEntry(cancel()), makePolicy(), facts).result).toMatchObject({
      decision: "DENIED",
      error: `not_order_owner:source=${BRIDGE}`,
    });
    expect(decide(planEntry(cancel({ source: EXIT_OWNER })), makePolicy(), facts).result.decision).toBe(
      "EXECUTED",
    );
    const manual = planEntry(cancel({ source: OPERATOR }), { lane: "manual" });
    expect(decide(manual, makePolicy(), facts).result.decision).toBe("EXECUTED");
  });

  it("cancel_all is only for the exit owner and the manual lane", () => {
    const facts = factsWith([resting(), resting({ plan_id: "rest-2", key: "rest-2" })]);
    expect(decide(planEntry(cancelAll()), makePolicy(), facts).result.error).toBe(
      `not_order_owner:source=${BRIDGE}`,
    );
    const d = decide(planEntry(cancelAll({ source: EXIT_OWNER })), makePolicy(), facts);
    expect(d.result).toMatchObject({ action: "cancel_all", decision: "EXECUTED", client_order_id: null });
    expect(d.effects.closeOrders).toEqual(["rest-1", "rest-2"]);
    expect(d.effects.orderEvents).toHaveLength(2);
  });

  it("cancel_all reaches only its account, venue and (when given) symbol", () => {
    const facts = factsWith([
      resting(),
      resting({ plan_id: "eth", key: "eth", symbol: "ETHUSDT" }),
      resting({ plan_id: "other", key: "other", account: "acct-2" }),
    ]);
    const d = decide(planEntry(cancelAll({ source: EXIT_OWNER, symbol: "ETHUSDT" })), makePolicy(), facts);
    expect(d.effects.closeOrders).toEqual(["eth"]);
  });

  it("nothing working to cancel is FAILED venue_error:order_not_open, and absence is checked at commit", () => {
    const d = decide(planEntry(cancel()), makePolicy(), factsWith([]));
    expect(d.result).toMatchObject({
      decision: "FAILED",
      error: "venue_error:order_not_open",
      executed: false,
    });
    expect(d.checks.workingOrders).toEqual([{ key: "rest-1", expected: null }]);
    expect(d.effects.closeOrders).toBeUndefined();
    const none = decide(planEntry(cancelAll({ source: EXIT_OWNER })), makePolicy(), factsWith([]));
    expect(none.result.error).toBe("venue_error:order_not_open");
    // a cancel naming another symbol than its target's cancels nothing
    const wrong = decide(planEntry(cancel({ symbol: "ETHUSDT" })), makePolicy(), factsWith([resting()]));
    expect(wrong.result.error).toBe("venue_error:order_not_open");
  });

  it("an unsigned cancel reaches only its own source's unsigned orders, never a signed plan's", () => {
    const policy = makePolicy({ requireAuth: false });
    const signedOrder = resting();
    const d = decide(planEntry(cancel(), { keyId: null }), policy, factsWith([signedOrder]));
    expect(d.result).toMatchObject({
      authenticated: false,
      decision: "FAILED",
      error: "venue_error:order_not_open",
    });
  });

  it("cancels pass every trading state, need no permit, and only the rate limit applies", () => {
    const facts = (state: "HALTED" | "REDUCING") => factsWith([resting()], { tradingState: state });
    expect(decide(planEntry(cancel()), makePolicy(), facts("HALTED")).result.decision).toBe("EXECUTED");
    expect(decide(planEntry(cancel()), makePolicy(), facts("REDUCING")).result.decision).toBe("EXECUTED");
    const strict = makePolicy({
      permits: { required: true, issuers: new Set(["governor-k1"]) },
      limits: { maxNotional: dec("1"), maxQty: new Map([["BTCUSDT", dec("1")]]) },
    });
    expect(decide(planEntry(cancel()), strict, factsWith([resting()])).result.decision).toBe("EXECUTED");
    const rated = makePolicy({ limits: { ratePerSourcePerS: 1 } });
    const busy = { ...factsWith([resting()], { rates: { [BRIDGE]: 1 } }) };
    expect(decide(planEntry(cancel()), rated, busy).result.error).toBe("limit:rate");
  });

  describe("at a live venue", () => {
    const policy = makePolicy({
      live: true,
      liveEnv: true,
      readyVenues: new Map([["binance-usdm", new Set(["*"])]]),
    });
    const atVenue = (over: Partial<WorkingOrder> = {}) =>
      resting({ venue: "binance-usdm", account: "acct-1", mode: "live", order_id: "8001", ...over });
    const liveCancel = () => planEntry(cancel({ venue: "binance-usdm", account: "acct-1" }));

    it("hands the live working order to the executor to cancel; nothing closed before the venue answers", () => {
      const d = decide(liveCancel(), policy, factsWith([atVenue()]));
      expect(d.liveCancel?.orders.map((o) => o.key)).toEqual(["rest-1"]);
      expect(d.effects.closeOrders).toBeUndefined();
      expect(d.effects.orderEvents).toBeUndefined();
      expect(d.checks.workingOrders).toEqual([{ key: "rest-1", expected: encodeWorkingOrder(atVenue()) }]);
      expect(d.result).toMatchObject({ mode: "live", client_order_id: "ig-rest-1", order_id: "8001" });
    });

    it("a paper order resting under the same plan is never cancelled by a live-routed cancel: order_not_open", () => {
      const d = decide(
        liveCancel(),
        policy,
        factsWith([resting({ venue: "binance-usdm", account: "acct-1" })]),
      );
      expect(d.liveCancel).toBeUndefined();
      expect(d.result).toMatchObject({
        decision: "FAILED",
        error: "venue_error:order_not_open",
        mode: "live",
      });
      expect(d.effects.closeOrders).toBeUndefined();
    });

    it("completes EXECUTED with one CANCELED event per cancelled order, the venue's fill kept", () => {
      const d = decide(liveCancel(), policy, factsWith([atVenue()]));
      const state = { orderId: "8001", status: "canceled", fillQty: "0.4", avgPrice: "59990" } as const;
      const done = completeLiveCancel(d, [{ kind: "canceled", state }], NOW + 10);
      expect(done?.liveCancel).toBeUndefined();
      expect(done?.result).toMatchObject({ decision: "EXECUTED", executed: true, timestamp: NOW + 10 });
      expect(done?.effects.closeOrders).toEqual(["rest-1"]);
      expect(done?.effects.orderEvents).toEqual([
        expect.objectContaining({
          event: "CANCELED",
          cause: `plan:${d.result.plan_id}`,
          fill_qty: "0.4",
          avg_price: "59990",
        }),
      ]);
    });

    it("an order that filled first is FAILED order_not_open and stays for the follower; a refusal keeps its reason", () => {
      const d = decide(liveCancel(), policy, factsWith([atVenue()]));
      const filled = completeLiveCancel(d, [{ kind: "not_open" }], NOW);
      expect(filled?.result).toMatchObject({ decision: "FAILED", error: "venue_error:order_not_open" });
      expect(filled?.effects.closeOrders).toBeUndefined();
      const refused = completeLiveCancel(
        d,
        [{ kind: "rejected", reason: "signer_denied:policy:cancel_rate" as Reason }],
        NOW,
      );
      expect(refused?.result).toMatchObject({
        decision: "FAILED",
        error: "signer_denied:policy:cancel_rate",
      });
    });

    it("an unknown answer makes the decision stage 1 with a cancel record; its result is UNKNOWN cancel_unknown", () => {
      const d = decide(liveCancel(), policy, factsWith([atVenue()]));
      const done = completeLiveCancel(d, [{ kind: "unknown", detail: "http_503" }], NOW + 5);
      expect(done.liveCancel).toBeUndefined();
      expect(done.effects.closeOrders).toBeUndefined();
      expect(done.checks).toEqual(d.checks);
      const record = done.sendRecord as CancelRecord;
      expect(record).toMatchObject({
        kind: "cancel",
        lane: d.lane,
        streamId: d.streamId,
        venue: "binance-usdm",
        canceled: false,
        refused: null,
        detail: "http_503",
        startedAt: NOW + 5,
      });
      expect(record.orders).toEqual([atVenue()]);
      expect(unknownCancelResult(record, NOW + 6)).toMatchObject({
        decision: "UNKNOWN",
        executed: false,
        error: "venue_error:cancel_unknown",
        plan_id: d.result.plan_id,
        timestamp: NOW + 6,
      });
      expect(isRegisteredReason(CANCEL_UNKNOWN)).toBe(true);
      expect(parseOpenRecord(JSON.stringify(record))).toEqual(record);
    });

    const two = () => [
      atVenue(),
      atVenue({ plan_id: "rest-2", key: "rest-2", client_order_id: "ig-rest-2" }),
    ];
    const allAtVenue = () =>
      decide(
        planEntry(cancelAll({ source: EXIT_OWNER, venue: "binance-usdm", account: "acct-1" })),
        policy,
        factsWith(two()),
      );
    const canceledState = { orderId: "8001", status: "canceled", fillQty: "0", avgPrice: null } as const;

    it("cancel_all with one order cancelled and one unknown: the known event now, the record keeps the other", () => {
      const d = allAtVenue();
      expect(d.liveCancel?.orders).toHaveLength(2);
      const done = completeLiveCancel(
        d,
        [
          { kind: "canceled", state: canceledState },
          { kind: "unknown", detail: "timeout" },
        ],
        NOW,
      );
      expect(done.effects.closeOrders).toEqual(["rest-1"]);
      expect(done.effects.orderEvents).toEqual([
        expect.objectContaining({ event: "CANCELED", cause: `plan:${d.result.plan_id}` }),
      ]);
      const record = done.sendRecord as CancelRecord;
      expect(record.orders.map((o) => o.key)).toEqual(["rest-2"]);
      expect(record.canceled).toBe(true);
    });

    describe("reconciling an open cancel record", () => {
      const recordOf = (outcomes: Parameters<typeof completeLiveCancel>[1]) =>
        completeLiveCancel(allAtVenue(), outcomes, NOW).sendRecord as CancelRecord;
      const unknown = { kind: "unknown", detail: "timeout" } as const;
      const stored = (orders: readonly WorkingOrder[]) => new Map(orders.map((o) => [o.key, o]));

      it("still unknown: nothing to write yet", () => {
        const record = recordOf([unknown, unknown]);
        expect(
          reconcileCancel(record, [{ kind: "canceled", state: canceledState }, unknown], stored(two()), NOW),
        ).toBeUndefined();
      });

      it("cancelled now: reconciled EXECUTED, one CANCELED event per order still stored, as stored now", () => {
        const record = recordOf([unknown, unknown]);
        const filledSince = atVenue({ fill_qty: "0.2" });
        const done = reconcileCancel(
          record,
          [
            { kind: "canceled", state: { ...canceledState, fillQty: "0.2" } },
            { kind: "canceled", state: canceledState },
          ],
          stored([filledSince]),
          NOW + 100,
        );
        expect(done?.result).toMatchObject({
          decision: "EXECUTED",
          executed: true,
          error: null,
          reconciled: true,
          timestamp: NOW + 100,
        });
        expect(done?.updates).toEqual([
          {
            key: "rest-1",
            expected: encodeWorkingOrder(filledSince),
            next: null,
            event: expect.objectContaining({
              event: "CANCELED",
              cause: `plan:${record.result.plan_id}`,
              fill_qty: "0.2",
            }),
          },
        ]);
      });

      it("filled meanwhile: reconciled FAILED order_not_open, unless the plan cancelled another order before", () => {
        const none = reconcileCancel(
          recordOf([unknown, unknown]),
          [{ kind: "not_open" }, { kind: "not_open" }],
          stored(two()),
          NOW,
        );
        expect(none?.result).toMatchObject({
          decision: "FAILED",
          error: "venue_error:order_not_open",
          reconciled: true,
        });
        expect(none?.updates).toEqual([]);
        const some = reconcileCancel(
          recordOf([{ kind: "canceled", state: canceledState }, unknown]),
          [{ kind: "not_open" }],
          stored(two()),
          NOW,
        );
        expect(some?.result).toMatchObject({ decision: "EXECUTED", reconciled: true });
      });

      it("a refusal answered before keeps its reason when nothing was cancelled", () => {
        const refused = { kind: "rejected", reason: "signer_denied:policy:cancel_rate" as Reason } as const;
        const record = recordOf([refused, unknown]);
        expect(record.refused).toBe("signer_denied:policy:cancel_rate");
        const done = reconcileCancel(record, [{ kind: "not_open" }], stored(two()), NOW);
        expect(done?.result).toMatchObject({ decision: "FAILED", error: "signer_denied:policy:cancel_rate" });
      });
    });

    it("a stored record that is not one is refused by the parser", () => {
      const record = completeLiveCancel(
        decide(liveCancel(), policy, factsWith([atVenue()])),
        [{ kind: "unknown", detail: "x" }],
        NOW,
      ).sendRecord as CancelRecord;
      expect(parseOpenRecord(JSON.stringify({ ...record, orders: [{ key: 1 }] }))).toBeUndefined();
      expect(parseOpenRecord(JSON.stringify({ ...record, venue: "paper" }))).toBeUndefined();
      expect(parseOpenRecord(JSON.stringify({ ...record, canceled: "no" }))).toBeUndefined();
      expect(parseOpenRecord("{")).toBeUndefined();
    });
  });
});

describe("resting paper LIMIT orders (venues.paper.rest_limits)", () => {
  const policy = makePolicy({ paperRestLimits: true });
  const limit = (over: Record<string, unknown>) => planObject({ type: "LIMIT", ...over });

  it("a LIMIT that does not cross the reference price rests: EXECUTED, fill_qty 0, one working order", () => {
    const plan = limit({ price: "60000" });
    const d: Decision = decide(planEntry(plan), policy, makeFacts());
    expect(d.result).toMatchObject({ decision: "EXECUTED", executed: true, fill_qty: "0", avg_price: null });
    expect(d.effects.openOrder).toMatchObject({
      plan_id: plan.plan_id,
      key: plan.plan_id,
      price: "60000",
      fill_qty: "0",
      mode: "paper",
    });
    expect(d.effects.setPosition).toBeUndefined();
    expect(d.checks.workingOrders).toEqual([{ key: plan.plan_id, expected: null }]);
  });

  it("a LIMIT that crosses fills at once, as without rest_limits", () => {
    const d = decide(planEntry(limit({ price: "66000" })), policy, makeFacts());
    expect(d.result).toMatchObject({ decision: "EXECUTED", fill_qty: "1", avg_price: "66000" });
    expect(d.effects.openOrder).toBeUndefined();
    expect(d.effects.setPosition?.value).toBe("1");
  });

  it("without rest_limits nothing rests (the default)", () => {
    const d = decide(planEntry(limit({ price: "60000" })), makePolicy(), makeFacts());
    expect(d.effects.openOrder).toBeUndefined();
    expect(d.result.fill_qty).toBe("1");
  });
});

describe("followPaperOrders", () => {
  const prices = (p: string) => new Map([["BTCUSDT", dec(p)]]);
  const base = { onHalt: "cancel", onReducing: "cancel" } as const;

  it("HALTED cancels every paper working order; REDUCING those that are not reduce_only", () => {
    const a = resting();
    const b = resting({ plan_id: "r2", key: "r2", reduce_only: true, side: "SELL", price: "70000" });
    const halted = followPaperOrders({
      orders: [a, b],
      tradingState: "HALTED",
      policy: { ...base, referencePrices: prices("65000") },
      positions: new Map(),
      now: NOW,
    });
    expect(halted.map((u) => [u.key, u.event.event, u.event.cause, u.next])).toEqual([
      [a.key, "CANCELED", "state:HALTED", null],
      [b.key, "CANCELED", "state:HALTED", null],
    ]);
    const reducing = followPaperOrders({
      orders: [a, b],
      tradingState: "REDUCING",
      policy: { ...base, referencePrices: prices("65000") },
      positions: new Map(),
      now: NOW,
    });
    expect(reducing.map((u) => [u.key, u.event.cause])).toEqual([[a.key, "state:REDUCING"]]);
    const kept = followPaperOrders({
      orders: [a, b],
      tradingState: "HALTED",
      policy: { onHalt: "keep", onReducing: "keep", referencePrices: prices("65000") },
      positions: new Map(),
      now: NOW,
    });
    expect(kept).toEqual([]);
  });

  it("a price that crosses fills in full at the limit, moving the position once per order in order", () => {
    const a = resting();
    const b = resting({ plan_id: "r2", key: "r2", qty: "2" });
    const updates = followPaperOrders({
      orders: [a, b],
      tradingState: "ACTIVE",
      policy: { ...base, referencePrices: prices("59000") },
      positions: new Map([[JSON.stringify(["default", "BTCUSDT"]), "-1"]]),
      now: NOW,
    });
    expect(updates.map((u) => [u.event.event, u.event.fill_qty, u.event.avg_price, u.position])).toEqual([
      [
        "FILL",
        "1",
        "60000",
        { account: "default", symbol: "BTCUSDT", ...PAPER_BOOK, expected: "-1", value: "0" },
      ],
      [
        "FILL",
        "2",
        "60000",
        { account: "default", symbol: "BTCUSDT", ...PAPER_BOOK, expected: "0", value: "2" },
      ],
    ]);
    expect(updates[0]?.expected).toBe(encodeWorkingOrder(a));
  });

  it("a reduce_only order that would open a position expires (cause venue) instead of filling", () => {
    const order = resting({ reduce_only: true });
    const [u] = followPaperOrders({
      orders: [order],
      tradingState: "ACTIVE",
      policy: { ...base, referencePrices: prices("59000") },
      positions: new Map(),
      now: NOW,
    });
    expect(u).toMatchObject({ next: null, event: { event: "EXPIRED", cause: "venue" } });
    expect(u?.position).toBeUndefined();
  });

  it("no price crossing, no live orders: nothing to do", () => {
    const updates = followPaperOrders({
      orders: [resting(), resting({ plan_id: "live", key: "live", mode: "live", venue: "binance-usdm" })],
      tradingState: "ACTIVE",
      policy: { ...base, referencePrices: prices("65000") },
      positions: new Map(),
      now: NOW,
    });
    expect(updates).toEqual([]);
  });
});
