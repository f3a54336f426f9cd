import type { VenueName } from "../core/plan.js";
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
} from "../ports/venue.js";

/** The half of a venue adapter that places orders. */
export type VenueOrderPlacement = Pick<Venue, "prepare" | "send">;

/** The half of a venue adapter that reads: order lookup, positions, readiness. */
export type VenueReading = Pick<Venue, "lookup" | "positions" | "readiness">;

/**
 * A {@link Venue} made of its order placement and its reads: the port's
 * methods are passed on to the two parts here, once for every adapter. A
 * subclass builds the parts, hands them to `super`, and adds its name,
 * `inFlightMs` and `close`.
 */
export abstract class ComposedVenue implements Venue {
  abstract readonly name: VenueName;
  abstract readonly inFlightMs: number;
  readonly #placement: VenueOrderPlacement;
  readonly #reads: VenueReading;

  protected constructor(parts: { readonly placement: VenueOrderPlacement; readonly reads: VenueReading }) {
    this.#placement = parts.placement;
    this.#reads = parts.reads;
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

  readiness(): Promise<Readiness> {
    return this.#reads.readiness();
  }

  abstract close(): Promise<void>;
}
