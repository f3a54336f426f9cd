import type { ChainableCommander, Redis } from "ioredis";
import { EXPOSURE_IDS } from "../../core/exposure.js";
import { REPLY_CODES } from "./conflictCodes.js";
import { runScript } from "./luaScripts.js";
import type { RedisKeys } from "./redisKeys.js";
import { asArray } from "./redisReplies.js";
import { scriptArgs } from "./scriptInputs.js";
import { lostDeployment } from "./sendReplies.js";

/**
 * Each account's books on Redis (lua/lib/books.lua): the hash
 * `<prefix>books:<account>` holding every position, working order, send
 * record and open UNKNOWN of the account under its exposure snapshot id,
 * kept by every script that writes those hashes in the same step. The
 * exposure and open-order caps read one account's books, so what they cost
 * grows with the batch's accounts, not with everything the deployment holds.
 */

/** One account's books as a facts read took them (lua/lib/books.lua). */
export interface AccountBooks {
  /** Snapshot id → the exact text stored (core/exposure.ts ids); empty when only the count was read. */
  readonly entries: ReadonlyMap<string, string>;
  /** The version a script wrote with them; "" when there are none. */
  readonly version: string;
  /** How many of its entries are orders that may still fill (working, being sent, open UNKNOWN). */
  readonly openOrders: number;
}

/** The books' fields holding their version and their open-order count (lua/lib/books.lua). */
export const BOOKS_VERSION_FIELD = "v";
export const BOOKS_COUNT_FIELD = "n";

/** Which accounts' books a facts read takes whole (exposure caps), and which only counted (open-order cap). */
export interface BooksQuery {
  readonly whole: readonly string[];
  readonly counted: readonly string[];
}

/**
 * Queues, on a facts pipeline, the marker read, one `HGETALL` per account
 * read whole, and `HMGET v n` plus `HLEN` per account only counted (read
 * back with {@link readBooksReplies}).
 */
export function queueBooksReads(p: ChainableCommander, keys: RedisKeys, q: BooksQuery): void {
  p.call("EXISTS", keys.booksReady);
  for (const account of q.whole) p.call("HGETALL", keys.booksPrefix + account);
  for (const account of q.counted) {
    p.call("HMGET", keys.booksPrefix + account, BOOKS_VERSION_FIELD, BOOKS_COUNT_FIELD);
    p.call("HLEN", keys.booksPrefix + account);
  }
}

/**
 * The replies {@link queueBooksReads} queued, taken in order with `next`:
 * undefined when the books are not built, or not as this IntentGate keeps
 * them (`books.ready` missing; an account's books holding entries but no
 * version, built before versions; an open-order count that is not a count,
 * or, read whole, not the number of orders they hold): the caller builds
 * them with {@link buildBooks} and reads again.
 */
export function readBooksReplies(next: () => unknown, q: BooksQuery): Map<string, AccountBooks> | undefined {
  let ready = Number(next()) === 1;
  const books = new Map<string, AccountBooks>();
  for (const account of q.whole) {
    const flat = asArray(next(), `HGETALL books of ${account}`);
    const entries = new Map<string, string>();
    let version = "";
    let count: string | undefined;
    let orders = 0;
    for (let j = 0; j + 1 < flat.length; j += 2) {
      const id = String(flat[j]);
      const text = String(flat[j + 1]);
      if (id === BOOKS_VERSION_FIELD) version = text;
      else if (id === BOOKS_COUNT_FIELD) count = text;
      else {
        entries.set(id, text);
        if (!id.startsWith(EXPOSURE_IDS.position)) orders++;
      }
    }
    if ((entries.size > 0 && version === "") || countOf(count) !== orders) ready = false;
    books.set(account, { entries, version, openOrders: orders });
  }
  for (const account of q.counted) {
    const [version, count] = asArray(next(), `HMGET books of ${account}`);
    const fields = Number(next());
    const openOrders = countOf(count == null ? undefined : String(count));
    if ((fields > 0 && version == null) || openOrders === undefined) ready = false;
    books.set(account, {
      entries: NO_ENTRIES,
      version: version == null ? "" : String(version),
      openOrders: openOrders ?? 0,
    });
  }
  return ready ? books : undefined;
}

const NO_ENTRIES: ReadonlyMap<string, string> = new Map();

/** A stored open-order count (absent: 0); undefined when it is not a count. */
function countOf(text: string | undefined): number | undefined {
  if (text === undefined) return 0;
  return /^(0|[1-9][0-9]{0,14})$/.test(text) ? Number(text) : undefined;
}

/**
 * Builds every account's books from the hashes they mirror and marks them
 * ready (lua/buildBooks.lua), in one atomic step. Throws a
 * `DeploymentMismatchError` when the marker is not `deployment` (a lost
 * deployment is never built on), and the script's error when an entry names
 * no account (a corrupt ledger is never decided on a guess).
 */
export async function buildBooks(conn: Redis, keys: RedisKeys, deployment: string): Promise<void> {
  const call = scriptArgs("buildBooks", {
    keys: {
      positions: keys.positions,
      orders: keys.orders,
      sends: keys.sends,
      unknowns: keys.unknowns,
      booksReady: keys.booksReady,
      deployment: keys.deployment,
    },
    argv: { booksPrefix: keys.booksPrefix, deployment },
  });
  const reply = Number(await runScript(conn, "buildBooks", call));
  if (reply === REPLY_CODES.buildBooks.lostDeployment.code) throw lostDeployment(deployment);
  if (reply !== REPLY_CODES.buildBooks.built.code)
    throw new Error(`redis: buildBooks answered ${reply}, not a reply it has`);
}
