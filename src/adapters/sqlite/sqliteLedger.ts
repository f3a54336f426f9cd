import { dailyKey } from "../../core/dailyNotional.js";
import type { CommitOutcome, Decision, DecisionChecks } from "../../core/decision.js";
import { ExposureCommit, exposureSnapshots } from "../../core/exposure.js";
import { type EntryRef, type Facts, type FactsQuery, positionKey, rateKey } from "../../core/facts.js";
import { sendKey } from "../../core/liveOrder.js";
import { type OpenRecord, parseOpenRecord, recordVenue } from "../../core/openRecord.js";
import { assertOrderUpdates } from "../../core/orderUpdate.js";
import { TRADING_STATES, type TradingState, type VenueName } from "../../core/plan.js";
import type { PlanResult } from "../../core/result.js";
import { DeploymentMismatchError } from "../../ports/deployment.js";
import type { LeaseRequest } from "../../ports/ledger.js";
import {
  type LedgerPosition,
  type LiveFinish,
  type LiveFinishOutcome,
  type OrderUpdate,
  RATE_COUNTER_TTL_MS,
  type TradingStateChange,
} from "../../ports/ledger.js";
import { decodeFields } from "./fieldCodec.js";
import { SqliteAccountCaps } from "./sqliteAccountCaps.js";
import { SqliteOrderStore } from "./sqliteOrders.js";
import { SqlitePositions } from "./sqlitePositions.js";
import type { Db } from "./sqliteSchema.js";
import { STREAMS, type StreamStore } from "./sqliteStreams.js";
import { parseStreamId } from "./streamIds.js";

/** Expired rate rows are deleted at most this often per connection. */
const RATE_PRUNE_EVERY_MS = 1_000;
const STATE_KEY = "state";
/** `ig_kv` key of the deployment marker (wire-v1 §7b). */
const DEPLOYMENT_KEY = "deployment";

/**
 * The ledger half of the SQLite backend: facts, the per-decision atomic commit,
 * trading state and positions. Values are canonical strings from the caller;
 * nothing here does decimal arithmetic.
 */
export class SqliteLedgerStore {
  private readonly q;
  private readonly commitInSavepoint;
  /** Working orders and order events. */
  readonly orders: SqliteOrderStore;
  private readonly caps: SqliteAccountCaps;
  private readonly positions: SqlitePositions;
  private lastPrune = 0;

  constructor(
    private readonly db: Db,
    private readonly prefix: string,
    private readonly streams: StreamStore,
  ) {
    this.orders = new SqliteOrderStore(db, prefix, streams);
    this.caps = new SqliteAccountCaps(db, prefix);
    this.positions = new SqlitePositions(db, prefix);
    const p = <R = unknown>(sql: string) => db.prepare<unknown[], R>(sql);
    this.q = {
      state: p<{ value: string }>("SELECT value FROM ig_kv WHERE prefix = ? AND key = ?"),
      setState: p(
        "INSERT INTO ig_kv (prefix, key, value) VALUES (?, ?, ?) ON CONFLICT (prefix, key) DO UPDATE SET value = excluded.value",
      ),
      planId: p<{ owner: string }>("SELECT owner FROM ig_plan_id WHERE prefix = ? AND plan_id = ?"),
      claimPlanId: p("INSERT OR IGNORE INTO ig_plan_id (prefix, plan_id, owner) VALUES (?, ?, ?)"),
      permit: p<{ owner: string }>("SELECT owner FROM ig_permit WHERE prefix = ? AND permit_id = ?"),
      consumePermit: p("INSERT OR IGNORE INTO ig_permit (prefix, permit_id, owner) VALUES (?, ?, ?)"),
      rate: p<{ count: number }>(
        "SELECT count FROM ig_rate WHERE prefix = ? AND source = ? AND window = ? AND expires_at >= ?",
      ),
      countRate: p(
        `INSERT INTO ig_rate (prefix, source, window, count, expires_at) VALUES (@prefix, @source, @window, 1, @expires)
         ON CONFLICT (prefix, source, window) DO UPDATE
         SET count = CASE WHEN expires_at < @now THEN 1 ELSE count + 1 END, expires_at = @expires`,
      ),
      pruneRates: p("DELETE FROM ig_rate WHERE prefix = ? AND expires_at < ?"),
      duplicate: p<{ at: number }>("SELECT at FROM ig_dup WHERE prefix = ? AND key = ? AND expires_at > ?"),
      markDuplicate: p(
        `INSERT INTO ig_dup (prefix, key, at, expires_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (prefix, key) DO UPDATE SET at = excluded.at, expires_at = excluded.expires_at`,
      ),
      pruneDuplicates: p("DELETE FROM ig_dup WHERE prefix = ? AND expires_at <= ?"),
      pending: p<{ deliveries: number }>(
        "SELECT deliveries FROM ig_pending WHERE prefix = ? AND lane = ? AND ms = ? AND seq = ?",
      ),
      ack: p("DELETE FROM ig_pending WHERE prefix = ? AND lane = ? AND ms = ? AND seq = ?"),
      send: p<{ state: string; record: string }>(
        "SELECT state, record FROM ig_send WHERE prefix = ? AND lane = ? AND stream_id = ?",
      ),
      insertSend: p(
        "INSERT INTO ig_send (prefix, lane, stream_id, state, venue, started_at, record) VALUES (?, ?, ?, 'sending', ?, ?, ?)",
      ),
      markUnknown: p(
        `INSERT INTO ig_send (prefix, lane, stream_id, state, venue, started_at, record) VALUES (?, ?, ?, 'unknown', ?, ?, ?)
         ON CONFLICT (prefix, lane, stream_id) DO UPDATE SET state = 'unknown', record = excluded.record`,
      ),
      deleteSend: p("DELETE FROM ig_send WHERE prefix = ? AND lane = ? AND stream_id = ?"),
      unknowns: p<{ record: string }>(
        "SELECT record FROM ig_send WHERE prefix = ? AND state = 'unknown' ORDER BY started_at",
      ),
      sending: p<{ record: string }>(
        "SELECT record FROM ig_send WHERE prefix = ? AND state = 'sending' ORDER BY started_at",
      ),
    };
    this.commitInSavepoint = db.transaction(
      (d: Decision, exposure: ExposureCommit): CommitOutcome => this.commitOne(d, Date.now(), exposure),
    );
  }

  /** A consistent snapshot (one read transaction) of everything `query` names. */
  readFacts(query: FactsQuery): Facts {
    return this.db
      .transaction((): Facts => {
        const now = Date.now();
        const claimedPlanIds = new Set<string>();
        for (const id of query.planIds) if (this.q.planId.get(this.prefix, id)) claimedPlanIds.add(id);
        const usedPermitIds = new Set<string>();
        for (const id of query.permitIds) if (this.q.permit.get(this.prefix, id)) usedPermitIds.add(id);
        const rateCounts = new Map<string, number>();
        for (const r of query.rates) rateCounts.set(rateKey(r), this.rateCount(r.source, r.window, now));
        const positions = new Map<string, string>();
        for (const ref of query.positions) {
          const text = this.positions.text(ref);
          if (text !== "0") positions.set(positionKey(ref), text);
        }
        const sendRecords = new Map<string, OpenRecord>();
        for (const ref of query.sendRecords ?? []) {
          const row = this.q.send.get(this.prefix, ref.lane, ref.streamId);
          if (row?.state === "sending") sendRecords.set(sendKey(ref), this.decodeRecord(row.record));
        }
        const duplicates = new Map<string, string>();
        for (const key of query.duplicates ?? []) {
          const text = this.duplicateText(key, now);
          if (text !== null) duplicates.set(key, text);
        }
        const dailyNotional = new Map<string, string>();
        for (const ref of query.dailyNotional ?? []) {
          const text = this.caps.dailyText(ref.account, ref.day);
          if (text !== "0") dailyNotional.set(dailyKey(ref), text);
        }
        const openOrders = new Map<string, number>();
        for (const account of query.openOrderAccounts ?? [])
          openOrders.set(account, this.caps.openOrders(account));
        const accounts = query.exposureAccounts ?? [];
        const exposure = exposureSnapshots(
          accounts,
          accounts.flatMap((a) => [...this.caps.exposureEntries(a)]),
        );
        return {
          tradingState: this.tradingState(),
          exposure,
          duplicates,
          dailyNotional,
          openOrders,
          claimedPlanIds,
          usedPermitIds,
          rateCounts,
          positions,
          sendRecords,
          workingOrders: this.orders.read(query.orderKeys ?? [], query.orderScopes ?? []),
        };
      })
      .deferred();
  }

  /**
   * Commits decisions in order inside one `BEGIN IMMEDIATE` transaction. Each
   * decision runs in its own savepoint and writes only after all its checks
   * passed, so a duplicate or conflict writes nothing and the next decision
   * still proceeds (and sees the earlier ones' writes).
   */
  commit(decisions: readonly Decision[], deployment: string): CommitOutcome[] {
    return this.db
      .transaction((): CommitOutcome[] => {
        if (this.deployment() !== deployment)
          return decisions.map(() => ({ status: "conflict", on: "deployment" }) as const);
        const outcomes: CommitOutcome[] = [];
        const exposure = new ExposureCommit(decisions, (a) => this.caps.exposureEntries(a));
        for (const d of decisions) {
          try {
            const outcome = this.commitInSavepoint(d, exposure);
            if (outcome.status === "committed") exposure.committed(d);
            outcomes.push(outcome);
          } catch (e) {
            // The UNIQUE (lane, stream_id) index on results: the entry already has
            // its result although it was still pending (never happens through this
            // code). The savepoint rolled its writes back; only acknowledge it, so
            // "pending ⇔ no result" holds again and it is not reclaimed forever.
            if (!isDuplicateResult(e)) throw e;
            const id = parseStreamId(d.streamId);
            if (id) this.q.ack.run(this.prefix, d.lane, id.ms, id.seq);
            outcomes.push({ status: "duplicate" });
          }
        }
        this.maybePruneRates(Date.now());
        return outcomes;
      })
      .immediate();
  }

  private commitOne(d: Decision, now: number, exposure: ExposureCommit): CommitOutcome {
    const id = parseStreamId(d.streamId);
    if (!id || !this.q.pending.get(this.prefix, d.lane, id.ms, id.seq)) return { status: "duplicate" };
    if (this.q.send.get(this.prefix, d.lane, d.streamId)) return { status: "conflict", on: "sendRecord" };
    const failed = this.firstFailedCheck(d.checks, now, exposure);
    if (failed) return { status: "conflict", on: failed };

    const owner = `${d.lane}:${d.streamId}`;
    const e = d.effects;
    if (e.claimPlanId !== undefined) this.q.claimPlanId.run(this.prefix, e.claimPlanId, owner);
    if (e.consumePermit !== undefined) this.q.consumePermit.run(this.prefix, e.consumePermit, owner);
    if (e.countRate) {
      const { source, window } = e.countRate;
      this.q.countRate.run({ prefix: this.prefix, source, window, now, expires: now + RATE_COUNTER_TTL_MS });
    }
    if (e.setPosition) this.positions.set(e.setPosition, e.setPosition.value);
    if (e.openOrder) this.orders.put(e.openOrder);
    for (const key of e.closeOrders ?? []) this.orders.remove(key);
    for (const event of e.orderEvents ?? []) this.orders.appendEvent(event);
    if (e.markDuplicate) {
      const { key, at, ttlMs } = e.markDuplicate;
      this.q.pruneDuplicates.run(this.prefix, now);
      this.q.markDuplicate.run(this.prefix, key, at, at + ttlMs);
    }
    if (e.setDailyNotional) {
      const { account, day, value } = e.setDailyNotional;
      this.caps.setDaily(account, day, value);
    }
    if (e.deadLetter) {
      this.streams.append(STREAMS.dlq, [
        ...e.deadLetter.fields,
        ["lane", d.lane],
        ["stream_id", d.streamId],
        ["deliveries", String(e.deadLetter.deliveries)],
        ["error", d.result.error ?? ""],
      ]);
    }
    if (d.sendRecord) {
      const r = d.sendRecord;
      this.q.insertSend.run(this.prefix, d.lane, d.streamId, recordVenue(r), r.startedAt, JSON.stringify(r));
      return { status: "committed", resultId: "" };
    }
    const resultId = this.streams.append(STREAMS.result, [["result", JSON.stringify(d.result)]], {
      lane: d.lane,
      streamId: d.streamId,
      reconciled: d.result.reconciled === true,
    });
    this.q.ack.run(this.prefix, d.lane, id.ms, id.seq);
    return { status: "committed", resultId };
  }

  /** Stage 2 of a live order (Ledger.finishSend), in one IMMEDIATE transaction. */
  finishSend(
    record: OpenRecord,
    result: PlanResult,
    deployment: string,
    finish: LiveFinish = {},
  ): LiveFinishOutcome {
    return this.db
      .transaction((): LiveFinishOutcome => {
        this.assertDeployment(deployment);
        const id = parseStreamId(record.streamId);
        if (!id || !this.q.pending.get(this.prefix, record.lane, id.ms, id.seq)) return "duplicate";
        if (finish.position && this.positions.text(finish.position) !== finish.position.expected)
          return "position";
        this.streams.append(STREAMS.result, [["result", JSON.stringify(result)]], {
          lane: record.lane,
          streamId: record.streamId,
          reconciled: false,
        });
        this.q.ack.run(this.prefix, record.lane, id.ms, id.seq);
        if (result.decision === "UNKNOWN") {
          const text = JSON.stringify(record);
          this.q.markUnknown.run(
            this.prefix,
            record.lane,
            record.streamId,
            recordVenue(record),
            record.startedAt,
            text,
          );
        } else this.q.deleteSend.run(this.prefix, record.lane, record.streamId);
        this.writeFinish(finish);
        return "committed";
      })
      .immediate();
  }

  /** The once-only reconciled follow-up (Ledger.reconcile). */
  reconcile(
    entry: EntryRef,
    result: PlanResult,
    deployment: string,
    finish: LiveFinish = {},
  ): LiveFinishOutcome {
    return this.db
      .transaction((): LiveFinishOutcome => {
        this.assertDeployment(deployment);
        const row = this.q.send.get(this.prefix, entry.lane, entry.streamId);
        if (row?.state !== "unknown") return "duplicate";
        if (finish.position && this.positions.text(finish.position) !== finish.position.expected)
          return "position";
        this.streams.append(STREAMS.result, [["result", JSON.stringify(result)]], {
          lane: entry.lane,
          streamId: entry.streamId,
          reconciled: true,
        });
        this.q.deleteSend.run(this.prefix, entry.lane, entry.streamId);
        this.writeFinish(finish);
        return "committed";
      })
      .immediate();
  }

  /** The writes a live result carries (inside the caller's transaction). */
  private writeFinish(finish: LiveFinish): void {
    if (finish.resting) this.orders.put(finish.resting);
    if (finish.position) this.positions.set(finish.position, finish.position.value);
  }

  /**
   * Takes or renews a named lease (Ledger.holdLease), in one IMMEDIATE
   * transaction: `ig_kv` key `lease:<name>` holds `{owner, until}`.
   */
  holdLease(lease: LeaseRequest, now: number): boolean {
    return this.db
      .transaction((): boolean => {
        const key = `lease:${lease.name}`;
        const text = this.q.state.get(this.prefix, key)?.value;
        const held =
          text === undefined ? undefined : (JSON.parse(text) as { owner?: unknown; until?: unknown });
        if (held && held.owner !== lease.owner && typeof held.until === "number" && held.until > now)
          return false;
        this.q.setState.run(
          this.prefix,
          key,
          JSON.stringify({ owner: lease.owner, until: now + lease.ttlMs }),
        );
        return true;
      })
      .immediate();
  }

  /** Live sends under way (stage 1 written, no result yet), oldest first. */
  sendsInFlight(): OpenRecord[] {
    return this.q.sending.all(this.prefix).map((row) => this.decodeRecord(row.record));
  }

  /** Open UNKNOWNs, oldest first. */
  openUnknowns(venue?: VenueName): OpenRecord[] {
    return this.q.unknowns
      .all(this.prefix)
      .map((row) => this.decodeRecord(row.record))
      .filter((r) => venue === undefined || recordVenue(r) === venue);
  }

  private decodeRecord(text: string): OpenRecord {
    const record = parseOpenRecord(text);
    if (!record) throw new Error("sqlite bus: malformed send record");
    return record;
  }

  /** The first check (in {@link DecisionChecks} order) that no longer holds. */
  private firstFailedCheck(
    c: DecisionChecks,
    now: number,
    exposure: ExposureCommit,
  ): keyof DecisionChecks | undefined {
    if (c.tradingState !== undefined && this.tradingState() !== c.tradingState) return "tradingState";
    if (c.planId && Boolean(this.q.planId.get(this.prefix, c.planId.id)) !== c.planId.claimed)
      return "planId";
    if (c.permit && Boolean(this.q.permit.get(this.prefix, c.permit.id)) !== c.permit.used) return "permit";
    if (c.rate) {
      const next = this.rateCount(c.rate.source, c.rate.window, now) + 1;
      if (next <= c.rate.limit !== c.rate.allowed) return "rate";
    }
    if (c.position && this.positions.text(c.position) !== c.position.expected) return "position";
    for (const w of c.workingOrders ?? [])
      if ((this.orders.text(w.key) ?? null) !== w.expected) return "workingOrders";
    if (c.duplicate && this.duplicateText(c.duplicate.key, now) !== c.duplicate.expected) return "duplicate";
    const daily = c.dailyNotional;
    if (daily && this.caps.dailyText(daily.account, daily.day) !== daily.expected) return "dailyNotional";
    const open = c.openOrders;
    if (open && this.caps.openOrders(open.account) + 1 <= open.limit !== open.allowed) return "openOrders";
    if (c.exposure && !exposure.holds(c.exposure)) return "exposure";
    return undefined;
  }

  /** The duplicate-order mark of `key` as text (ms), or null when none counts at `now`. */
  private duplicateText(key: string, now: number): string | null {
    const row = this.q.duplicate.get(this.prefix, key, now);
    return row === undefined ? null : String(row.at);
  }

  /** Ledger.updateOrders: each update in its own savepoint of one IMMEDIATE transaction. */
  updateOrders(updates: readonly OrderUpdate[], deployment: string): ("applied" | "conflict")[] {
    return this.db
      .transaction((): ("applied" | "conflict")[] => {
        assertOrderUpdates(updates);
        this.assertDeployment(deployment);
        return updates.map((u) => {
          if (this.orders.text(u.key) !== u.expected) return "conflict";
          const pos = u.position;
          if (pos && this.positions.text(pos) !== pos.expected) return "conflict";
          if (u.next === null) this.orders.remove(u.key);
          else this.orders.put(u.next);
          if (pos) this.positions.set(pos, pos.value);
          this.orders.appendEvent(u.event);
          return "applied";
        });
      })
      .immediate();
  }

  private rateCount(source: string, window: number, now: number): number {
    return this.q.rate.get(this.prefix, source, window, now)?.count ?? 0;
  }

  private maybePruneRates(now: number): void {
    if (now - this.lastPrune < RATE_PRUNE_EVERY_MS) return;
    this.lastPrune = now;
    this.q.pruneRates.run(this.prefix, now);
  }

  /** The trading state; `ACTIVE` when never set, `HALTED` (fail closed) if the stored word is unknown. */
  tradingState(): TradingState {
    const v = this.q.state.get(this.prefix, STATE_KEY)?.value;
    if (v === undefined) return "ACTIVE";
    return (TRADING_STATES as readonly string[]).includes(v) ? (v as TradingState) : "HALTED";
  }

  /** Sets the state and logs the change in one IMMEDIATE transaction. */
  setTradingState(state: TradingState, who: string): void {
    this.db.transaction(() => this.writeTradingState(state, who)).immediate();
  }

  /** Sets the state and appends its log entry; the caller holds a write transaction. */
  writeTradingState(state: TradingState, who: string): void {
    if (!TRADING_STATES.includes(state))
      throw new Error(`sqlite bus: unknown trading state ${String(state)}`);
    this.q.setState.run(this.prefix, STATE_KEY, state);
    this.streams.append(STREAMS.stateLog, [
      ["state", state],
      ["who", who],
      ["at", String(Date.now())],
    ]);
  }

  /** The deployment marker's id, or undefined (wire-v1 §7b). */
  deployment(): string | undefined {
    return this.q.state.get(this.prefix, DEPLOYMENT_KEY)?.value;
  }

  /** Writes the deployment marker; the caller holds a write transaction. */
  writeDeployment(id: string): void {
    this.q.setState.run(this.prefix, DEPLOYMENT_KEY, id);
  }

  private assertDeployment(expected: string): void {
    if (this.deployment() !== expected)
      throw new DeploymentMismatchError(
        `ledger write refused: the deployment marker is no longer ${expected} (wire-v1 §7b)`,
      );
  }

  /** Every logged change, oldest first. */
  tradingStateLog(): TradingStateChange[] {
    const rows = this.db
      .transaction(() => this.streams.after(STREAMS.stateLog, { ms: 0, seq: 0 }, -1))
      .deferred();
    return rows.map((row) => {
      const f = new Map(decodeFields(row.fields).map(([k, v]) => [k, v.toString("utf8")]));
      return { state: f.get("state") as TradingState, who: f.get("who") ?? "", at: Number(f.get("at")) };
    });
  }

  /** Non-zero positions, every book. */
  allPositions(): LedgerPosition[] {
    return this.positions.all();
  }
}

function isDuplicateResult(e: unknown): boolean {
  if (typeof e !== "object" || e === null) return false;
  const { code, message } = e as { code?: unknown; message?: unknown };
  return code === "SQLITE_CONSTRAINT_UNIQUE" && String(message).includes("ig_stream.ref_id");
}
