import { randomUUID } from "node:crypto";
import { Redis, ReplyError } from "ioredis";
import type { CommitOutcome, Decision } from "../../core/decision.js";
import { type EntryRef, type Facts, type FactsQuery, positionKey, rateKey } from "../../core/facts.js";
import { parseSendRecord, type SendRecord, sendKey } from "../../core/liveOrder.js";
import { type Lane, TRADING_STATES, type TradingState, type VenueName } from "../../core/plan.js";
import { redactUrl } from "../../core/redactUrl.js";
import type { PlanResult } from "../../core/result.js";
import type { Backend, BackendOptions } from "../../ports/backend.js";
import { type BusEntry, CONSUMER_GROUP, type ResultEntry } from "../../ports/bus.js";
import {
  DeploymentExistsError,
  DeploymentMismatchError,
  type InitDeploymentOptions,
} from "../../ports/deployment.js";
import { CommitRefusedError, type PaperPosition, type TradingStateChange } from "../../ports/ledger.js";
import { buildCommitCall } from "./commitArgs.js";
import { decodeCommitReply } from "./commitReply.js";
import { REPLY_CODES } from "./conflictCodes.js";
import { errorCause, watchConnection } from "./connectionWatch.js";
import { defineScripts, runScript, type ScriptCall } from "./luaScripts.js";
import { type RedisKeys, redisKeys } from "./redisKeys.js";
import { asArray, type ParsedEntry, parseEntry, parseState, positive } from "./redisReplies.js";
import { scriptArgs } from "./scriptInputs.js";
import { decodeSendReply } from "./sendReplies.js";

// Over 400 lines because the Redis bus, ledger and deployment marker share one connection and
// one set of scripts in one class; the SQLite backend is already split (streams, ledger, handle).
// Splitting this one the same way (bus and ledger) is the structure issue's work.

/** XAUTOCLAIM rounds per stream in one `reclaim` call (each scans up to 10 × COUNT PEL entries). */
const MAX_AUTOCLAIM_ROUNDS = 10;

/**
 * Opens the Redis Streams backend (wire-v1 §1, docs/architecture.md "Redis
 * layout"). Three connections: one for commands and commits, and two created
 * on first use for blocking reads (plans, results), so a blocked read never
 * delays a commit. Connects before returning, so a wrong URL fails here.
 */
export async function openRedisBackend(opts: BackendOptions): Promise<Backend> {
  const main = new Redis(opts.url, {
    lazyConnect: true,
    protocol: 2,
    connectionName: "intentgate",
    // Reconnect at most once a second while Redis is away; commands fail after a few attempts.
    retryStrategy: (times) => Math.min(times * 100, 1000),
  });
  // ioredis reconnects by itself; failed commands reject their own promises.
  const watch = watchConnection(opts.onConnection);
  main.on("error", watch.error);
  main.on("close", watch.close);
  main.on("ready", watch.ready);
  defineScripts(main);
  try {
    await main.connect();
  } catch (err) {
    watch.stop();
    main.disconnect();
    // connect() rejects with "Connection is closed."; the socket's own error says why.
    const cause = watch.lastError ?? err;
    throw new Error(`redis: cannot connect to ${redactUrl(opts.url)}: ${errorCause(cause)}`, { cause });
  }
  return new RedisBackend(main, redisKeys(opts.prefix), watch.stop);
}

class RedisBackend implements Backend {
  readonly kind = "redis" as const;
  private planReader: Redis | undefined;
  private resultReader: Redis | undefined;
  private closed = false;
  /**
   * The consumer of the last `readNew` / `reclaim`: the commit script first
   * looks for a batch's entries in this consumer's PEL (one call per lane)
   * and checks any id not found there on its own, so it is only a hint.
   */
  private consumer = "";

  /** The deployment marker this handle writes under (wire-v1 §7b); unset: no ledger writes. */
  private deployment: string | undefined;

  constructor(
    private readonly main: Redis,
    private readonly keys: RedisKeys,
    private readonly stopWatching: () => void,
  ) {}

  // ---------------------------------------------------------------- bus

  async ensureGroups(): Promise<void> {
    for (const key of [this.keys.planMain, this.keys.planManual]) {
      try {
        await this.main.call("XGROUP", "CREATE", key, CONSUMER_GROUP, "0", "MKSTREAM");
      } catch (err) {
        if (!String((err as Error).message).startsWith("BUSYGROUP")) throw err;
      }
    }
  }

  /**
   * One XREADGROUP over both plan streams (manual lane listed first). Redis
   * applies COUNT per stream, so up to `count` entries per lane come back.
   */
  async readNew(consumer: string, count: number, blockMs: number): Promise<BusEntry[]> {
    this.consumer = consumer;
    const args: Array<string | number> = [
      "GROUP",
      CONSUMER_GROUP,
      consumer,
      "COUNT",
      positive(count, "count"),
    ];
    // BLOCK 0 means "forever" to Redis: only ever send a positive wait.
    if (blockMs > 0) args.push("BLOCK", Math.ceil(blockMs));
    args.push("STREAMS", this.keys.planManual, this.keys.planMain, ">", ">");
    const conn = blockMs > 0 ? this.planConn() : this.main;
    let reply: unknown;
    try {
      reply = await conn.callBuffer("XREADGROUP", args);
    } catch (err) {
      // A plan stream or its group is gone (a data loss, or never set up): never recreated here.
      if (String((err as Error).message).startsWith("NOGROUP")) throw noGroup(err);
      throw err;
    }
    const out: BusEntry[] = [];
    if (reply === null) return out;
    for (const stream of asArray(reply, "XREADGROUP")) {
      const pair = asArray(stream, "XREADGROUP stream");
      const lane = this.laneOf(String(pair[0]));
      const items = asArray(pair[1], "XREADGROUP entries");
      for (let j = 0; j < items.length; j++) {
        const e = parseEntry(items[j]);
        if (e !== undefined) out.push({ lane, id: e.id, fields: e.fields, deliveries: 1 });
      }
    }
    return out;
  }

  async reclaim(consumer: string, minIdleMs: number, count: number): Promise<BusEntry[]> {
    this.consumer = consumer;
    const out: BusEntry[] = [];
    let remaining = positive(count, "count");
    for (const lane of ["manual", "main"] as const) {
      const key = this.keys.plan(lane);
      let cursor = "0-0";
      for (let round = 0; round < MAX_AUTOCLAIM_ROUNDS && remaining > 0; round++) {
        let reply: unknown;
        try {
          reply = await this.main.callBuffer(
            "XAUTOCLAIM",
            key,
            CONSUMER_GROUP,
            consumer,
            Math.max(0, Math.floor(minIdleMs)),
            cursor,
            "COUNT",
            remaining,
          );
        } catch (err) {
          if (String((err as Error).message).startsWith("NOGROUP")) break;
          throw err;
        }
        const [next, items] = asArray(reply, "XAUTOCLAIM");
        const claimed = asArray(items, "XAUTOCLAIM entries")
          .map(parseEntry)
          .filter((e): e is ParsedEntry => e !== undefined);
        const deliveries = await this.deliveryCounts(key, consumer, claimed);
        for (const e of claimed) {
          const n = deliveries.get(e.id);
          // not pending for us any more: committed or taken over in between
          if (n === undefined) continue;
          out.push({ lane, id: e.id, fields: e.fields, deliveries: n });
          remaining--;
        }
        cursor = String(next);
        if (cursor === "0-0") break;
      }
    }
    return out;
  }

  /** Delivery counts of freshly claimed ids, read back from the PEL (XAUTOCLAIM does not report them). */
  private async deliveryCounts(
    key: string,
    consumer: string,
    claimed: readonly ParsedEntry[],
  ): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    if (claimed.length === 0) return counts;
    const p = this.main.pipeline();
    for (const e of claimed) p.call("XPENDING", key, CONSUMER_GROUP, e.id, e.id, 1, consumer);
    const results = (await p.exec()) ?? [];
    results.forEach(([err, rows], i) => {
      if (err !== null) throw err;
      const row = asArray(rows, "XPENDING")[0];
      if (row === undefined) return;
      const [id, , , n] = asArray(row, "XPENDING row");
      if (String(id) === claimed[i]!.id) counts.set(claimed[i]!.id, Number(n));
    });
    return counts;
  }

  async publish(lane: Lane, fields: ReadonlyArray<readonly [string, string | Buffer]>): Promise<string> {
    if (fields.length === 0) throw new Error("publish: an entry needs at least one field");
    const args: Array<string | Buffer> = [this.keys.plan(lane), "*"];
    for (const [name, value] of fields) args.push(name, value);
    return String(await this.main.call("XADD", args));
  }

  async readResults(afterId: string, count: number, blockMs = 0): Promise<ResultEntry[]> {
    const args: Array<string | number> = ["COUNT", positive(count, "count")];
    if (blockMs > 0) args.push("BLOCK", Math.ceil(blockMs));
    args.push("STREAMS", this.keys.result, afterId);
    const conn = blockMs > 0 ? this.resultConn() : this.main;
    const reply = await conn.call("XREAD", args);
    if (reply === null) return [];
    const out: ResultEntry[] = [];
    for (const [, items] of asArray(reply, "XREAD") as Array<[unknown, unknown]>) {
      for (const item of asArray(items, "XREAD entries")) {
        const [id, flat] = asArray(item, "XREAD entry");
        if (flat === null) continue;
        const fields = asArray(flat, "XREAD fields");
        const at = fields.findIndex((f, i) => i % 2 === 0 && String(f) === "result");
        if (at < 0) throw new Error(`readResults: entry ${String(id)} has no "result" field`);
        let result: PlanResult;
        try {
          result = JSON.parse(String(fields[at + 1])) as PlanResult;
        } catch (err) {
          throw new Error(`readResults: entry ${String(id)} holds invalid JSON`, { cause: err });
        }
        out.push({ id: String(id), result });
      }
    }
    return out;
  }

  async publishAlert(alert: Record<string, unknown>): Promise<string> {
    return String(await this.main.call("XADD", this.keys.alert, "*", "alert", JSON.stringify(alert)));
  }

  async pendingCount(): Promise<number> {
    const p = this.main.pipeline();
    p.call("XPENDING", this.keys.planMain, CONSUMER_GROUP);
    p.call("XPENDING", this.keys.planManual, CONSUMER_GROUP);
    let total = 0;
    for (const [err, summary] of (await p.exec()) ?? []) {
      if (err !== null) {
        // no stream or no group yet: nothing pending
        if (/^(NOGROUP|ERR no such key)/.test(err.message)) continue;
        throw err;
      }
      total += Number(asArray(summary, "XPENDING summary")[0] ?? 0);
    }
    return total;
  }

  async dlqLength(): Promise<number> {
    return Number(await this.main.call("XLEN", this.keys.dlq));
  }

  // ---------------------------------------------------------------- deployment

  async readDeployment(): Promise<string | undefined> {
    const v = await this.main.call("GET", this.keys.deployment);
    return v === null || v === undefined ? undefined : String(v);
  }

  async initDeployment(opts: InitDeploymentOptions): Promise<string> {
    if (!TRADING_STATES.includes(opts.state))
      throw new RangeError(`unknown trading state "${String(opts.state)}"`);
    const k = this.keys;
    const call = scriptArgs("initDeployment", {
      keys: {
        deployment: k.deployment,
        planMain: k.planMain,
        planManual: k.planManual,
        state: k.state,
        stateLog: k.stateLog,
      },
      argv: {
        id: `dep-${randomUUID()}`,
        replace: opts.replace ? "1" : "0",
        group: CONSUMER_GROUP,
        state: opts.state,
        who: opts.who,
        at: String(Date.now()),
      },
    });
    const reply = asArray(await runScript(this.main, "initDeployment", call), "init");
    const id = String(reply[1]);
    if (Number(reply[0]) !== REPLY_CODES.initDeployment.created.code) throw new DeploymentExistsError(id);
    this.deployment = id;
    return id;
  }

  bindDeployment(id: string): void {
    this.deployment = id;
  }

  private bound(): string {
    if (this.deployment === undefined)
      throw new DeploymentMismatchError("ledger write refused: this handle is bound to no deployment");
    return this.deployment;
  }

  // ---------------------------------------------------------------- ledger

  async readFacts(query: FactsQuery): Promise<Facts> {
    const k = this.keys;
    const p = this.main.pipeline();
    p.call("GET", k.state);
    if (query.planIds.length > 0) p.call("HMGET", k.planIds, ...query.planIds);
    if (query.permitIds.length > 0) p.call("HMGET", k.permits, ...query.permitIds);
    if (query.rates.length > 0) p.call("MGET", ...query.rates.map((r) => k.rate(r.source, r.window)));
    const posFields = query.positions.map(positionKey);
    if (posFields.length > 0) p.call("HMGET", k.positions, ...posFields);
    const sendRefs = query.sendRecords ?? [];
    const sendFields = sendRefs.map(sendKey);
    if (sendFields.length > 0) p.call("HMGET", k.sends, ...sendFields);
    const replies = (await p.exec()) ?? [];
    let i = 0;
    const next = (): unknown => {
      const r = replies[i++];
      if (r === undefined) throw new Error("redis: readFacts pipeline reply missing");
      if (r[0] !== null) throw r[0];
      return r[1];
    };
    const tradingState = parseState(next());

    const claimedPlanIds = new Set<string>();
    if (query.planIds.length > 0) {
      const vals = asArray(next(), "HMGET plan_ids");
      for (let j = 0; j < query.planIds.length; j++) {
        if (vals[j] !== null && vals[j] !== undefined) claimedPlanIds.add(query.planIds[j]!);
      }
    }
    const usedPermitIds = new Set<string>();
    if (query.permitIds.length > 0) {
      const vals = asArray(next(), "HMGET permits");
      for (let j = 0; j < query.permitIds.length; j++) {
        if (vals[j] !== null && vals[j] !== undefined) usedPermitIds.add(query.permitIds[j]!);
      }
    }
    const rateCounts = new Map<string, number>();
    if (query.rates.length > 0) {
      const vals = asArray(next(), "MGET rate");
      for (let j = 0; j < query.rates.length; j++) {
        const v = vals[j];
        rateCounts.set(rateKey(query.rates[j]!), v === null || v === undefined ? 0 : Number(v));
      }
    }
    const positions = new Map<string, string>();
    if (query.positions.length > 0) {
      const vals = asArray(next(), "HMGET positions");
      for (let j = 0; j < posFields.length; j++) {
        const v = vals[j];
        if (v !== null && v !== undefined && String(v) !== "0") positions.set(posFields[j]!, String(v));
      }
    }
    const sendRecords = new Map<string, SendRecord>();
    if (sendFields.length > 0) {
      const vals = asArray(next(), "HMGET sends");
      for (let j = 0; j < sendFields.length; j++) {
        const v = vals[j];
        if (v === null || v === undefined) continue;
        const record = parseSendRecord(String(v));
        if (!record) throw new Error(`redis: malformed send record for ${sendFields[j]}`);
        sendRecords.set(sendFields[j]!, record);
      }
    }
    return { tradingState, claimedPlanIds, usedPermitIds, rateCounts, positions, sendRecords };
  }

  async finishSend(record: SendRecord, result: PlanResult): Promise<"committed" | "duplicate"> {
    const bound = this.bound();
    const k = this.keys;
    const call = scriptArgs("finishSend", {
      keys: {
        planStream: k.plan(record.lane),
        result: k.result,
        sends: k.sends,
        unknowns: k.unknowns,
        deployment: k.deployment,
      },
      argv: {
        group: CONSUMER_GROUP,
        streamId: record.streamId,
        field: sendKey(record),
        result: JSON.stringify(result),
        unknown: result.decision === "UNKNOWN" ? JSON.stringify(record) : "",
        deployment: bound,
      },
    });
    return decodeSendReply("finishSend", await runScript(this.main, "finishSend", call), bound);
  }

  async reconcile(entry: EntryRef, result: PlanResult): Promise<"committed" | "duplicate"> {
    const bound = this.bound();
    const k = this.keys;
    const call = scriptArgs("reconcile", {
      keys: { result: k.result, unknowns: k.unknowns, deployment: k.deployment },
      argv: { field: sendKey(entry), result: JSON.stringify(result), deployment: bound },
    });
    return decodeSendReply("reconcile", await runScript(this.main, "reconcile", call), bound);
  }

  async openUnknowns(venue?: VenueName): Promise<SendRecord[]> {
    const flat = asArray(await this.main.call("HGETALL", this.keys.unknowns), "HGETALL unknowns");
    const out: SendRecord[] = [];
    for (let j = 0; j + 1 < flat.length; j += 2) {
      const record = parseSendRecord(String(flat[j + 1]));
      if (!record) throw new Error(`redis: malformed open UNKNOWN for ${String(flat[j])}`);
      if (venue === undefined || record.ref.venue === venue) out.push(record);
    }
    return out.sort((a, b) => a.startedAt - b.startedAt);
  }

  async commit(decisions: readonly Decision[]): Promise<CommitOutcome[]> {
    if (decisions.length === 0) return [];
    const deployment = this.deployment;
    if (deployment === undefined) return decisions.map(() => ({ status: "conflict", on: "deployment" }));
    let call: ScriptCall;
    try {
      call = buildCommitCall({ keys: this.keys, decisions, deployment, consumer: this.consumer });
    } catch (err) {
      throw new CommitRefusedError(`commit: cannot encode the batch: ${(err as Error).message}`, {
        cause: err,
      });
    }
    let reply: unknown;
    try {
      reply = await runScript(this.main, "commit", call);
    } catch (err) {
      // `ERR …` is the script (or Redis) refusing this input; LOADING, READONLY, BUSY, OOM and
      // connection failures are the server's state, which a retry of the same batch may outlive.
      if (err instanceof ReplyError && /^ERR\b/.test((err as Error).message))
        throw new CommitRefusedError(`commit: ${(err as Error).message}`, { cause: err });
      throw err;
    }
    return decodeCommitReply(reply, decisions.length);
  }

  async getTradingState(): Promise<TradingState> {
    return parseState(await this.main.call("GET", this.keys.state));
  }

  async setTradingState(state: TradingState, who: string): Promise<void> {
    if (!TRADING_STATES.includes(state)) throw new RangeError(`unknown trading state "${String(state)}"`);
    const at = Date.now();
    const results = await this.main
      .multi()
      .call("SET", this.keys.state, state)
      .call("XADD", this.keys.stateLog, "*", "state", state, "who", who, "at", String(at))
      .exec();
    for (const [err] of results ?? []) if (err !== null) throw err;
  }

  async tradingStateLog(): Promise<TradingStateChange[]> {
    const reply = await this.main.call("XRANGE", this.keys.stateLog, "-", "+");
    const out: TradingStateChange[] = [];
    for (const item of asArray(reply, "XRANGE")) {
      const [, flat] = asArray(item, "XRANGE entry");
      if (flat === null) continue;
      const f = new Map<string, string>();
      const fields = asArray(flat, "XRANGE fields");
      for (let j = 0; j + 1 < fields.length; j += 2) f.set(String(fields[j]), String(fields[j + 1]));
      const state = f.get("state") as TradingState;
      if (!TRADING_STATES.includes(state)) continue;
      out.push({ state, who: f.get("who") ?? "", at: Number(f.get("at") ?? 0) });
    }
    return out;
  }

  async positions(): Promise<PaperPosition[]> {
    const flat = asArray(await this.main.call("HGETALL", this.keys.positions), "HGETALL");
    const out: PaperPosition[] = [];
    for (let j = 0; j + 1 < flat.length; j += 2) {
      const qty = String(flat[j + 1]);
      if (qty === "0") continue;
      let key: unknown;
      try {
        key = JSON.parse(String(flat[j]));
      } catch {
        continue;
      }
      if (
        Array.isArray(key) &&
        key.length === 2 &&
        typeof key[0] === "string" &&
        typeof key[1] === "string"
      ) {
        out.push({ account: key[0], symbol: key[1], qty });
      }
    }
    return out;
  }

  // ---------------------------------------------------------------- lifecycle

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopWatching();
    // Blocking readers may sit in a long BLOCK: drop them at once.
    for (const c of [this.planReader, this.resultReader]) c?.disconnect();
    try {
      await this.main.quit();
    } catch {
      this.main.disconnect();
    }
  }

  private planConn(): Redis {
    this.planReader ??= this.blockingConn("intentgate-plans");
    return this.planReader;
  }

  private resultConn(): Redis {
    this.resultReader ??= this.blockingConn("intentgate-results");
    return this.resultReader;
  }

  private blockingConn(name: string): Redis {
    if (this.closed) throw new Error("redis backend is closed");
    const c = this.main.duplicate({ connectionName: name, lazyConnect: true });
    c.on("error", () => {
      // reconnects by itself; the blocked command's promise carries the failure
    });
    return c;
  }

  private laneOf(key: string): Lane {
    if (key === this.keys.planMain) return "main";
    if (key === this.keys.planManual) return "manual";
    throw new Error(`redis: reply for unexpected stream ${key}`);
  }
}

/** A plan stream's group is missing: says what to do, and that nothing recreates it silently. */
function noGroup(err: unknown): Error {
  return Object.assign(
    new Error(
      `the consumer group ${CONSUMER_GROUP} is missing on a plan stream (a data loss, or a bus never set up); ` +
        "nothing recreates it silently: run `intentgate init`",
      { cause: err },
    ),
    { code: "NOGROUP" },
  );
}
