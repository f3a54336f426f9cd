import type { PositionRef } from "../../core/facts.js";
import type { LedgerPosition } from "../../ports/ledger.js";
import type { Db } from "./sqliteSchema.js";

/**
 * Positions on the embedded bus (`ig_book_position`), one row per book
 * (venue, mode), account and symbol; "0" is never stored. Every method runs
 * inside a transaction the caller opened where it guards a commit.
 */
export class SqlitePositions {
  private readonly q;

  constructor(
    db: Db,
    private readonly prefix: string,
  ) {
    const p = <R = unknown>(sql: string) => db.prepare<unknown[], R>(sql);
    const where = "prefix = ? AND venue = ? AND mode = ? AND account = ? AND symbol = ?";
    this.q = {
      get: p<{ qty: string }>(`SELECT qty FROM ig_book_position WHERE ${where}`),
      set: p(
        `INSERT INTO ig_book_position (prefix, venue, mode, account, symbol, qty) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (prefix, venue, mode, account, symbol) DO UPDATE SET qty = excluded.qty`,
      ),
      delete: p(`DELETE FROM ig_book_position WHERE ${where}`),
      all: p<LedgerPosition>(
        `SELECT venue, mode, account, symbol, qty FROM ig_book_position WHERE prefix = ? AND qty <> '0'
         ORDER BY venue, mode, account, symbol`,
      ),
    };
  }

  private args(ref: PositionRef): [string, string, string, string, string] {
    return [this.prefix, ref.venue, ref.mode, ref.account, ref.symbol];
  }

  /** The position's canonical decimal text, "0" when none is stored. */
  text(ref: PositionRef): string {
    return this.q.get.get(...this.args(ref))?.qty ?? "0";
  }

  /** Stores the position ("0" removes it). */
  set(ref: PositionRef, value: string): void {
    if (value === "0") this.q.delete.run(...this.args(ref));
    else this.q.set.run(...this.args(ref), value);
  }

  /** Every non-zero position, by book, account and symbol. */
  all(): LedgerPosition[] {
    return this.q.all.all(this.prefix).map((r) => ({
      venue: r.venue,
      mode: r.mode,
      account: r.account,
      symbol: r.symbol,
      qty: r.qty,
    }));
  }
}
