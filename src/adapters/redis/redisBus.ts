import type { Redis } from "ioredis";
import type { Lane } from "../../core/plan.js";
import type { PlanResult } from "../../core/result.js";
import { type BusEntry, CONSUMER_GROUP, type PlanBus, type ResultEntry } from "../../ports/bus.js";
import type { RedisKeys } from "./redisKeys.js";
import { asArray, type ParsedEntry, parseEntry, positive } from "./redisReplies.js";

/** XAUTOCLAIM rounds per stream in one `reclaim` call (each scans up to 10 × COUNT PEL entries). */
const MAX_AUTOCLAIM_ROUNDS = 10;

/**
 * The Redis Streams {@link PlanBus} (wire-v1 §1): commands on the shared
 * connection, and blocking reads (plans, results) on two connections of its
 * own, created on first use, so a blocked read never delays a commit.
 * {@link RedisBus.close} drops those two; the shared connection belongs to
 * the backend (redisBackend.ts).
 */
export class RedisBus implements PlanBus {
  private planReader: Redis | undefined;
  private resultReader: Redis | undefined;
  private closed = false;
  private consumer = "";

  constructor(
    private readonly main: Redis,
    private readonly keys: RedisKeys,
  ) {}

  /**
   * The consumer of the last `readNew` / `reclaim` ("" before one): the
   * commit script first looks for a batch's entries in this consumer's PEL
   * (one call per lane) and checks any id not found there on its own, so it
   * is only a hint.
   */
  get lastConsumer(): string {
    return this.consumer;
  }

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

  async lastResultId(): Promise<string> {
    const reply = asArray(
      await this.main.call("XREVRANGE", this.keys.result, "+", "-", "COUNT", 1),
      "XREVRANGE",
    );
    const [newest] = reply;
    return newest === undefined ? "0" : String(asArray(newest, "XREVRANGE entry")[0]);
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

  /** Drops the blocking readers at once (they may sit in a long BLOCK); later blocking reads throw. */
  async close(): Promise<void> {
    this.closed = true;
    for (const c of [this.planReader, this.resultReader]) c?.disconnect();
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
