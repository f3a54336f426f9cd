import { type PositionRef, positionKey } from "../core/facts.js";
import { liveBook, withLiveFills } from "../core/liveFill.js";
import type { OrderUpdate } from "../core/orderUpdate.js";
import type { WorkingOrder } from "../core/workingOrder.js";
import type { Ledger } from "../ports/ledger.js";

/** The positions `books` name as stored now, per `positionKey` (absent: flat); each book read once. */
export async function readBooks(
  ledger: Pick<Ledger, "readFacts">,
  books: readonly PositionRef[],
): Promise<ReadonlyMap<string, string>> {
  if (books.length === 0) return new Map();
  const unique = [...new Map(books.map((b) => [positionKey(b), b])).values()];
  const facts = await ledger.readFacts({ planIds: [], permitIds: [], rates: [], positions: unique });
  return facts.positions;
}

/**
 * `withLiveFills` over the live books as stored now: the updates of live
 * working orders with the moves their new fills make. Only the books of
 * orders whose event reports another fill than they hold are read (none:
 * no read).
 */
export async function withLiveFillsNow(
  ledger: Pick<Ledger, "readFacts">,
  pairs: ReadonlyArray<{ readonly order: WorkingOrder; readonly update: OrderUpdate }>,
): Promise<OrderUpdate[]> {
  const moved = pairs.filter(
    ({ order, update }) => order.mode === "live" && update.event.fill_qty !== order.fill_qty,
  );
  return withLiveFills(
    pairs,
    await readBooks(
      ledger,
      moved.map(({ order }) => liveBook(order)),
    ),
  );
}
