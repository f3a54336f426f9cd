import { formatDecimal, storedDecimal } from "./decimal.js";
import { type PositionMove, type PositionRef, positionKey } from "./facts.js";
import type { OrderUpdate } from "./orderUpdate.js";
import { positionAfter, positionDelta } from "./paperFill.js";
import type { Side } from "./plan.js";
import type { WorkingOrder } from "./workingOrder.js";

/**
 * The move a live order's fill makes to its live book: the order's
 * cumulative fill went from `filledBefore` to `filledNow`, so the position
 * moves by the difference (`+` for BUY, `-` for SELL), from `positionText`
 * as stored. Undefined when nothing more filled (a venue's cumulative fill
 * never goes back: a smaller one moves nothing). Throws when a text is not a
 * decimal: a position is never moved on a guess.
 */
export function liveFillMove(opts: {
  readonly book: PositionRef;
  readonly side: Side;
  readonly filledBefore: string;
  readonly filledNow: string;
  readonly positionText: string;
}): PositionMove | undefined {
  const { book } = opts;
  const what = `${book.venue} ${book.mode} position of ${book.account} in ${book.symbol}`;
  const before = storedDecimal(opts.filledBefore, `fill before (${what})`);
  const now = storedDecimal(opts.filledNow, `fill now (${what})`);
  if (now <= before) return undefined;
  const position = storedDecimal(opts.positionText, what);
  const delta = positionDelta(opts.side, (now - before) as typeof now);
  return { ...book, expected: opts.positionText, value: formatDecimal(positionAfter(position, delta)) };
}

/** The live book an order at `venue` fills in. */
export const liveBook = (o: {
  readonly venue: PositionRef["venue"];
  readonly account: string;
  readonly symbol: string;
}): PositionRef => ({ account: o.account, symbol: o.symbol, venue: o.venue, mode: "live" });

/**
 * The follower's updates of live working orders with the moves their new
 * fills make to the live books: an update whose event reports more filled
 * than its order held moves the order's book by the difference. Updates of
 * one book chain (each expects what the one before it leaves), as the
 * ledger applies them in order. `positions` are the books as stored, per
 * {@link positionKey}. Orders on paper are returned as they are.
 */
export function withLiveFills(
  pairs: ReadonlyArray<{ readonly order: WorkingOrder; readonly update: OrderUpdate }>,
  positions: ReadonlyMap<string, string>,
): OrderUpdate[] {
  const books = new Map(positions);
  return pairs.map(({ order, update }) => {
    if (order.mode !== "live") return update;
    const book = liveBook(order);
    const key = positionKey(book);
    const move = liveFillMove({
      book,
      side: order.side,
      filledBefore: order.fill_qty,
      filledNow: update.event.fill_qty,
      positionText: books.get(key) ?? "0",
    });
    if (move === undefined) return update;
    books.set(key, move.value);
    return { ...update, position: move };
  });
}
