import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { isBusy, sleep } from "./sqliteBusy.js";

/** A better-sqlite3 connection. */
export type Db = Database.Database;

/**
 * Schema of the embedded bus. One file holds any number of deployments: every
 * table has a `prefix` column (the wire-v1 key prefix) leading its key, so two
 * prefixes in one file never see each other's rows.
 *
 * - `ig_stream`: every stream (plan lanes, results, DLQ, alerts, state log),
 *   one row per entry keyed by `(prefix, stream, ms, seq)`; `fields` is the
 *   lossless blob of `fieldCodec.ts`. Result rows also carry the plan entry
 *   they answer (`ref_lane`, `ref_id`, `reconciled`) under a UNIQUE index:
 *   a second guard, beside the pending check, against two results for one
 *   entry (a `reconciled: true` follow-up of an UNKNOWN result is allowed).
 * - `ig_group`: the consumer group's last-delivered id per plan lane.
 * - `ig_pending`: entries handed out and not yet acknowledged, with their
 *   holder, hand-out time (the lease starts there) and delivery count.
 * - `ig_kv`: scalar state (the trading state).
 * - `ig_plan_id`, `ig_permit`: claimed plan_ids / consumed permit_ids →
 *   `<lane>:<stream_id>` of the entry that took them.
 * - `ig_rate`: plans counted per (source, one-second window), expiring 10 s
 *   after the last increment like the Redis keys.
 * - `ig_book_position` (migration 6; `ig_position` before it, whose rows
 *   it took over as the paper venue's book): non-zero positions as
 *   canonical decimal text, per book (venue and mode: `paper` for the paper
 *   venue and a live venue's dry run, `live` for fills at the venue).
 * - `ig_send` (migration 2): live orders by entry: `state` `sending` (stage 1
 *   committed, entry still pending) or `unknown` (an `UNKNOWN` result written,
 *   awaiting its reconciled follow-up); `record` is the send record JSON.
 * - `ig_order` (migration 3): working orders (wire-v1 §4a) by key, `record`
 *   the canonical text of `encodeWorkingOrder`; venue and account lifted
 *   out for cancel-all scopes.
 * - `ig_dup` (migration 4): duplicate-order marks (`limits.duplicate_window_ms`)
 *   by `duplicateKeyOf` key: when a plan with that content executed, and
 *   until when the mark counts (an expired row reads as absent, like the
 *   Redis key that expired).
 * - `ig_daily` (migration 5): notional placed per (account, UTC day) as
 *   canonical decimal text (`limits.max_daily_notional`); kept, so a restart
 *   never resets a day.
 *
 * Migrations are numbered; `PRAGMA user_version` records the last applied.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE IF NOT EXISTS ig_stream (
    prefix TEXT NOT NULL,
    stream TEXT NOT NULL,
    ms INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    fields BLOB NOT NULL,
    ref_lane TEXT,
    ref_id TEXT,
    reconciled INTEGER,
    PRIMARY KEY (prefix, stream, ms, seq)
  );
  CREATE UNIQUE INDEX IF NOT EXISTS ig_stream_one_result
    ON ig_stream (prefix, stream, ref_lane, ref_id, reconciled) WHERE ref_id IS NOT NULL;
  CREATE TABLE IF NOT EXISTS ig_group (
    prefix TEXT NOT NULL,
    lane TEXT NOT NULL,
    last_ms INTEGER NOT NULL,
    last_seq INTEGER NOT NULL,
    PRIMARY KEY (prefix, lane)
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS ig_pending (
    prefix TEXT NOT NULL,
    lane TEXT NOT NULL,
    ms INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    consumer TEXT NOT NULL,
    delivered_at INTEGER NOT NULL,
    deliveries INTEGER NOT NULL,
    PRIMARY KEY (prefix, lane, ms, seq)
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS ig_pending_by_age ON ig_pending (prefix, delivered_at);
  CREATE TABLE IF NOT EXISTS ig_kv (
    prefix TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (prefix, key)
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS ig_plan_id (
    prefix TEXT NOT NULL,
    plan_id TEXT NOT NULL,
    owner TEXT NOT NULL,
    PRIMARY KEY (prefix, plan_id)
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS ig_permit (
    prefix TEXT NOT NULL,
    permit_id TEXT NOT NULL,
    owner TEXT NOT NULL,
    PRIMARY KEY (prefix, permit_id)
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS ig_rate (
    prefix TEXT NOT NULL,
    source TEXT NOT NULL,
    window INTEGER NOT NULL,
    count INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (prefix, source, window)
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS ig_rate_by_expiry ON ig_rate (prefix, expires_at);
  CREATE TABLE IF NOT EXISTS ig_position (
    prefix TEXT NOT NULL,
    account TEXT NOT NULL,
    symbol TEXT NOT NULL,
    qty TEXT NOT NULL,
    PRIMARY KEY (prefix, account, symbol)
  ) WITHOUT ROWID;
  `,
  `
  CREATE TABLE IF NOT EXISTS ig_send (
    prefix TEXT NOT NULL,
    lane TEXT NOT NULL,
    stream_id TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('sending', 'unknown')),
    venue TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    record TEXT NOT NULL,
    PRIMARY KEY (prefix, lane, stream_id)
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS ig_send_by_state ON ig_send (prefix, state, started_at);
  `,
  `
  CREATE TABLE IF NOT EXISTS ig_order (
    prefix TEXT NOT NULL,
    key TEXT NOT NULL,
    venue TEXT NOT NULL,
    account TEXT NOT NULL,
    placed_at INTEGER NOT NULL,
    record TEXT NOT NULL,
    PRIMARY KEY (prefix, key)
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS ig_order_by_scope ON ig_order (prefix, venue, account);
  `,
  `
  CREATE TABLE IF NOT EXISTS ig_dup (
    prefix TEXT NOT NULL,
    key TEXT NOT NULL,
    at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (prefix, key)
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS ig_dup_by_expiry ON ig_dup (prefix, expires_at);
  `,
  `
  CREATE TABLE IF NOT EXISTS ig_daily (
    prefix TEXT NOT NULL,
    account TEXT NOT NULL,
    day TEXT NOT NULL,
    notional TEXT NOT NULL,
    PRIMARY KEY (prefix, account, day)
  ) WITHOUT ROWID;
  `,
  `
  CREATE TABLE ig_book_position (
    prefix TEXT NOT NULL,
    venue TEXT NOT NULL,
    mode TEXT NOT NULL CHECK (mode IN ('paper', 'live')),
    account TEXT NOT NULL,
    symbol TEXT NOT NULL,
    qty TEXT NOT NULL,
    PRIMARY KEY (prefix, venue, mode, account, symbol)
  ) WITHOUT ROWID;
  INSERT INTO ig_book_position (prefix, venue, mode, account, symbol, qty)
    SELECT prefix, 'paper', 'paper', account, symbol, qty FROM ig_position;
  DROP TABLE ig_position;
  `,
];

/** Milliseconds a statement waits for another process's lock before SQLITE_BUSY. */
export const BUSY_TIMEOUT_MS = 5000;

/**
 * Opens the database file and brings its schema up to date; with `create`,
 * creates it and its parent directories when missing (else a missing file is
 * an error, never a new empty bus). Safe when several processes open the same
 * new file at once: the pragmas and migrations retry on SQLITE_BUSY.
 *
 * Durability: WAL with `synchronous=FULL`, so every committed transaction
 * (a result + its ACK, a state change) is fsynced before the call returns and
 * survives power loss, not only a process crash. In WAL mode this costs one
 * fsync of the WAL per transaction, which the executor amortises by
 * committing a whole batch in one transaction.
 */
export async function openDatabase(path: string, opts: { readonly create: boolean }): Promise<Db> {
  if (opts.create) mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path, { fileMustExist: !opts.create });
  try {
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    await retryBusy(() => {
      const mode = db.pragma("journal_mode = WAL", { simple: true });
      if (String(mode).toLowerCase() !== "wal")
        throw new Error(`sqlite bus: cannot enable WAL on ${path} (${mode})`);
    });
    db.pragma("synchronous = FULL");
    await retryBusy(() => migrate(db));
    return db;
  } catch (e) {
    db.close();
    throw e;
  }
}

function migrate(db: Db): void {
  const current = db.pragma("user_version", { simple: true }) as number;
  if (current >= MIGRATIONS.length) return;
  db.transaction(() => {
    const v = db.pragma("user_version", { simple: true }) as number;
    for (let i = v; i < MIGRATIONS.length; i++) db.exec(MIGRATIONS[i]!);
    if (v < MIGRATIONS.length) db.pragma(`user_version = ${MIGRATIONS.length}`);
  }).immediate();
}

async function retryBusy(fn: () => void): Promise<void> {
  const deadline = Date.now() + 4 * BUSY_TIMEOUT_MS;
  for (;;) {
    try {
      fn();
      return;
    } catch (e) {
      if (!isBusy(e) || Date.now() > deadline) throw e;
      await sleep(5 + Math.random() * 20);
    }
  }
}
