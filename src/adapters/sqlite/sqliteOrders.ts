import type { OrderEvent } from "../../core/orderEvent.js";
import type { VenueName } from "../../core/plan.js";
import {
  decodeWorkingOrder,
  encodeWorkingOrder,
  inScope,
  type OrderScope,
  type StoredWorkingOrder,
  type WorkingOrder,
} from "../../core/workingOrder.js";
import type { Db } from "./sqliteSchema.js";
import { STREAMS, type StreamStore } from "./sqliteStreams.js";

/**
 * Working orders and order events on the embedded bus (`ig_order`, the
 * `stream:order.event` stream). Every method runs inside a transaction the
 * caller opened, so a working order changes in the same atomic step as the
 * result or event that changes it.
 */
export class SqliteOrderStore {
  private readonly q;

  constructor(
    db: Db,
    private readonly prefix: string,
    private readonly streams: StreamStore,
  ) {
    const p = <R = unknown>(sql: string) => db.prepare<unknown[], R>(sql);
    this.q = {
      one: p<{ record: string }>("SELECT record FROM ig_order WHERE prefix = ? AND key = ?"),
      scope: p<{ record: string }>(
        "SELECT record FROM ig_order WHERE prefix = ? AND venue = ? AND account = ? ORDER BY placed_at, key",
      ),
      all: p<{ record: string }>("SELECT record FROM ig_order WHERE prefix = ? ORDER BY placed_at, key"),
      put: p(
        `INSERT INTO ig_order (prefix, key, venue, account, placed_at, record) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (prefix, key) DO UPDATE SET record = excluded.record`,
      ),
      remove: p("DELETE FROM ig_order WHERE prefix = ? AND key = ?"),
    };
  }

  /** The stored text of one order, or undefined. */
  text(key: string): string | undefined {
    return this.q.one.get(this.prefix, key)?.record;
  }

  /** The orders stored under `keys` and every order inside one of `scopes`, per key. */
  read(keys: readonly string[], scopes: readonly OrderScope[]): Map<string, StoredWorkingOrder> {
    const out = new Map<string, StoredWorkingOrder>();
    for (const key of keys) {
      const text = this.text(key);
      if (text !== undefined) out.set(key, { order: decodeWorkingOrder(text), text });
    }
    for (const scope of scopes) {
      for (const { record } of this.q.scope.all(this.prefix, scope.venue, scope.account)) {
        const order = decodeWorkingOrder(record);
        if (inScope(order, scope)) out.set(order.key, { order, text: record });
      }
    }
    return out;
  }

  /** Every working order, oldest first; of one venue when given. */
  list(venue?: VenueName): WorkingOrder[] {
    return this.q.all
      .all(this.prefix)
      .map((r) => decodeWorkingOrder(r.record))
      .filter((o) => venue === undefined || o.venue === venue);
  }

  /** Stores (or replaces) a working order. */
  put(order: WorkingOrder): void {
    this.q.put.run(
      this.prefix,
      order.key,
      order.venue,
      order.account,
      order.placed_at,
      encodeWorkingOrder(order),
    );
  }

  /** Removes a working order. */
  remove(key: string): void {
    this.q.remove.run(this.prefix, key);
  }

  /** Appends an order event (one field `event` holding its JSON); returns its id. */
  appendEvent(event: OrderEvent): string {
    return this.streams.append(STREAMS.orderEvent, [["event", JSON.stringify(event)]]);
  }
}
