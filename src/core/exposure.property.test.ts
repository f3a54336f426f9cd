import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { liveWorkingOrder } from "../../test/support/coreFixtures.js";
import { type Decimal, parseDecimal, ZERO } from "./decimal.js";
import type { Decision } from "./decision.js";
import {
  type AccountExposure,
  applyToExposure,
  batchExposure,
  EXPOSURE_IDS,
  exposureFromSnapshot,
} from "./exposure.js";
import { positionKey } from "./facts.js";
import { encodeWorkingOrder, type WorkingOrder } from "./workingOrder.js";

const ACCOUNT = "acct-1";
const SYMBOLS = ["BTCUSDT", "ETHUSDT"] as const;

const orderArb = fc.record({
  key: fc.integer({ min: 0, max: 7 }).map((i) => `k${i}`),
  symbol: fc.constantFrom(...SYMBOLS),
  side: fc.constantFrom("BUY" as const, "SELL" as const),
  mode: fc.constantFrom("live" as const, "paper" as const),
  qty: fc.integer({ min: 1, max: 50 }).map(String),
  fill: fc.integer({ min: 0, max: 50 }).map(String),
});

function orderOf(o: OrderSpec): WorkingOrder {
  return liveWorkingOrder({
    key: o.key,
    symbol: o.symbol,
    side: o.side,
    mode: o.mode,
    venue: o.mode === "live" ? "binance-usdm" : "paper",
    account: ACCOUNT,
    qty: o.qty,
    fill_qty: o.fill,
  });
}
type OrderSpec = {
  key: string;
  symbol: string;
  side: "BUY" | "SELL";
  mode: "live" | "paper";
  qty: string;
  fill: string;
};

/** The sums every cap reads, recomputed from the orders one by one (what the caps walked before). */
function sumsByHand(x: AccountExposure): Map<string, { buy: Decimal; sell: Decimal; count: number }> {
  const out = new Map<string, { buy: Decimal; sell: Decimal; count: number }>();
  for (const o of x.orders.values()) {
    const key = positionKey({ account: x.account, symbol: o.symbol, venue: o.venue, mode: o.mode });
    const s = out.get(key) ?? { buy: ZERO, sell: ZERO, count: 0 };
    out.set(key, {
      buy: (o.side === "BUY" ? s.buy + o.remaining : s.buy) as Decimal,
      sell: (o.side === "SELL" ? s.sell + o.remaining : s.sell) as Decimal,
      count: s.count + 1,
    });
  }
  return out;
}

function pendingOf(x: AccountExposure) {
  return new Map([...x.pending].map(([k, p]) => [k, { buy: p.buy, sell: p.sell, count: p.count }]));
}

/** A decision whose only writes open one order and close others (all `applyToExposure` reads of it). */
function ordersDecision(open: WorkingOrder | undefined, close: readonly string[]): Decision {
  return { effects: { openOrder: open, closeOrders: close } } as unknown as Decision;
}

describe("exposure: what may still fill, summed per book and side", () => {
  it("equals the orders summed one by one, as read and after any opens and closes of a batch", () => {
    fc.assert(
      fc.property(
        fc.array(orderArb, { maxLength: 8 }),
        fc.array(
          fc.tuple(fc.option(orderArb, { nil: undefined }), fc.array(fc.integer({ min: 0, max: 7 }))),
          {
            maxLength: 12,
          },
        ),
        (initial, steps) => {
          const snapshot = new Map(
            initial.map((o) => [EXPOSURE_IDS.working + o.key, encodeWorkingOrder(orderOf(o))] as const),
          );
          const read = exposureFromSnapshot(ACCOUNT, snapshot);
          expect(pendingOf(read)).toEqual(sumsByHand(read));
          const x = batchExposure(read);
          for (const [open, close] of steps) {
            applyToExposure(
              x,
              ordersDecision(
                open && orderOf(open),
                close.map((i) => `k${i}`),
              ),
            );
            expect(pendingOf(x)).toEqual(sumsByHand(x));
          }
          // the batch's copy never changes what was read
          expect(pendingOf(read)).toEqual(sumsByHand(read));
        },
      ),
    );
  });

  it("reads a resting order again from its text alone, and refuses a corrupt one every time", () => {
    const order = orderOf({ key: "k1", symbol: "BTCUSDT", side: "SELL", mode: "live", qty: "3", fill: "1" });
    const text = encodeWorkingOrder(order);
    const a = exposureFromSnapshot(ACCOUNT, new Map([[`${EXPOSURE_IDS.working}k1`, text]]));
    const b = exposureFromSnapshot(ACCOUNT, new Map([[`${EXPOSURE_IDS.working}k1`, `${text}`]]));
    expect(b.orders).toEqual(a.orders);
    expect([...a.pending.values()][0]?.sell).toBe(parseDecimal("2"));
    // the same order filled further: its new text is read, never the reading of the old one
    const filled = encodeWorkingOrder({ ...order, fill_qty: "2.5" });
    const c = exposureFromSnapshot(ACCOUNT, new Map([[`${EXPOSURE_IDS.working}k1`, filled]]));
    expect([...c.pending.values()][0]?.sell).toBe(parseDecimal("0.5"));
    const corrupt = text.replace('"fill_qty":"1"', '"fill_qty":"x"');
    for (let i = 0; i < 2; i++)
      expect(() => exposureFromSnapshot(ACCOUNT, new Map([[`${EXPOSURE_IDS.working}k1`, corrupt]]))).toThrow(
        /fill_qty/,
      );
    // another account's order under this account's books is refused whether or not its text was read before
    const other = encodeWorkingOrder({ ...order, account: "acct-2" });
    exposureFromSnapshot("acct-2", new Map([[`${EXPOSURE_IDS.working}k1`, other]]));
    expect(() => exposureFromSnapshot(ACCOUNT, new Map([[`${EXPOSURE_IDS.working}k1`, other]]))).toThrow(
      /not one of its entries/,
    );
  });
});
