import { Redis } from "ioredis";
import { redactUrl } from "../../core/redactUrl.js";
import type { AlertFeed, AlertFeedEntry } from "../../ports/alertFeed.js";
import { errorCause } from "./connectionWatch.js";
import { redisKeys } from "./redisKeys.js";
import { asArray, parseEntry, positive } from "./redisReplies.js";

/** Where the alert feed's stored values live: `<prefix>alert_delivery:<name>` (a string key). */
export const alertStateKey = (prefix: string, name: string): string => `${prefix}alert_delivery:${name}`;

/**
 * The {@link AlertFeed} of a Redis bus: XREAD on `<prefix>stream:exit.alert`
 * (a blocking read on a connection of its own, created on first use, so a
 * waiting read never delays a state write) and string keys
 * `<prefix>alert_delivery:<name>` for stored values (under the prefix, so a
 * `{hash-tag}` prefix keeps them in the deployment's cluster slot).
 */
export class RedisAlertFeed implements AlertFeed {
  readonly #conn: Redis;
  readonly #stream: string;
  readonly #prefix: string;
  readonly #ownsConn: boolean;
  #reader: Redis | undefined;
  #closed = false;

  /**
   * Uses `conn` for commands (closed by {@link close} only when `ownsConn`);
   * `prefix` is the deployment's key prefix (wire-v1 §1).
   */
  constructor(conn: Redis, prefix: string, opts: { readonly ownsConn?: boolean } = {}) {
    this.#conn = conn;
    this.#prefix = prefix;
    this.#stream = redisKeys(prefix).alert;
    this.#ownsConn = opts.ownsConn ?? false;
  }

  async readAlerts(afterId: string, count: number, blockMs: number): Promise<AlertFeedEntry[]> {
    const args: Array<string | number> = ["COUNT", positive(count, "count")];
    // BLOCK 0 means "forever" to Redis: only ever send a positive wait.
    if (blockMs > 0) args.push("BLOCK", Math.ceil(blockMs));
    args.push("STREAMS", this.#stream, afterId);
    const conn = blockMs > 0 ? this.#readerConn() : this.#conn;
    const reply = await conn.callBuffer("XREAD", args);
    if (reply === null) return [];
    const out: AlertFeedEntry[] = [];
    for (const stream of asArray(reply, "XREAD")) {
      for (const item of asArray(asArray(stream, "XREAD stream")[1], "XREAD entries")) {
        const entry = parseEntry(item);
        if (entry === undefined) continue;
        const field = entry.fields.find(([name]) => name === "alert");
        out.push({ id: entry.id, text: field?.[1].toString("utf8") });
      }
    }
    return out;
  }

  async lastAlertId(): Promise<string> {
    const [newest] = asArray(
      await this.#conn.call("XREVRANGE", this.#stream, "+", "-", "COUNT", 1),
      "XREVRANGE",
    );
    return newest === undefined ? "0" : String(asArray(newest, "XREVRANGE entry")[0]);
  }

  async getState(name: string): Promise<string | undefined> {
    const value = await this.#conn.get(alertStateKey(this.#prefix, name));
    return value ?? undefined;
  }

  async setState(name: string, value: string): Promise<void> {
    await this.#conn.set(alertStateKey(this.#prefix, name), value);
  }

  /** Drops the blocking reader at once (it may sit in a BLOCK), and the command connection when owned. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#reader?.disconnect();
    if (!this.#ownsConn) return;
    try {
      await this.#conn.quit();
    } catch {
      this.#conn.disconnect();
    }
  }

  #readerConn(): Redis {
    if (this.#closed) throw new Error("redis alert feed is closed");
    if (this.#reader === undefined) {
      const reader = this.#conn.duplicate({ connectionName: "intentgate-alerts", lazyConnect: true });
      reader.on("error", () => {
        // reconnects by itself; the blocked command's promise carries the failure
      });
      this.#reader = reader;
    }
    return this.#reader;
  }
}

/**
 * Connects to the Redis bus at `url` (`redis://…`, `rediss://…`) and returns
 * its alert feed, which owns the connection. A wrong URL fails here, with
 * the URL's credentials redacted from the message.
 */
export async function openRedisAlertFeed(opts: {
  readonly url: string;
  readonly prefix: string;
}): Promise<RedisAlertFeed> {
  const conn = new Redis(opts.url, {
    lazyConnect: true,
    protocol: 2,
    connectionName: "intentgate-alert-state",
    retryStrategy: (times) => Math.min(times * 100, 1000),
  });
  let lastError: unknown;
  conn.on("error", (err) => {
    lastError = err;
  });
  try {
    await conn.connect();
  } catch (err) {
    conn.disconnect();
    const cause = lastError ?? err;
    throw new Error(`redis: cannot connect to ${redactUrl(opts.url)}: ${errorCause(cause)}`, { cause });
  }
  return new RedisAlertFeed(conn, opts.prefix, { ownsConn: true });
}
