import { statSync } from "node:fs";
import type { Statement } from "better-sqlite3";
import type { AlertFeed, AlertFeedEntry } from "../../ports/alertFeed.js";
import { decodeFields } from "./fieldCodec.js";
import { sleep, withBusyRetry } from "./sqliteBusy.js";
import type { FileId } from "./sqliteHandle.js";
import { type Db, openDatabase } from "./sqliteSchema.js";
import { STREAMS, StreamStore } from "./sqliteStreams.js";
import { parseStreamId } from "./streamIds.js";

/** `ig_kv` key of a stored value of alert delivery. */
export const alertStateKvKey = (name: string): string => `alert_delivery:${name}`;

/** First and longest sleep between polls while a read waits for a new alert. */
const POLL_MIN_MS = 5;
const POLL_MAX_MS = 100;

interface Open {
  readonly db: Db;
  readonly file: FileId;
  readonly streams: StreamStore;
  readonly get: Statement<[string, string], { value: string }>;
  readonly set: Statement<[string, string, string]>;
}

/**
 * The {@link AlertFeed} of the embedded bus: the `stream:exit.alert` rows of
 * `ig_stream` and `ig_kv` rows `alert_delivery:<name>` under the prefix.
 * Reads are lock-free WAL snapshots; a wait polls (5 ms growing to 100 ms).
 * When the path comes to name another file (deleted and re-created by
 * `intentgate init`), the feed moves to it, so an alert written to the new
 * file (a repeated `deployment_lost`) is read.
 */
export class SqliteAlertFeed implements AlertFeed {
  readonly #path: string;
  readonly #prefix: string;
  #open: Open | undefined;
  #closed = false;

  private constructor(path: string, prefix: string, open: Open) {
    this.#path = path;
    this.#prefix = prefix;
    this.#open = open;
  }

  /** Opens the bus file at `sqlite:<path>`; a missing file is an error (the executor creates it). */
  static async open(opts: { readonly url: string; readonly prefix: string }): Promise<SqliteAlertFeed> {
    if (!opts.url.startsWith("sqlite:")) throw new Error("sqlite alert feed: not a sqlite: URL");
    const path = opts.url.slice("sqlite:".length);
    if (path === "" || path === ":memory:")
      throw new Error("sqlite alert feed: give a file path (sqlite:<path>)");
    return new SqliteAlertFeed(path, opts.prefix, await openAt(path, opts.prefix));
  }

  async readAlerts(afterId: string, count: number, blockMs: number): Promise<AlertFeedEntry[]> {
    const after = parseStreamId(afterId);
    if (!after) throw new Error(`sqlite alert feed: bad stream id "${afterId}"`);
    if (count <= 0) return [];
    const deadline = Date.now() + Math.max(0, blockMs);
    let delay = POLL_MIN_MS;
    for (;;) {
      if (this.#closed) return [];
      const { streams } = await this.#current();
      const rows = await withBusyRetry(() => streams.after(STREAMS.alert, after, count));
      if (rows.length > 0)
        return rows.map((row) => {
          const field = decodeFields(row.fields).find(([name]) => name === "alert");
          return { id: `${row.ms}-${row.seq}`, text: field?.[1].toString("utf8") };
        });
      const left = deadline - Date.now();
      if (left <= 0) return [];
      await sleep(Math.min(delay, left));
      delay = Math.min(delay * 2, POLL_MAX_MS);
    }
  }

  async lastAlertId(): Promise<string> {
    return (await this.#current()).streams.lastId(STREAMS.alert) ?? "0";
  }

  async getState(name: string): Promise<string | undefined> {
    const { get } = await this.#current();
    return (await withBusyRetry(() => get.get(this.#prefix, alertStateKvKey(name))))?.value;
  }

  async setState(name: string, value: string): Promise<void> {
    const { db, set } = await this.#current();
    // synchronous=FULL (sqliteSchema.ts): durable once this returns.
    await withBusyRetry(() =>
      db.transaction(() => set.run(this.#prefix, alertStateKvKey(name), value)).immediate(),
    );
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#open?.db.close();
    this.#open = undefined;
  }

  /** The open file, after moving to the file now at the path if that is another one. */
  async #current(): Promise<Open> {
    if (this.#closed) throw new Error("sqlite alert feed is closed");
    const now = fileAt(this.#path);
    if (this.#open !== undefined && now !== undefined && sameFile(now, this.#open.file)) return this.#open;
    this.#open?.db.close();
    this.#open = undefined;
    if (now === undefined)
      throw Object.assign(
        new Error(`sqlite alert feed: no bus file at ${this.#path} (deleted; waiting for it)`),
        {
          code: "ENOENT",
        },
      );
    this.#open = await openAt(this.#path, this.#prefix);
    return this.#open;
  }
}

async function openAt(path: string, prefix: string): Promise<Open> {
  const db = await openDatabase(path, { create: false });
  try {
    const file = fileAt(path);
    if (file === undefined) throw new Error(`sqlite alert feed: no bus file at ${path}`);
    return {
      db,
      file,
      streams: new StreamStore(db, prefix),
      get: db.prepare<[string, string], { value: string }>(
        "SELECT value FROM ig_kv WHERE prefix = ? AND key = ?",
      ),
      set: db.prepare<[string, string, string]>(
        "INSERT INTO ig_kv (prefix, key, value) VALUES (?, ?, ?) ON CONFLICT (prefix, key) DO UPDATE SET value = excluded.value",
      ),
    };
  } catch (err) {
    db.close();
    throw err;
  }
}

function fileAt(path: string): FileId | undefined {
  try {
    const st = statSync(path);
    return { dev: st.dev, ino: st.ino };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

const sameFile = (a: FileId, b: FileId): boolean => a.dev === b.dev && a.ino === b.ino;
