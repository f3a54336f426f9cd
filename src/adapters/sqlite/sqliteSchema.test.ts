import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { SqlitePositions } from "./sqlitePositions.js";
import { MIGRATIONS, openDatabase } from "./sqliteSchema.js";

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe("sqlite schema migrations", () => {
  it("migration 6: a bus written before books were told apart keeps its positions, as the paper venue's book", async () => {
    dir = mkdtempSync(join(tmpdir(), "ig-schema-"));
    const path = join(dir, "bus.db");
    // a bus at schema 5, as an earlier release left it, holding two positions
    const old = new Database(path);
    for (const sql of MIGRATIONS.slice(0, 5)) old.exec(sql);
    old.pragma("user_version = 5");
    const put = old.prepare("INSERT INTO ig_position (prefix, account, symbol, qty) VALUES (?, ?, ?, ?)");
    put.run("ig:", "acct-1", "BTCUSDT", "-1.25");
    put.run("ig:", "acct-2", "ETHUSDT", "3");
    old.close();

    const db = await openDatabase(path, { create: false });
    try {
      expect(db.pragma("user_version", { simple: true })).toBe(MIGRATIONS.length);
      const positions = new SqlitePositions(db, "ig:");
      expect(positions.all()).toEqual([
        { venue: "paper", mode: "paper", account: "acct-1", symbol: "BTCUSDT", qty: "-1.25" },
        { venue: "paper", mode: "paper", account: "acct-2", symbol: "ETHUSDT", qty: "3" },
      ]);
      const live = { account: "acct-1", symbol: "BTCUSDT", venue: "binance-usdm", mode: "live" } as const;
      expect(positions.text(live)).toBe("0");
      // a mode that is neither paper nor live is refused by the table itself
      expect(() =>
        db
          .prepare(
            "INSERT INTO ig_book_position (prefix, venue, mode, account, symbol, qty) VALUES ('ig:', 'paper', 'papr', 'a', 'S', '1')",
          )
          .run(),
      ).toThrow(/CHECK constraint/);
    } finally {
      db.close();
    }
  });
});
