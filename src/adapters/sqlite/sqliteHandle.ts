import { statSync } from "node:fs";
import type { Statement } from "better-sqlite3";
import type { Lane } from "../../core/plan.js";
import { SqliteLedgerStore } from "./sqliteLedger.js";
import { type Db, openDatabase } from "./sqliteSchema.js";
import { StreamStore } from "./sqliteStreams.js";

/**
 * One open bus file and everything prepared on it (streams, ledger, the
 * consumer-group statements), with the file's identity: the SQLite backend
 * replaces it as a whole when the file at the path is deleted or replaced.
 */

export interface PendingRow {
  lane: Lane;
  ms: number;
  seq: number;
  deliveries: number;
}

/** What identifies a file across renames: a replaced or re-created file has another inode. */
export interface FileId {
  readonly dev: number;
  readonly ino: number;
}

/** One open database file and everything prepared on it; replaced as a whole when the file is. */
export interface Handle {
  readonly db: Db;
  readonly file: FileId;
  readonly streams: StreamStore;
  readonly ledger: SqliteLedgerStore;
  readonly q: BusStatements;
}

export async function openHandle(path: string, prefix: string, opts: { create: boolean }): Promise<Handle> {
  const db = await openDatabase(path, opts);
  try {
    const st = statSync(path);
    const streams = new StreamStore(db, prefix);
    const ledger = new SqliteLedgerStore(db, prefix, streams);
    return { db, file: { dev: st.dev, ino: st.ino }, streams, ledger, q: prepareBusStatements(db) };
  } catch (err) {
    db.close();
    throw err;
  }
}

/** Prepared statements of the consumer group and pending list, typed by their rows. */
export interface BusStatements {
  readonly createGroup: Statement;
  readonly group: Statement<unknown[], { last_ms: number; last_seq: number }>;
  readonly setGroup: Statement;
  readonly hasNew: Statement<unknown[], { one: number }>;
  readonly insertPending: Statement;
  readonly idle: Statement<unknown[], PendingRow>;
  readonly takeOver: Statement;
  readonly dropPending: Statement;
  readonly pendingCount: Statement<unknown[], { n: number }>;
}

export function prepareBusStatements(db: Db): BusStatements {
  const p = <R = unknown>(sql: string) => db.prepare<unknown[], R>(sql);
  return {
    createGroup: p("INSERT OR IGNORE INTO ig_group (prefix, lane, last_ms, last_seq) VALUES (?, ?, 0, 0)"),
    group: p<{ last_ms: number; last_seq: number }>(
      "SELECT last_ms, last_seq FROM ig_group WHERE prefix = ? AND lane = ?",
    ),
    setGroup: p("UPDATE ig_group SET last_ms = ?, last_seq = ? WHERE prefix = ? AND lane = ?"),
    hasNew: p<{ one: number }>(
      `SELECT 1 AS one FROM ig_group g JOIN ig_stream s
         ON s.prefix = g.prefix AND s.stream = ? AND (s.ms, s.seq) > (g.last_ms, g.last_seq)
       WHERE g.prefix = ? AND g.lane = ? LIMIT 1`,
    ),
    insertPending: p(
      "INSERT INTO ig_pending (prefix, lane, ms, seq, consumer, delivered_at, deliveries) VALUES (?, ?, ?, ?, ?, ?, 1)",
    ),
    idle: p<PendingRow>(
      `SELECT lane, ms, seq, deliveries FROM ig_pending WHERE prefix = ? AND delivered_at <= ?
       ORDER BY ms, seq LIMIT ?`,
    ),
    takeOver: p(
      `UPDATE ig_pending SET consumer = ?, delivered_at = ?, deliveries = deliveries + 1
       WHERE prefix = ? AND lane = ? AND ms = ? AND seq = ?`,
    ),
    dropPending: p("DELETE FROM ig_pending WHERE prefix = ? AND lane = ? AND ms = ? AND seq = ?"),
    pendingCount: p<{ n: number }>("SELECT count(*) AS n FROM ig_pending WHERE prefix = ?"),
  };
}
