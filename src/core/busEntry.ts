import type { Lane } from "./plan.js";

/** One plan entry as handed to a consumer. */
export interface BusEntry {
  readonly lane: Lane;
  /** The entry's id on its lane's stream. */
  readonly id: string;
  /** Raw fields in stream order; a repeated name appears twice. */
  readonly fields: ReadonlyArray<readonly [string, Buffer]>;
  /** How many times it has been handed out, this time included. */
  readonly deliveries: number;
}
