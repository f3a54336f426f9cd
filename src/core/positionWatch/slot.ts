import { LIVE_VENUES, type VenueName } from "../plan.js";

/**
 * Where positions are kept and read: `paper` (the ledger's paper positions,
 * which also hold a live venue's dry run) or one live venue.
 */
export type PositionBook = "paper" | (typeof LIVE_VENUES)[number];

/** One position the watcher compares: a symbol of an account in a book. */
export interface PositionSlot {
  readonly book: PositionBook;
  readonly account: string;
  readonly symbol: string;
}

/** The map key of a slot (JSON, so no separator can collide). */
export const slotKey = (s: PositionSlot): string => JSON.stringify([s.book, s.account, s.symbol]);

/** The slot a map key names; undefined for a key {@link slotKey} did not write. */
export function slotOfKey(key: string): PositionSlot | undefined {
  try {
    const v = JSON.parse(key) as unknown;
    if (!Array.isArray(v) || v.length !== 3 || !v.every((x) => typeof x === "string")) return undefined;
    const [book, account, symbol] = v as [string, string, string];
    return isPositionBook(book) ? { book, account, symbol } : undefined;
  } catch {
    return undefined;
  }
}

/** True for a known book name. */
export function isPositionBook(v: string): v is PositionBook {
  return v === "paper" || (LIVE_VENUES as readonly string[]).includes(v);
}

/** The book an order's fills land in: paper for `mode: "paper"` (any venue), else its venue. */
export function bookOf(venue: VenueName, mode: "paper" | "live"): PositionBook {
  return mode === "paper" || venue === "paper" ? "paper" : venue;
}
