import type { VenueName } from "../core/plan.js";
import type { Reason, VenueErrorDetail } from "../core/reasons.js";
import type { OrderGuard, OrderRef, VenueOrder, VenueOrderState } from "../core/venueOrder.js";

export type { OrderGuard, OrderRef, VenueOrder, VenueOrderState } from "../core/venueOrder.js";

/**
 * The venue port: where an accepted plan becomes an order. Live venues
 * (Binance USDⓈ-M, Polymarket CLOB) sign through the signing plane and never
 * hold a key; the paper venue is not a port adapter but the execution step in core (core/executionPlan.ts).
 *
 * Sending is split in two so the executor can record durably, between them,
 * that an order is about to be sent (wire-v1 §6 `UNKNOWN`):
 *
 *   1. {@link Venue.prepare}: checks the order against the venue's own rules
 *      (filters, tick sizes), signs what can be signed ahead, and fixes the
 *      {@link OrderRef} by which the order can later be found; never sends.
 *   2. {@link Venue.send}: sends it once. Never retried by the adapter after
 *      the request may have reached the venue.
 *
 * An outcome that is not known for sure is `unknown`, never a guess: the
 * executor then writes `UNKNOWN` and reconciles with {@link Venue.lookup}.
 * Adapters never throw for venue answers; they return typed outcomes whose
 * `reason` is a wire-v1 §6 reason code.
 */
export interface Venue {
  readonly name: VenueName;
  /**
   * How long after `send` starts an order that {@link Venue.lookup} reports
   * `not_found` might still appear at the venue (a request in flight). After
   * it, `not_found` is final. Binance: the request's `recvWindow` bounds it.
   */
  readonly inFlightMs: number;
  prepare(order: VenueOrder, guard: OrderGuard): Promise<PrepareOutcome>;
  send(prepared: PreparedOrder): Promise<SendOutcome>;
  /** Finds an order by its ref (client order id, or Polymarket's order hash). */
  lookup(ref: OrderRef): Promise<LookupOutcome>;
  /** Open positions of one account; `qty` signed (short < 0). */
  positions(account: string): Promise<PositionsOutcome>;
  /**
   * The venue's own reference prices, read now from its public market data
   * (unsigned, no key): Binance's mark prices (every symbol; `symbols` is a
   * filter, empty for all), Polymarket's book midpoint and best bid and ask
   * per token in `symbols`. A symbol whose price cannot be read is left out.
   */
  marketPrices(symbols: readonly string[]): Promise<MarketPricesOutcome>;
  /** Whether live orders may be sent now: credentials work, clock skew within bounds, rules loaded. */
  readiness(): Promise<Readiness>;
  /**
   * Cancels one order by its ref, signed through the signing plane with the
   * venue's cancel route. Sent once; never retried by the adapter after the
   * request may have reached the venue (the caller looks the order up, or
   * asks again: a second cancel of a cancelled order is `not_open`).
   */
  cancel(ref: OrderRef): Promise<CancelOutcome>;
  /**
   * Arms (or refreshes) the venue's own dead-man switch for one account, so
   * that the venue cancels its open orders by itself if no refresh follows in
   * time: Binance `countdownCancelAll` for each of `symbols`; Polymarket a
   * heartbeat. Called by one executor (the follower holding the lease) while
   * live working orders exist.
   */
  keepAlive(request: KeepAliveRequest): Promise<KeepAliveOutcome>;
  close(): Promise<void>;
}

/** A prepared order: its ref, and what only the adapter reads. */
export interface PreparedOrder {
  readonly ref: OrderRef;
  readonly venueData: unknown;
}

export type PrepareOutcome =
  | { readonly ok: true; readonly prepared: PreparedOrder }
  /** Refused before sending (a filter, a signer denial): nothing placed. `reason` is a wire-v1 code. */
  | { readonly ok: false; readonly reason: Reason; readonly decision: "DENIED" | "FAILED" };

export type SendOutcome =
  | ({ readonly kind: "placed" } & VenueOrderState)
  /** The venue said no: nothing placed. */
  | { readonly kind: "rejected"; readonly reason: Reason }
  /** The venue says this client order id exists already: placed before; reconcile. */
  | { readonly kind: "already_placed"; readonly detail: string }
  /** May or may not have been placed (timeout, dropped response, 5xx, -1006/-1007). */
  | { readonly kind: "unknown"; readonly detail: VenueErrorDetail };

export type LookupOutcome =
  | ({ readonly kind: "found" } & VenueOrderState)
  | { readonly kind: "not_found" }
  /** Could not ask (network, 5xx, throttled). */
  | { readonly kind: "unavailable"; readonly detail: string };

export type CancelOutcome =
  /** The venue cancelled it; its state after the cancel (what had filled before stays filled). */
  | ({ readonly kind: "canceled" } & VenueOrderState)
  /** The venue says the order is not open (filled, cancelled before, expired, or unknown to it). */
  | { readonly kind: "not_open"; readonly detail: string }
  /** Refused, nothing changed (a signer denial, a rate limit); `reason` is a wire-v1 code. */
  | { readonly kind: "rejected"; readonly reason: Reason; readonly rateLimited: boolean }
  /** May or may not have been cancelled (timeout, dropped response, 5xx): look it up. */
  | { readonly kind: "unknown"; readonly detail: string };

/** What {@link Venue.keepAlive} arms: one account, and (Binance) the symbols with working orders. */
export interface KeepAliveRequest {
  readonly account: string;
  readonly symbols: readonly string[];
}

export type KeepAliveOutcome =
  | { readonly ok: true }
  /** Not armed or refreshed; `rateLimited` when the venue or the signer said to slow down. */
  | { readonly ok: false; readonly detail: string; readonly rateLimited: boolean };

/** One open position; `qty` is a signed canonical decimal. */
export interface VenuePosition {
  readonly account: string;
  readonly symbol: string;
  readonly qty: string;
}

export type PositionsOutcome =
  | { readonly ok: true; readonly positions: readonly VenuePosition[] }
  | { readonly ok: false; readonly detail: string };

/** One symbol's price; decimals as canonical text. */
export interface MarketPrice {
  readonly symbol: string;
  /** The reference (Binance mark price, Polymarket midpoint). */
  readonly price: string;
  readonly bid?: string;
  readonly ask?: string;
  /** `mark` or `book_mid`. */
  readonly kind: string;
}

export type MarketPricesOutcome =
  | { readonly ok: true; readonly prices: readonly MarketPrice[] }
  | { readonly ok: false; readonly detail: string };

export interface Readiness {
  /** Whether the venue as a whole may take live orders (clock, rules, at least one account's credentials). */
  readonly ready: boolean;
  /** Why not ready, or a short summary when ready. Never holds a secret. */
  readonly detail: string;
  /**
   * Per account, whether its credentials work; an account missing here is
   * ready when `ready` is. One account's revoked key must not stop the others.
   */
  readonly accounts?: Readonly<Record<string, { readonly ready: boolean; readonly detail: string }>>;
  /** Measured clock offset (venue − local), when the venue has a clock. */
  readonly clockOffsetMs?: number;
}
