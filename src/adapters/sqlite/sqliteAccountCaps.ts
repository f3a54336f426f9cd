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
    };
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
