import { describe, expect, it } from "vitest";
import { liveWorkingOrder } from "../../test/support/coreFixtures.js";
import { followLiveOrder, liveCancelUpdate, stateCancelCause } from "./liveOrderUpdate.js";
import type { VenueOrderState } from "./venueOrder.js";
import { encodeWorkingOrder, type WorkingOrder } from "./workingOrder.js";

const NOW = 1_700_000_000_000;
const order: WorkingOrder = liveWorkingOrder({ fill_qty: "0.2" });
const state = (over: Partial<VenueOrderState>): VenueOrderState => ({
  orderId: "77",
  status: "open",
  fillQty: "0.2",
  avgPrice: "60000",
  ...over,
});

describe("following a live working order (wire-v1 §4a)", () => {
  it("nothing new while open with the same (or a smaller, stale) fill", () => {
    expect(followLiveOrder(order, state({}), NOW)).toBeUndefined();
    expect(followLiveOrder(order, state({ fillQty: "0.1" }), NOW)).toBeUndefined();
  });

  it("more filled while open: a FILL event with the cumulative fill, the order kept with it", () => {
    const u = followLiveOrder(order, state({ fillQty: "0.5" }), NOW);
    expect(u?.expected).toBe(encodeWorkingOrder(order));
    expect(u?.next).toEqual({ ...order, fill_qty: "0.5" });
    expect(u?.event).toMatchObject({ event: "FILL", fill_qty: "0.5", avg_price: "60000", cause: null });
  });

  it("filled: a FILL event and the order ends", () => {
    const u = followLiveOrder(order, state({ status: "filled", fillQty: "1" }), NOW);
    expect(u?.next).toBeNull();
    expect(u?.event).toMatchObject({ event: "FILL", fill_qty: "1" });
  });

  it("cancelled, expired or rejected by the venue itself: cause venue, the fill kept", () => {
    expect(followLiveOrder(order, state({ status: "canceled" }), NOW)?.event).toMatchObject({
      event: "CANCELED",
      cause: "venue",
      fill_qty: "0.2",
    });
    expect(followLiveOrder(order, state({ status: "expired" }), NOW)?.event).toMatchObject({
      event: "EXPIRED",
      cause: "venue",
    });
    expect(followLiveOrder(order, state({ status: "rejected" }), NOW)?.event).toMatchObject({
      event: "EXPIRED",
      cause: "venue",
    });
  });

  it("a fill that is not a decimal is never taken: nothing written", () => {
    expect(followLiveOrder(order, state({ status: "filled", fillQty: "NaN" }), NOW)).toBeUndefined();
  });

  it("a cancel by the trading state ends the order with its cause", () => {
    const u = liveCancelUpdate(order, state({ status: "canceled" }), "state:HALTED", NOW);
    expect(u).toMatchObject({ key: "k1", next: null, event: { event: "CANCELED", cause: "state:HALTED" } });
  });
});

describe("which orders the trading state cancels (wire-v1 §7)", () => {
  const cancel = { onHalt: "cancel", onReducing: "cancel" } as const;
  const keep = { onHalt: "keep", onReducing: "keep" } as const;
  it.each([
    ["ACTIVE", false, cancel, undefined],
    ["HALTED", false, cancel, "state:HALTED"],
    ["HALTED", true, cancel, "state:HALTED"],
    ["REDUCING", false, cancel, "state:REDUCING"],
    ["REDUCING", true, cancel, undefined],
    ["HALTED", false, keep, undefined],
    ["REDUCING", false, keep, undefined],
  ] as const)("%s, reduce_only %s, %o → %s", (tradingState, reduceOnly, policy, want) => {
    expect(stateCancelCause({ reduce_only: reduceOnly }, tradingState, policy)).toBe(want);
  });
});
