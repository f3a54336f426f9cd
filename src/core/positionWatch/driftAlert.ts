import type { AlertSeverity } from "../alertRules/alert.js";
import type { PositionBook } from "./slot.js";

/**
 * A position at a venue (or in the paper ledger) that differs from what
 * IntentGate's results and order events explain, in two readings in a row
 * (wire-v1 §1a `position_drift`). `expected` and `actual` are signed decimal
 * strings; `drift` is `actual − expected`, the change no plan explains.
 */
export interface PositionDriftAlert {
  readonly v: 1;
  readonly kind: "position_drift";
  readonly severity: AlertSeverity;
  readonly timestamp: number;
  readonly dedup_key: string;
  /** The venue (`paper` for the paper ledger). */
  readonly venue: PositionBook;
  readonly account: string;
  readonly symbol: string;
  readonly expected: string;
  readonly actual: string;
  readonly drift: string;
  /** What the watcher did about it (`watch.positions.on_drift`). */
  readonly action: DriftAction;
}

/** What drift does to the trading state: nothing more than the alert, `REDUCING`, or `HALTED`. */
export type DriftAction = "alert" | "reduce" | "halt";

/** The watcher could not read an account's positions at a venue (credentials, network); it compares nothing there meanwhile. */
export interface VenueUnreadableAlert {
  readonly v: 1;
  readonly kind: "venue_unreadable";
  readonly severity: AlertSeverity;
  readonly timestamp: number;
  readonly dedup_key: string;
  readonly venue: PositionBook;
  readonly account: string;
  /** Why, as the venue adapter said it (never a secret). */
  readonly error: string;
  /** When the last successful read was, or null when none was. */
  readonly last_read: number | null;
}

/** The alerts the position watcher raises. */
export type PositionAlert = PositionDriftAlert | VenueUnreadableAlert;
