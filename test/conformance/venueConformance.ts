/**
 * One behavioural suite every live venue adapter must pass against its
 * emulator. It drives the venue only through the `Venue` port
 * (src/ports/venue.ts) and reads the venue's own state only through the
 * world's back doors (the emulator's). The paper venue is not an adapter:
 * it is the execution step in core (src/core/executionPlan.ts), tested there.
 *
 * Usage: `venueConformance("binance-usdm", openBinanceWorld)`. `open` is called
 * before each test and must return a fresh, healthy world (a new emulator,
 * signer and adapter), closed after the test. What legitimately differs
 * between venues is declared in {@link VenueTraits}, never special-cased
 * here by venue name.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { clientOrderId } from "../../src/core/clientOrderId.js";
import { formatDecimal, parseDecimal } from "../../src/core/decimal.js";
import type { OrderGuard, PreparedOrder, SendOutcome, Venue, VenueOrder } from "../../src/ports/venue.js";

/** What differs between venues, declared by each world. */
export interface VenueTraits {
  /**
   * How a `reduce_only` order that would open, grow or flip a position is
   * refused: at `send` (the venue rejects it; nothing placed) or already at
   * `prepare`, with `reason`; `unsupported` where the venue has no such
   * notion (the cases are skipped).
   */
  readonly reduceOnly:
    | { readonly refusedAt: "send" | "prepare"; readonly reason: string }
    | { readonly refusedAt: "unsupported" };
  /** The venue's limits on client order ids (Binance: `^[.A-Z:/a-z0-9_-]{1,36}$`). */
  readonly clientOrderId: { readonly maxLength: number; readonly pattern: RegExp };
  /** How a LIMIT order at {@link VenueWorld.limitPrice} stands right after `send`. */
  readonly limitStatus: "filled" | "open";
  /** Whether positions are signed per-symbol quantities the suite can check (false: those cases are skipped). */
  readonly signedPositions: boolean;
}

/** An order that breaks the venue's rules, and the reason `prepare` must refuse it with. */
export interface RuleBreak {
  readonly name: string;
  /** Changes to a valid MARKET order of {@link VenueWorld.qty}. */
  readonly change: Partial<VenueOrder>;
  /** The exact wire-v1 reason (`invalid_plan:<rule>`, `limit:<name>`). */
  readonly reason: string;
}

/** A venue under test, healthy, with one account and one tradable symbol. */
export interface VenueWorld {
  readonly venue: Venue;
  readonly account: string;
  /** A symbol the account may trade. */
  readonly symbol: string;
  /** A small quantity valid for MARKET and LIMIT orders under the venue's rules (canonical decimal). */
  readonly qty: string;
  /** A LIMIT price valid under the venue's rules (see {@link VenueTraits.limitStatus}). */
  readonly limitPrice: string;
  /** The executor's reference price for MARKET orders of {@link VenueWorld.symbol}. */
  readonly referencePrice: string;
  /** Sets the account's position at the venue directly, bypassing orders (emulator back door). */
  setPosition(qty: string): Promise<void>;
  /** Orders the venue holds with this client order id (what was really placed). */
  ordersAt(clientOrderId: string): Promise<number>;
  /** Order requests that reached the venue at all, accepted or refused. */
  orderRequests(): Promise<number>;
  /** Orders breaking the venue's rules, refused at `prepare`. */
  readonly ruleBreaks: readonly RuleBreak[];
  readonly traits: VenueTraits;
  close(): Promise<void>;
}

let seq = 0;

/** Registers the venue conformance suite for one venue. */
export function venueConformance(name: string, open: () => Promise<VenueWorld>): void {
  describe(`venue conformance: ${name}`, () => {
    let w: VenueWorld;
    beforeEach(async () => {
      w = await open();
    });
    afterEach(async () => {
      await w.close();
    });

    const guard = (planId: string): OrderGuard => ({
      plan_id: planId,
      source: "conformance",
      decision: "EXECUTE",
      trading_state: "ACTIVE",
      permit_id: null,
      mode: "live",
      lane: "main",
      stream_id: `${Date.now()}-${seq}`,
    });
    const order = (over: Partial<VenueOrder> = {}): VenueOrder => {
      const planId = `conf-${name.replace(/[^A-Za-z0-9]/g, "")}-${process.pid}-${++seq}-${Date.now()}`;
      return {
        account: w.account,
        symbol: w.symbol,
        side: "BUY",
        type: "MARKET",
        qty: w.qty,
        price: undefined,
        referencePrice: w.referencePrice,
        reduceOnly: false,
        clientOrderId: clientOrderId(planId),
        ...over,
      };
    };
    const prepared = async (o: VenueOrder): Promise<PreparedOrder> => {
      const p = await w.venue.prepare(o, guard(`plan-${o.clientOrderId}`));
      if (!p.ok) throw new Error(`prepare refused ${JSON.stringify(o)}: ${p.reason}`);
      return p.prepared;
    };
    const place = async (o: VenueOrder): Promise<SendOutcome> => w.venue.send(await prepared(o));
    const positionOf = async (): Promise<string> => {
      const out = await w.venue.positions(w.account);
      if (!out.ok) throw new Error(`positions failed: ${out.detail}`);
      const mine = out.positions.filter((p) => p.symbol === w.symbol);
      expect(mine.length).toBeLessThanOrEqual(1);
      for (const p of out.positions) expect(p.account).toBe(w.account);
      return mine[0]?.qty ?? "0";
    };
    const times = (qty: string, n: bigint, sign = 1n): string => {
      const v = parseDecimal(qty);
      if (v === undefined) throw new Error(`bad qty ${qty}`);
      return formatDecimal((v * n * sign) as never);
    };

    it("readiness: ready when healthy, with a detail", async () => {
      const r = await w.venue.readiness();
      expect(r.ready, r.detail).toBe(true);
      expect(r.detail.length).toBeGreaterThan(0);
    });

    it("prepare fixes the ref (client order id) and sends nothing", async () => {
      const before = await w.orderRequests();
      const o = order();
      const p = await prepared(o);
      expect(p.ref).toMatchObject({ venue: w.venue.name, account: w.account, symbol: w.symbol });
      expect(p.ref.clientOrderId).toBe(o.clientOrderId);
      expect(JSON.parse(JSON.stringify(p.ref))).toEqual(p.ref);
      expect(await w.orderRequests()).toBe(before);
      expect(await w.ordersAt(o.clientOrderId)).toBe(0);
    });

    it("MARKET → placed and filled; lookup by ref finds the same order id and fill; one order at the venue", async () => {
      const o = order();
      const p = await prepared(o);
      const sent = await w.venue.send(p);
      expect(sent.kind).toBe("placed");
      if (sent.kind !== "placed") return;
      expect(sent.status).toBe("filled");
      expect(sent.fillQty).toBe(w.qty);
      expect(sent.avgPrice).not.toBeNull();
      const found = await w.venue.lookup(p.ref);
      expect(found).toEqual({
        kind: "found",
        orderId: sent.orderId,
        status: "filled",
        fillQty: sent.fillQty,
        avgPrice: sent.avgPrice,
      });
      expect(await w.ordersAt(o.clientOrderId)).toBe(1);
    });

    it("LIMIT → placed; lookup by ref finds the same order", async () => {
      const o = order({ type: "LIMIT", price: w.limitPrice });
      const p = await prepared(o);
      const sent = await w.venue.send(p);
      expect(sent.kind).toBe("placed");
      if (sent.kind !== "placed") return;
      expect(sent.status).toBe(w.traits.limitStatus);
      if (w.traits.limitStatus === "open") {
        expect(sent.fillQty).toBe("0");
        expect(sent.avgPrice).toBeNull();
      } else {
        expect(sent.fillQty).toBe(w.qty);
      }
      const found = await w.venue.lookup(p.ref);
      expect(found).toMatchObject({
        kind: "found",
        orderId: sent.orderId,
        status: sent.status,
        fillQty: sent.fillQty,
      });
      expect(await w.ordersAt(o.clientOrderId)).toBe(1);
    });

    it("lookup of a ref never sent → not_found", async () => {
      const p = await prepared(order());
      expect(await w.venue.lookup(p.ref)).toEqual({ kind: "not_found" });
    });

    it("positions reflect fills (signed: short < 0) and the back door", async () => {
      if (!w.traits.signedPositions) return;
      await w.setPosition("0");
      expect(await positionOf()).toBe("0");
      expect((await place(order({ side: "BUY" }))).kind).toBe("placed");
      expect(await positionOf()).toBe(w.qty);
      expect((await place(order({ side: "SELL", qty: times(w.qty, 3n) }))).kind).toBe("placed");
      expect(await positionOf()).toBe(times(w.qty, 2n, -1n));
      expect((await place(order({ side: "BUY", qty: times(w.qty, 2n) }))).kind).toBe("placed");
      expect(await positionOf()).toBe("0");
      await w.setPosition(times(w.qty, 5n));
      expect(await positionOf()).toBe(times(w.qty, 5n));
    });

    describe("reduce-only", () => {
      const refuse = async (o: VenueOrder): Promise<void> => {
        const t = w.traits.reduceOnly;
        if (t.refusedAt === "unsupported") return;
        const p = await w.venue.prepare(o, guard(`plan-${o.clientOrderId}`));
        if (t.refusedAt === "prepare") {
          expect(p).toMatchObject({ ok: false, reason: t.reason });
        } else {
          if (!p.ok) throw new Error(`prepare refused: ${p.reason}`);
          expect(await w.venue.send(p.prepared)).toEqual({ kind: "rejected", reason: t.reason });
        }
        expect(await w.ordersAt(o.clientOrderId)).toBe(0);
      };

      it("that would open a position (flat) → refused, nothing placed", async () => {
        await w.setPosition("0");
        await refuse(order({ side: "SELL", reduceOnly: true }));
        await refuse(order({ side: "BUY", reduceOnly: true }));
        if (w.traits.signedPositions) expect(await positionOf()).toBe("0");
      });

      it("that would grow or flip a position → refused, position unchanged", async () => {
        await w.setPosition(w.qty);
        await refuse(order({ side: "BUY", reduceOnly: true }));
        await refuse(order({ side: "SELL", qty: times(w.qty, 2n), reduceOnly: true }));
        if (w.traits.signedPositions) expect(await positionOf()).toBe(w.qty);
      });

      it("that reduces (or closes) a position → placed", async () => {
        if (w.traits.reduceOnly.refusedAt === "unsupported") return;
        await w.setPosition(times(w.qty, 2n, -1n));
        expect((await place(order({ side: "BUY", reduceOnly: true }))).kind).toBe("placed");
        if (w.traits.signedPositions) expect(await positionOf()).toBe(times(w.qty, 1n, -1n));
        expect((await place(order({ side: "BUY", reduceOnly: true }))).kind).toBe("placed");
        if (w.traits.signedPositions) expect(await positionOf()).toBe("0");
      });
    });

    it("prepare refuses an order that breaks the venue's rules, with the rule's reason, sending nothing", async () => {
      expect(w.ruleBreaks.length).toBeGreaterThan(0);
      const before = await w.orderRequests();
      for (const rb of w.ruleBreaks) {
        const o = order(rb.change);
        const p = await w.venue.prepare(o, guard(`plan-${o.clientOrderId}`));
        expect(p, rb.name).toMatchObject({ ok: false, reason: rb.reason });
        if (!p.ok) expect(["DENIED", "FAILED"]).toContain(p.decision);
      }
      expect(await w.orderRequests()).toBe(before);
    });

    it("client order ids fit the venue's limits; one that does not is refused before sending", async () => {
      const { maxLength, pattern } = w.traits.clientOrderId;
      const long = clientOrderId(`conf-${"x".repeat(80)}-${++seq}`);
      const p = await prepared(order({ clientOrderId: long }));
      expect(p.ref.clientOrderId.length).toBeLessThanOrEqual(maxLength);
      expect(p.ref.clientOrderId).toMatch(pattern);
      const before = await w.orderRequests();
      for (const bad of ["x".repeat(maxLength + 1), "has space", ""]) {
        const r = await w.venue.prepare(order({ clientOrderId: bad }), guard("plan-bad-id"));
        expect(r).toMatchObject({ ok: false, reason: "invalid_plan:client_order_id", decision: "DENIED" });
      }
      expect(await w.orderRequests()).toBe(before);
    });
  });
}
