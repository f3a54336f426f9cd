import { EXPOSURE_IDS } from "../../core/exposure.js";
import { positionKey } from "../../core/facts.js";
import type { VenueName } from "../../core/plan.js";
import type { Db } from "./sqliteSchema.js";

/**
 * What the account caps read and write on the embedded bus
 * (`limits.max_daily_notional`, `limits.max_open_orders`): `ig_daily` rows,
 * and the count of an account's open orders. Every method runs inside a
 * transaction the caller opened, so a cap is re-checked in the same atomic
 * step as the commit it guards.
 */
export class SqliteAccountCaps {
  private readonly q;

  constructor(
    db: Db,
    private readonly prefix: string,
  ) {
    const p = <R = unknown>(sql: string) => db.prepare<unknown[], R>(sql);
    this.q = {
      daily: p<{ notional: string }>(
        "SELECT notional FROM ig_daily WHERE prefix = ? AND account = ? AND day = ?",
      ),
      setDaily: p(
        `INSERT INTO ig_daily (prefix, account, day, notional) VALUES (?, ?, ?, ?)
         ON CONFLICT (prefix, account, day) DO UPDATE SET notional = excluded.notional`,
      ),
      // Working orders, plus live orders being sent or UNKNOWN (a cancel plan's record is no order).
      // json_extract fails the statement on a record that is not JSON: never counted on a guess.
      openOrders: p<{ n: number }>(
        `SELECT (SELECT count(*) FROM ig_order WHERE prefix = ? AND account = ?)
              + (SELECT count(*) FROM ig_send WHERE prefix = ?
                   AND json_extract(record, '$.kind') IS NOT 'cancel'
                   AND json_extract(record, '$.ref.account') = ?) AS n`,
      ),
      exposurePositions: p<{ venue: VenueName; mode: "paper" | "live"; symbol: string; qty: string }>(
        "SELECT venue, mode, symbol, qty FROM ig_book_position WHERE prefix = ? AND account = ? AND qty <> '0'",
      ),
      exposureOrders: p<{ key: string; record: string }>(
        "SELECT key, record FROM ig_order WHERE prefix = ? AND account = ?",
      ),
      exposureSends: p<{ lane: string; stream_id: string; state: string; record: string }>(
        `SELECT lane, stream_id, state, record FROM ig_send WHERE prefix = ?
           AND json_extract(record, '$.kind') IS NOT 'cancel'
           AND json_extract(record, '$.ref.account') = ?`,
      ),
    };
  }

  /**
   * The account's exposure entries (`core/exposure.ts` snapshot ids and
   * texts): its positions in every book, its working orders, its live orders
   * being sent and open UNKNOWN.
   */
  *exposureEntries(account: string): Generator<[string, string]> {
    const { position, working, sending, unknown } = EXPOSURE_IDS;
    for (const r of this.q.exposurePositions.all(this.prefix, account))
      yield [position + positionKey({ account, symbol: r.symbol, venue: r.venue, mode: r.mode }), r.qty];
    for (const r of this.q.exposureOrders.all(this.prefix, account)) yield [working + r.key, r.record];
    for (const r of this.q.exposureSends.all(this.prefix, account))
      yield [(r.state === "sending" ? sending : unknown) + `${r.lane}:${r.stream_id}`, r.record];
  }

  /** The account's notional placed on `day`, canonical decimal text ("0" when none). */
  dailyText(account: string, day: string): string {
    return this.q.daily.get(this.prefix, account, day)?.notional ?? "0";
  }

  /** Stores the account's notional placed on `day`. */
  setDaily(account: string, day: string, value: string): void {
    this.q.setDaily.run(this.prefix, account, day, value);
  }

  /** How many orders the account has open: working, being sent, or UNKNOWN. */
  openOrders(account: string): number {
    return this.q.openOrders.get(this.prefix, account, this.prefix, account)?.n ?? 0;
  }
}
