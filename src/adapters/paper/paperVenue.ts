import { inspect } from "node:util";
import { CLIENT_ORDER_ID_MAX_LENGTH, isClientOrderId } from "../../core/clientOrderId.js";
import { type Decimal, formatDecimal, parseDecimal } from "../../core/decimal.js";
import { positionAfter, positionDelta, reduceOnlyAllows } from "../../core/paperFill.js";
import { type Reason, reason } from "../../core/reasons.js";
import type {
  LookupOutcome,
  OrderGuard,
  OrderRef,
  PositionsOutcome,
  PreparedOrder,
  PrepareOutcome,
  Readiness,
  SendOutcome,
  Venue,
  VenueOrder,
  VenuePosition,
} from "../../ports/venue.js";

/** Options of {@link createPaperVenue}. */
export interface PaperVenueOptions {
  /** Reference prices per symbol (canonical decimals): MARKET orders fill at them (wire-v1 §7a). */
  readonly prices?: Readonly<Record<string, string>>;
}

/** One order the paper venue filled. */
export interface PaperOrderRecord {
  readonly orderId: string;
  readonly account: string;
  readonly symbol: string;
  readonly clientOrderId: string;
  readonly side: VenueOrder["side"];
  readonly type: VenueOrder["type"];
  readonly qty: string;
  readonly price: string;
  readonly reduceOnly: boolean;
}

/** The paper venue: a {@link Venue}, plus the back doors tests and demos use. */
export interface PaperVenue extends Venue {
  readonly name: "paper";
  /** Sets (or, with `undefined`, removes) the reference price MARKET orders of `symbol` fill at. */
  setPrice(symbol: string, price: string | undefined): void;
  /** Sets a position directly (signed canonical decimal; `"0"` removes it). */
  setPosition(account: string, symbol: string, qty: string): void;
  /** Every order filled so far, oldest first. */
  orders(): readonly PaperOrderRecord[];
}

/** What `prepare` hands `send`: the checked order and its fill price. */
interface PaperTicket {
  readonly order: VenueOrder;
  readonly qty: Decimal;
  readonly price: Decimal | undefined;
}

const key = (account: string, symbol: string): string => JSON.stringify([account, symbol]);

/**
 * An in-memory paper venue (wire-v1 §7a) behind the {@link Venue} port:
 * MARKET orders fill at once, in full, at the configured reference price
 * (`limit:no_reference_price` at `prepare` when there is none); LIMIT orders
 * fill at once at their own price; a `reduce_only` order that would open,
 * grow or flip a position is `rejected` with `venue_error:reduce_only_rejected`.
 * Orders are found by client order id; a second order with an id already
 * used by the account is `already_placed`. Positions are per account and
 * symbol. Nothing is durable: the executor's own paper fills live on the
 * ledger; this venue serves the conformance suite, demos and dry runs.
 *
 * | refusal at `prepare` | reason | decision |
 * |---|---|---|
 * | qty not a decimal > 0 | `invalid_plan:qty` | DENIED |
 * | LIMIT without price, MARKET with one | `invalid_plan:price` | DENIED |
 * | client order id outside `[.A-Z:/a-z0-9_-]{1,64}` | `invalid_plan:client_order_id` | DENIED |
 * | MARKET with no reference price | `limit:no_reference_price` | DENIED |
 *
 * @example const venue = createPaperVenue({ prices: { BTCUSDT: "65000" } });
 */
export function createPaperVenue(opts: PaperVenueOptions = {}): PaperVenue {
  const prices = new Map<string, Decimal>();
  for (const [symbol, text] of Object.entries(opts.prices ?? {})) setPriceIn(prices, symbol, text);
  const positions = new Map<string, { account: string; symbol: string; qty: Decimal }>();
  const orders: PaperOrderRecord[] = [];
  const byClientId = new Map<string, PaperOrderRecord>();
  let closed = false;

  const positionOf = (account: string, symbol: string): Decimal =>
    positions.get(key(account, symbol))?.qty ?? (0n as Decimal);
  const putPosition = (account: string, symbol: string, qty: Decimal): void => {
    if (qty === 0n) positions.delete(key(account, symbol));
    else positions.set(key(account, symbol), { account, symbol, qty });
  };

  const venue: PaperVenue = {
    name: "paper",
    inFlightMs: 0,

    async prepare(order: VenueOrder, _guard: OrderGuard): Promise<PrepareOutcome> {
      const deny = (why: Reason): PrepareOutcome => ({ ok: false, reason: why, decision: "DENIED" });
      const qty = parseDecimal(order.qty);
      if (qty === undefined || qty <= 0n) return deny(reason("invalid_plan", "qty"));
      let price: Decimal | undefined;
      if (order.type === "LIMIT") {
        price = order.price === undefined ? undefined : parseDecimal(order.price);
        if (price === undefined || price <= 0n) return deny(reason("invalid_plan", "price"));
      } else if (order.price !== undefined) {
        return deny(reason("invalid_plan", "price"));
      }
      if (!isClientOrderId(order.clientOrderId, CLIENT_ORDER_ID_MAX_LENGTH))
        return deny(reason("invalid_plan", "client_order_id"));
      if (order.type === "MARKET" && !prices.has(order.symbol) && order.referencePrice === undefined) {
        return deny(reason("limit", "no_reference_price"));
      }
      const ref: OrderRef = {
        venue: "paper",
        account: order.account,
        symbol: order.symbol,
        clientOrderId: order.clientOrderId,
        venueRef: order.clientOrderId,
      };
      const ticket: PaperTicket = { order, qty, price };
      return { ok: true, prepared: { ref, venueData: ticket } };
    },

    async send(prepared: PreparedOrder): Promise<SendOutcome> {
      if (closed) return { kind: "rejected", reason: reason("venue_error", "venue_closed") };
      const ticket = prepared.venueData as PaperTicket;
      const { order, qty } = ticket;
      const idKey = key(order.account, order.clientOrderId);
      if (byClientId.has(idKey)) return { kind: "already_placed", detail: "duplicate_client_order_id" };
      const fillPrice =
        ticket.price ??
        prices.get(order.symbol) ??
        (order.referencePrice === undefined ? undefined : parseDecimal(order.referencePrice));
      if (fillPrice === undefined) return { kind: "rejected", reason: reason("limit", "no_reference_price") };
      const before = positionOf(order.account, order.symbol);
      const delta = positionDelta(order.side, qty);
      if (order.reduceOnly && !reduceOnlyAllows(before, delta)) {
        return { kind: "rejected", reason: reason("venue_error", "reduce_only_rejected") };
      }
      putPosition(order.account, order.symbol, positionAfter(before, delta));
      const record: PaperOrderRecord = {
        orderId: `paper-${orders.length + 1}`,
        account: order.account,
        symbol: order.symbol,
        clientOrderId: order.clientOrderId,
        side: order.side,
        type: order.type,
        qty: formatDecimal(qty),
        price: formatDecimal(fillPrice),
        reduceOnly: order.reduceOnly,
      };
      orders.push(record);
      byClientId.set(idKey, record);
      return stateOf("placed", record);
    },

    async lookup(ref: OrderRef): Promise<LookupOutcome> {
      const record = byClientId.get(key(ref.account, ref.venueRef));
      if (record === undefined || record.symbol !== ref.symbol) return { kind: "not_found" };
      return stateOf("found", record);
    },

    async positions(account: string): Promise<PositionsOutcome> {
      const out: VenuePosition[] = [];
      for (const p of positions.values()) {
        if (p.account === account) out.push({ account, symbol: p.symbol, qty: formatDecimal(p.qty) });
      }
      return { ok: true, positions: out };
    },

    async readiness(): Promise<Readiness> {
      return closed ? { ready: false, detail: "closed" } : { ready: true, detail: "paper venue" };
    },

    async close(): Promise<void> {
      closed = true;
    },

    setPrice(symbol, price) {
      if (price === undefined) prices.delete(symbol);
      else setPriceIn(prices, symbol, price);
    },

    setPosition(account, symbol, qty) {
      const value = parseDecimal(qty, { signed: true });
      if (value === undefined) throw new TypeError(`paper position for ${symbol}: not a decimal`);
      putPosition(account, symbol, value);
    },

    orders: () => [...orders],
  };
  Object.defineProperty(venue, inspect.custom, {
    value: () => `PaperVenue { orders: ${orders.length}, positions: ${positions.size} }`,
  });
  return venue;
}

function setPriceIn(prices: Map<string, Decimal>, symbol: string, text: string): void {
  const price = parseDecimal(text);
  if (price === undefined || price <= 0n) throw new TypeError(`paper price for ${symbol}: not a decimal > 0`);
  prices.set(symbol, price);
}

function stateOf<K extends "placed" | "found">(kind: K, record: PaperOrderRecord) {
  return {
    kind,
    orderId: record.orderId,
    status: "filled" as const,
    fillQty: record.qty,
    avgPrice: record.price,
  };
}
