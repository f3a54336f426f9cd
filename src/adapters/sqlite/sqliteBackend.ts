// Over 400 lines: the one class that puts the SQLite stores (streams, ledger, orders, deployment)
// behind every Backend method; each method is a few lines of delegation, locking and busy-retry.
import { randomUUID } from "node:crypto";
import { existsSync, statSync } from "node:fs";
import type { CommitOutcome, Decision } from "../../core/decision.js";
import type { EntryRef, Facts, FactsQuery } from "../../core/facts.js";
import type { OpenRecord } from "../../core/openRecord.js";
import type { OrderEvent } from "../../core/orderEvent.js";
import type { VenueName } from "../../core/plan.js";
import { LANES, type Lane, type TradingState } from "../../core/plan.js";
import type { PlanResult } from "../../core/result.js";
import type { WorkingOrder } from "../../core/workingOrder.js";
import type { Backend, BackendOptions } from "../../ports/backend.js";
import { type BusEntry, CONSUMER_GROUP, type ResultEntry } from "../../ports/bus.js";
import {
  DeploymentExistsError,
  DeploymentMismatchError,
  type InitDeploymentOptions,
} from "../../ports/deployment.js";
import {
  CommitRefusedError,
  type LeaseRequest,
  type LedgerPosition,
  type LiveFinish,
  type LiveFinishOutcome,
  type OrderEventEntry,
  type OrderUpdate,
  type TradingStateChange,
} from "../../ports/ledger.js";
import { decodeFields } from "./fieldCodec.js";
import { sleep, withBusyRetry } from "./sqliteBusy.js";
import { type FileId, type Handle, openHandle } from "./sqliteHandle.js";
import { laneStream, STREAMS } from "./sqliteStreams.js";
import { compareStreamIds, formatStreamId, parseStreamId, type StreamId } from "./streamIds.js";

/** First and longest sleep between polls while a read waits for new rows. */
const POLL_MIN_MS = 2;
const POLL_MAX_MS = 25;

/**
 * Opens the embedded bus at `opts.url` (`sqlite:<path>`). A missing file is
 * an error unless `opts.create` allows creating it (with its parent
 * directories and schema); with `create: "deployment"` a file this call
 * created also gets a new deployment (state `ACTIVE`, wire-v1 §7b). Several
 * processes may open one file at once (producers, executors, the CLI).
 */
export async function openSqliteBackend(opts: BackendOptions): Promise<Backend> {
  if (!opts.url.startsWith("sqlite:")) throw new Error(`sqlite bus: not a sqlite: URL: ${opts.url}`);
  const path = opts.url.slice("sqlite:".length);
  if (path === "" || path === ":memory:") {
    throw new Error("sqlite bus: give a file path (sqlite:<path>); an in-memory bus cannot be shared");
  }
  const create = opts.create ?? "none";
  const existed = existsSync(path);
  if (!existed && create === "none") {
    throw Object.assign(
      new Error(
        `sqlite bus: no bus file at ${path}: the executor creates it (or \`intentgate init\`); ` +
          "check the path (a relative sqlite: path is resolved against the config file's folder)",
      ),
      { code: "ENOENT" },
    );
  }
  const handle = await openHandle(path, opts.prefix, { create: !existed });
  const backend = new SqliteBackend(path, opts.prefix, handle);
  if (!existed && create === "deployment") {
    try {
      await backend.initDeployment({ state: "ACTIVE", who: "executor (new embedded bus file)" });
    } catch (err) {
      // Another process created the file and its deployment at the same moment: use theirs.
      if (!(err instanceof DeploymentExistsError)) {
        await backend.close();
        throw err;
      }
    }
  }
  return backend;
}

/**
 * The SQLite {@link Backend}. better-sqlite3 is synchronous, so each method's
 * transaction runs to completion without interleaving with others of this
 * process; other processes are kept out by `BEGIN IMMEDIATE` (writes) and WAL
 * snapshots (reads), waiting up to `busy_timeout` for a lock.
 *
 * The file is part of the deployment (wire-v1 §7b): a handle bound to a
 * marker writes only to the very file it read that marker from. If the path
 * now names another file (deleted and re-created, or replaced), ledger
 * writes conflict on `deployment`, and {@link readDeployment} moves this
 * handle to the file now at the path, so the executor sees the loss and,
 * after `intentgate init`, the new deployment.
 */
class SqliteBackend implements Backend {
  readonly kind = "sqlite" as const;
  /** The open file; undefined after it was deleted or replaced, until a file is at the path again. */
  private h: Handle | undefined;
  private closed = false;
  /** The deployment marker this handle writes under; unset: no ledger writes. */
  private deployment: string | undefined;

  constructor(
    private readonly path: string,
    private readonly prefix: string,
    handle: Handle,
  ) {
    this.h = handle;
  }

  // ---- BusClock ----

  /** None of its own: every executor of an embedded bus runs on its host, with the host's clock. */
  async busTime(): Promise<undefined> {
    return undefined;
  }

  // ---- BusEviction ----

  /** Never: a SQLite file keeps every row until IntentGate deletes it. */
  async evictionPolicy(): Promise<undefined> {
    return undefined;
  }

  // ---- DeploymentStore ----

  async readDeployment(): Promise<string | undefined> {
    const now = this.fileNow();
    if (this.h !== undefined && (now === undefined || !sameFile(now, this.h.file))) {
      // The path no longer names the open file (deleted or replaced): let go of it at once. Closing
      // checkpoints into the old file and removes the WAL at the path, which is the old file's own;
      // later (once a new file has its own WAL there) it could remove the new one's.
      this.h.db.close();
      this.h = undefined;
    }
    if (now === undefined) return undefined;
    // Another file at the path: move to it (never creating one), so a later init is seen.
    this.h ??= await openHandle(this.path, this.prefix, { create: false });
    return this.handle().ledger.deployment();
  }

  async initDeployment(opts: InitDeploymentOptions): Promise<string> {
    const id = `dep-${randomUUID()}`;
    const { db, q, ledger } = this.handle();
    await withBusyRetry(() =>
      db
        .transaction(() => {
          const existing = ledger.deployment();
          if (existing !== undefined && opts.replace !== true) throw new DeploymentExistsError(existing);
          for (const lane of LANES) q.createGroup.run(this.prefix, lane);
          ledger.writeTradingState(opts.state, opts.who);
          ledger.writeDeployment(id);
        })
        .immediate(),
    );
    this.deployment = id;
    return id;
  }

  bindDeployment(id: string): void {
    this.deployment = id;
  }

  /** The bound marker, when the path still names the file this handle has open; else undefined. */
  private boundHere(): string | undefined {
    if (this.deployment === undefined) return undefined;
    const now = this.fileNow();
    return now !== undefined && this.h !== undefined && sameFile(now, this.h.file)
      ? this.deployment
      : undefined;
  }

  private fileNow(): FileId | undefined {
    try {
      const st = statSync(this.path);
      return { dev: st.dev, ino: st.ino };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw err;
    }
  }

  // ---- PlanBus ----

  async ensureGroups(): Promise<void> {
    const { db, q } = this.handle();
    await withBusyRetry(() =>
      db
        .transaction(() => {
          for (const lane of LANES) q.createGroup.run(this.prefix, lane);
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
    const { db, q, streams } = this.handle();
    return db
      .transaction((): BusEntry[] => {
        const now = Date.now();
        const out: BusEntry[] = [];
        for (const row of q.idle.all(this.prefix, now - minIdleMs, count)) {
          const entry = streams.get(laneStream(row.lane), row);
          if (!entry) {
            // The entry itself is gone (as XAUTOCLAIM drops deleted ids from the PEL).
            q.dropPending.run(this.prefix, row.lane, row.ms, row.seq);
            continue;
          }
          q.takeOver.run(consumer, now, this.prefix, row.lane, row.ms, row.seq);
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
    const { db, streams } = this.handle();
    return withBusyRetry(() => db.transaction(() => streams.append(laneStream(lane), fields)).immediate());
  }

  async readResults(afterId: string, count: number, blockMs = 0): Promise<ResultEntry[]> {
    const after = parseStreamId(afterId);
    if (!after) throw new Error(`sqlite bus: bad stream id "${afterId}"`);
    if (count <= 0) return [];
    return this.poll(blockMs, () =>
      this.handle()
        .streams.afterJson<PlanResult>(STREAMS.result, after, count, "result")
        .map(({ id, value }) => ({ id, result: value })),
    );
  }

  async lastResultId(): Promise<string> {
    return this.handle().streams.lastId(STREAMS.result) ?? "0";
  }

  async publishAlert(alert: Record<string, unknown>): Promise<string> {
    // One field `alert` holding the JSON, as on Redis.
    const fields: Array<[string, string]> = [["alert", JSON.stringify(alert)]];
    const { db, streams } = this.handle();
    return withBusyRetry(() => db.transaction(() => streams.append(STREAMS.alert, fields)).immediate());
  }

  async pendingCount(): Promise<number> {
    return this.handle().q.pendingCount.get(this.prefix)?.n ?? 0;
  }

  async dlqLength(): Promise<number> {
    return this.handle().streams.length(STREAMS.dlq);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.h?.db.close();
    this.h = undefined;
  }

  // ---- Ledger ----

  async readFacts(query: FactsQuery): Promise<Facts> {
    return withBusyRetry(() => this.handle().ledger.readFacts(query));
  }

  async commit(decisions: readonly Decision[]): Promise<CommitOutcome[]> {
    if (decisions.length === 0) return [];
    const deployment = this.boundHere();
    if (deployment === undefined) return decisions.map(() => ({ status: "conflict", on: "deployment" }));
    try {
      return await withBusyRetry(() => this.handle().ledger.commit(decisions, deployment));
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
    return this.handle().ledger.tradingState();
  }

  async setTradingState(state: TradingState, who: string): Promise<void> {
    await withBusyRetry(() => this.handle().ledger.setTradingState(state, who));
  }

  async tradingStateLog(): Promise<TradingStateChange[]> {
    return this.handle().ledger.tradingStateLog();
  }

  async positions(): Promise<LedgerPosition[]> {
    return this.handle().ledger.allPositions();
  }

  async holdLease(lease: LeaseRequest): Promise<boolean> {
    return withBusyRetry(() => this.handle().ledger.holdLease(lease, Date.now()));
  }

  async finishSend(record: OpenRecord, result: PlanResult, finish?: LiveFinish): Promise<LiveFinishOutcome> {
    const deployment = this.requireBoundHere();
    return withBusyRetry(() => this.handle().ledger.finishSend(record, result, deployment, finish));
  }

  async reconcile(entry: EntryRef, result: PlanResult, finish?: LiveFinish): Promise<LiveFinishOutcome> {
    const deployment = this.requireBoundHere();
    return withBusyRetry(() => this.handle().ledger.reconcile(entry, result, deployment, finish));
  }

  async openUnknowns(venue?: VenueName): Promise<OpenRecord[]> {
    return this.handle().ledger.openUnknowns(venue);
  }

  async sendsInFlight(): Promise<OpenRecord[]> {
    return this.handle().ledger.sendsInFlight();
  }

  async workingOrders(venue?: VenueName): Promise<WorkingOrder[]> {
    return withBusyRetry(() => this.handle().ledger.orders.list(venue));
  }

  async updateOrders(updates: readonly OrderUpdate[]): Promise<("applied" | "conflict")[]> {
    const deployment = this.requireBoundHere();
    return withBusyRetry(() => this.handle().ledger.updateOrders(updates, deployment));
  }

  async lastOrderEventId(): Promise<string> {
    return this.handle().streams.lastId(STREAMS.orderEvent) ?? "0";
  }

  async readOrderEvents(afterId: string, count: number): Promise<OrderEventEntry[]> {
    const after = parseStreamId(afterId);
    if (!after) throw new Error(`sqlite bus: bad stream id "${afterId}"`);
    if (count <= 0) return [];
    return this.handle()
      .streams.afterJson<OrderEvent>(STREAMS.orderEvent, after, count, "event")
      .map(({ id, value }) => ({ id, event: value }));
  }

  // ---- internals ----

  /** The open file, or a clear error while there is none (deleted or replaced; see readDeployment). */
  private handle(): Handle {
    if (this.h === undefined)
      throw new Error(
        `sqlite bus: ${this.path} was deleted or replaced under this process; it is used again only once it exists (run \`intentgate init\`)`,
      );
    return this.h;
  }

  private requireBoundHere(): string {
    const deployment = this.boundHere();
    if (deployment === undefined)
      throw new DeploymentMismatchError(
        this.deployment === undefined
          ? "ledger write refused: this handle is bound to no deployment"
          : `ledger write refused: ${this.path} is no longer the file deployment ${this.deployment} was read from`,
      );
    return deployment;
  }

  /**
   * Runs `attempt` until it returns something or `blockMs` has passed (0:
   * once), timed on the monotonic clock: a wall clock stepped back (NTP)
   * never stretches the wait.
   */
  private async poll<T>(blockMs: number, attempt: () => T[]): Promise<T[]> {
    const deadline = performance.now() + Math.max(0, blockMs);
    let delay = POLL_MIN_MS;
    for (;;) {
      if (this.closed) return [];
      const got = await withBusyRetry(attempt);
      if (got.length > 0) return got;
      const left = deadline - performance.now();
      if (left <= 0) return [];
      await sleep(Math.min(delay, left));
      delay = Math.min(delay * 2, POLL_MAX_MS);
    }
  }

  /**
   * Whether either lane has entries past the group's pointer: a lock-free read,
   * so idle consumers polling do not take the write lock. Throws NOGROUP (as
   * XREADGROUP does) when the group was never created for this prefix.
   */
  private hasNew(): boolean {
    const { db, q } = this.handle();
    return db
      .transaction(() => {
        let found = false;
        for (const lane of LANES) {
          if (!q.group.get(this.prefix, lane)) throw noGroup(this.prefix);
          if (!found && q.hasNew.get(laneStream(lane), this.prefix, lane)) found = true;
        }
        return found;
      })
      .deferred();
  }

  /** Hands out up to `count` new entries, oldest first across both lanes, in one IMMEDIATE transaction. */
  private takeNew(consumer: string, count: number): BusEntry[] {
    const { db, q, streams } = this.handle();
    return db
      .transaction((): BusEntry[] => {
        const now = Date.now();
        const candidates: Array<{ lane: Lane; id: StreamId; fields: Buffer }> = [];
        for (const lane of LANES) {
          const g = q.group.get(this.prefix, lane);
          if (!g) throw noGroup(this.prefix);
          for (const row of streams.after(laneStream(lane), { ms: g.last_ms, seq: g.last_seq }, count)) {
            candidates.push({ lane, id: row, fields: row.fields });
          }
        }
        candidates.sort((a, b) => compareStreamIds(a.id, b.id));
        const taken = candidates.slice(0, count);
        const last = new Map<Lane, StreamId>();
        for (const c of taken) {
          q.insertPending.run(this.prefix, c.lane, c.id.ms, c.id.seq, consumer, now);
          last.set(c.lane, c.id);
        }
        for (const [lane, id] of last) q.setGroup.run(id.ms, id.seq, this.prefix, lane);
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

const sameFile = (a: FileId, b: FileId): boolean => a.dev === b.dev && a.ino === b.ino;

function noGroup(prefix: string): Error {
  return Object.assign(
    new Error(
      `NOGROUP no consumer group ${CONSUMER_GROUP} for prefix "${prefix}" (a bus never set up, or a data loss); ` +
        "nothing recreates it silently: run `intentgate init`",
    ),
    { code: "NOGROUP" },
  );
}
