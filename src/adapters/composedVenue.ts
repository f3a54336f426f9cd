import type { VenueName } from "../core/plan.js";
import type {
  CancelOutcome,
  KeepAliveOutcome,
  KeepAliveRequest,
  LookupOutcome,
  MarketPricesOutcome,
  OrderGuard,
  OrderRef,
  PositionsOutcome,
  PreparedOrder,
  PrepareOutcome,
  Readiness,
  SendOutcome,
  Venue,
  VenueOrder,
} from "../ports/venue.js";

/** The half of a venue adapter that places orders. */
export type VenueOrderPlacement = Pick<Venue, "prepare" | "send">;

/** The half of a venue adapter that reads: order lookup, positions, market prices, readiness. */
export type VenueReading = Pick<Venue, "lookup" | "positions" | "marketPrices" | "readiness">;

/** The part of a venue adapter that controls orders after they are placed: cancels and the dead-man switch. */
export type VenueOrderControl = Pick<Venue, "cancel" | "keepAlive">;

/**
 * A {@link Venue} made of its order placement, its reads and its order control: the port's
 * methods are passed on to the two parts here, once for every adapter. A
 * subclass builds the parts, hands them to `super`, and adds its name,
 * `inFlightMs` and `close`.
 */
export abstract class ComposedVenue implements Venue {
  abstract readonly name: VenueName;
  abstract readonly inFlightMs: number;
  readonly #placement: VenueOrderPlacement;
  readonly #reads: VenueReading;
  readonly #control: VenueOrderControl;

  protected constructor(parts: {
    readonly placement: VenueOrderPlacement;
    readonly reads: VenueReading;
    readonly control: VenueOrderControl;
  }) {
    this.#placement = parts.placement;
    this.#reads = parts.reads;
    this.#control = parts.control;
  }

  prepare(order: VenueOrder, guard: OrderGuard): Promise<PrepareOutcome> {
    return this.#placement.prepare(order, guard);
  }

  send(prepared: PreparedOrder): Promise<SendOutcome> {
    return this.#placement.send(prepared);
  }

  lookup(ref: OrderRef): Promise<LookupOutcome> {
    return this.#reads.lookup(ref);
  }

  positions(account: string): Promise<PositionsOutcome> {
    return this.#reads.positions(account);
  }

  marketPrices(symbols: readonly string[]): Promise<MarketPricesOutcome> {
    return this.#reads.marketPrices(symbols);
  }

  readiness(): Promise<Readiness> {
    return this.#reads.readiness();
  }

  cancel(ref: OrderRef): Promise<CancelOutcome> {
    return this.#control.cancel(ref);
  }

  keepAlive(request: KeepAliveRequest): Promise<KeepAliveOutcome> {
    return this.#control.keepAlive(request);
  }

  abstract close(): Promise<void>;
}
