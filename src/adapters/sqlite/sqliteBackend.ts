import type { CommitOutcome, Decision } from "../../core/decision.js";
import type { EntryRef, Facts, FactsQuery } from "../../core/facts.js";
import type { SendRecord } from "../../core/liveOrder.js";
import type { VenueName } from "../../core/plan.js";
import { LANES, type Lane, type TradingState } from "../../core/plan.js";
import type { PlanResult } from "../../core/result.js";
import type { Backend, BackendOptions } from "../../ports/backend.js";
import { type BusEntry, CONSUMER_GROUP, type ResultEntry } from "../../ports/bus.js";
import { CommitRefusedError, type PaperPosition, type TradingStateChange } from "../../ports/ledger.js";
import { decodeFields } from "./fieldCodec.js";
import { SqliteLedgerStore } from "./sqliteLedger.js";
import { type Db, openDatabase } from "./sqliteSchema.js";
import { laneStream, STREAMS, StreamStore } from "./sqliteStreams.js";
import { compareStreamIds, formatStreamId, parseStreamId, type StreamId } from "./streamIds.js";

/** First and longest sleep between polls while a read waits for new rows. */
const POLL_MIN_MS = 2;
const POLL_MAX_MS = 25;

/** Whole-transaction retries after SQLITE_BUSY escaped `busy_timeout` (each already waited that long). */
const BUSY_RETRIES = 2;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const isBusy = (e: unknown): boolean =>
  typeof e === "object" && e !== null && String((e as { code?: unknown }).code).startsWith("SQLITE_BUSY");

/**
 * Runs a synchronous transaction, retrying it whole if SQLITE_BUSY still
 * escapes after `busy_timeout` (a very long-held lock). Safe: better-sqlite3
 * rolls a failed transaction back, so a retried one starts from nothing.
 */
async function withBusyRetry<T>(fn: () => T): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return fn();
    } catch (e) {
      if (!isBusy(e) || attempt >= BUSY_RETRIES) throw e;
      await sleep(10 + Math.random() * 40);
    }
  }
}

/**
 * Opens the embedded bus at `opts.url` (`sqlite:<path>`), creating the file,
 * its parent directories and the schema when missing. Several processes may
 * open one file at once (producers, executors, the CLI).
 */
export async function openSqliteBackend(opts: BackendOptions): Promise<Backend> {
  if (!opts.url.startsWith("sqlite:")) throw new Error(`sqlite bus: not a sqlite: URL: ${opts.url}`);
  const path = opts.url.slice("sqlite:".length);
  if (path === "" || path === ":memory:") {
    throw new Error("sqlite bus: give a file path (sqlite:<path>); an in-memory bus cannot be shared");
  }
  return new SqliteBackend(await openDatabase(path), opts.prefix);
}

interface PendingRow {
  lane: Lane;
  ms: number;
  seq: number;
  deliveries: number;
}

/**
 * The SQLite {@link Backend}. better-sqlite3 is synchronous, so each method's
 * transaction runs to completion without interleaving with others of this
 * process; other processes are kept out by `BEGIN IMMEDIATE` (writes) and WAL
 * snapshots (reads), waiting up to `busy_timeout` for a lock.
 */
class SqliteBackend implements Backend {
  readonly kind = "sqlite" as const;
  private readonly streams: StreamStore;
  private readonly ledger: SqliteLedgerStore;
  private readonly q;
  private closed = false;

  constructor(
    private readonly db: Db,
    private readonly prefix: string,
  ) {
    this.streams = new StreamStore(db, prefix);
    this.ledger = new SqliteLedgerStore(db, prefix, this.streams);
    const p = <R = unknown>(sql: string) => db.prepare<unknown[], R>(sql);
    this.q = {
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

  // ---- PlanBus ----

  async ensureGroups(): Promise<void> {
    await withBusyRetry(() =>
      this.db
        .transaction(() => {
          for (const lane of LANES) this.q.createGroup.run(this.prefix, lane);
        })
        .immediate(),
    );
  }

  async readNew(consumer: string, count: number, blockMs: number): Promise<BusEntry[]> {
    if (count <= 0) return [];
    return this.poll(blockMs, () => (this.hasNew() ? this.takeNew(consumer, count) : []));
  }

  async reclaim(consumer: string, minIdleMs: number, count: number): Promise<BusEntry[]> {
    if (count <= 0) return [];
    return withBusyRetry(() => this.reclaimNow(consumer, minIdleMs, count));
  }

  private reclaimNow(consumer: string, minIdleMs: number, count: number): BusEntry[] {
    return this.db
      .transaction((): BusEntry[] => {
        const now = Date.now();
        const out: BusEntry[] = [];
        for (const row of this.q.idle.all(this.prefix, now - minIdleMs, count)) {
          const entry = this.streams.get(laneStream(row.lane), row);
          if (!entry) {
            // The entry itself is gone (as XAUTOCLAIM drops deleted ids from the PEL).
            this.q.dropPending.run(this.prefix, row.lane, row.ms, row.seq);
            continue;
          }
          this.q.takeOver.run(consumer, now, this.prefix, row.lane, row.ms, row.seq);
          out.push({
            lane: row.lane,
            id: formatStreamId(row),
            fields: decodeFields(entry.fields),
            deliveries: row.deliveries + 1,
          });
        }
        return out;
      })
      .immediate();
  }

  async publish(lane: Lane, fields: ReadonlyArray<readonly [string, string | Buffer]>): Promise<string> {
    return withBusyRetry(() =>
      this.db.transaction(() => this.streams.append(laneStream(lane), fields)).immediate(),
    );
  }

  async readResults(afterId: string, count: number, blockMs = 0): Promise<ResultEntry[]> {
    const after = parseStreamId(afterId);
    if (!after) throw new Error(`sqlite bus: bad stream id "${afterId}"`);
    if (count <= 0) return [];
    return this.poll(blockMs, () =>
      this.streams.after(STREAMS.result, after, count).map((row) => {
        const field = decodeFields(row.fields).find(([name]) => name === "result");
        if (!field) throw new Error(`sqlite bus: result entry ${formatStreamId(row)} has no result field`);
        return { id: formatStreamId(row), result: JSON.parse(field[1].toString("utf8")) as PlanResult };
      }),
    );
  }

  async publishAlert(alert: Record<string, unknown>): Promise<string> {
    // One field `alert` holding the JSON, as on Redis.
    const fields: Array<[string, string]> = [["alert", JSON.stringify(alert)]];
    return withBusyRetry(() =>
      this.db.transaction(() => this.streams.append(STREAMS.alert, fields)).immediate(),
    );
  }

  async pendingCount(): Promise<number> {
    return this.q.pendingCount.get(this.prefix)?.n ?? 0;
  }

  async dlqLength(): Promise<number> {
    return this.streams.length(STREAMS.dlq);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }

  // ---- Ledger ----

  async readFacts(query: FactsQuery): Promise<Facts> {
    return withBusyRetry(() => this.ledger.readFacts(query));
  }

  async commit(decisions: readonly Decision[]): Promise<CommitOutcome[]> {
    if (decisions.length === 0) return [];
    try {
      return await withBusyRetry(() => this.ledger.commit(decisions));
    } catch (err) {
      // The transaction rolled back. A lock, I/O, a full disk or a broken file is the store's
      // state; anything else (a value SQLite will not take) is this batch.
      const code = String((err as { code?: unknown }).code ?? "");
      if (/^SQLITE_(BUSY|LOCKED|IOERR|FULL|CANTOPEN|READONLY|NOTADB|CORRUPT|PERM|NOMEM|INTERRUPT)/.test(code))
        throw err;
      throw new CommitRefusedError(`commit: ${(err as Error).message}`, { cause: err });
    }
  }

  async getTradingState(): Promise<TradingState> {
    return this.ledger.tradingState();
  }

  async setTradingState(state: TradingState, who: string): Promise<void> {
    await withBusyRetry(() => this.ledger.setTradingState(state, who));
  }

  async tradingStateLog(): Promise<TradingStateChange[]> {
    return this.ledger.tradingStateLog();
  }

  async positions(): Promise<PaperPosition[]> {
    return this.ledger.positions();
  }

  async finishSend(record: SendRecord, result: PlanResult): Promise<"committed" | "duplicate"> {
    return withBusyRetry(() => this.ledger.finishSend(record, result));
  }

  async reconcile(entry: EntryRef, result: PlanResult): Promise<"committed" | "duplicate"> {
    return withBusyRetry(() => this.ledger.reconcile(entry, result));
  }

  async openUnknowns(venue?: VenueName): Promise<SendRecord[]> {
    return this.ledger.openUnknowns(venue);
  }

  // ---- internals ----

  /** Runs `attempt` until it returns something or `blockMs` has passed (0: once). */
  private async poll<T>(blockMs: number, attempt: () => T[]): Promise<T[]> {
    const deadline = Date.now() + Math.max(0, blockMs);
    let delay = POLL_MIN_MS;
    for (;;) {
      if (this.closed) return [];
      const got = await withBusyRetry(attempt);
      if (got.length > 0) return got;
      const left = deadline - Date.now();
      if (left <= 0) return [];
      await sleep(Math.min(delay, left));
      delay = Math.min(delay * 2, POLL_MAX_MS);
    }
  }

  /**
   * Whether either lane has entries past the group's pointer: a lock-free read,
   * so idle consumers polling do not take the write lock. Throws NOGROUP (as
   * XREADGROUP does) when {@link ensureGroups} never ran for this prefix.
   */
  private hasNew(): boolean {
    return this.db
      .transaction(() => {
        let found = false;
        for (const lane of LANES) {
          if (!this.q.group.get(this.prefix, lane)) throw noGroup(this.prefix);
          if (!found && this.q.hasNew.get(laneStream(lane), this.prefix, lane)) found = true;
        }
        return found;
      })
      .deferred();
  }

  /** Hands out up to `count` new entries, oldest first across both lanes, in one IMMEDIATE transaction. */
  private takeNew(consumer: string, count: number): BusEntry[] {
    return this.db
      .transaction((): BusEntry[] => {
        const now = Date.now();
        const candidates: Array<{ lane: Lane; id: StreamId; fields: Buffer }> = [];
        for (const lane of LANES) {
          const g = this.q.group.get(this.prefix, lane);
          if (!g) throw noGroup(this.prefix);
          for (const row of this.streams.after(laneStream(lane), { ms: g.last_ms, seq: g.last_seq }, count)) {
            candidates.push({ lane, id: row, fields: row.fields });
          }
        }
        candidates.sort((a, b) => compareStreamIds(a.id, b.id));
        const taken = candidates.slice(0, count);
        const last = new Map<Lane, StreamId>();
        for (const c of taken) {
          this.q.insertPending.run(this.prefix, c.lane, c.id.ms, c.id.seq, consumer, now);
          last.set(c.lane, c.id);
        }
        for (const [lane, id] of last) this.q.setGroup.run(id.ms, id.seq, this.prefix, lane);
        return taken.map((c) => ({
          lane: c.lane,
          id: formatStreamId(c.id),
          fields: decodeFields(c.fields),
          deliveries: 1,
        }));
      })
      .immediate();
  }
}

function noGroup(prefix: string): Error {
  return Object.assign(new Error(`NOGROUP no consumer group ${CONSUMER_GROUP} for prefix "${prefix}"`), {
    code: "NOGROUP",
  });
}
