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

/** One account's books: its entries (snapshot id → the exact text stored, core/exposure.ts ids) and their version. */
export interface AccountBooks {
  readonly entries: ReadonlyMap<string, string>;
  /** The version a script wrote with them (lua/lib/books.lua); "" when there are none. */
  readonly version: string;
}

/** The books' field holding their version (lua/lib/books.lua `Books.VERSION`). */
export const BOOKS_VERSION_FIELD = "v";

/** Queues, on a facts pipeline, the marker read and one `HGETALL` per account (read back with {@link readBooksReplies}). */
export function queueBooksReads(p: ChainableCommander, keys: RedisKeys, accounts: readonly string[]): void {
  p.call("EXISTS", keys.booksReady);
  for (const account of accounts) p.call("HGETALL", keys.booksPrefix + account);
}

/**
 * The replies {@link queueBooksReads} queued, taken in order with `next`:
 * undefined when the books are not built yet (`books.ready` missing, or an
 * account's books hold entries but no version: built before books had
 * versions; the caller builds them with {@link buildBooks} and reads again).
 */
export function readBooksReplies(
  next: () => unknown,
  accounts: readonly string[],
): Map<string, AccountBooks> | undefined {
  let ready = Number(next()) === 1;
  const books = new Map<string, AccountBooks>();
  for (const account of accounts) {
    const flat = asArray(next(), `HGETALL books of ${account}`);
    const entries = new Map<string, string>();
    let version = "";
    for (let j = 0; j + 1 < flat.length; j += 2) {
      const id = String(flat[j]);
      if (id === BOOKS_VERSION_FIELD) version = String(flat[j + 1]);
      else entries.set(id, String(flat[j + 1]));
    }
    if (entries.size > 0 && version === "") ready = false;
    books.set(account, { entries, version });
  }
  return ready ? books : undefined;
}

/** How many orders of an account may still fill, by its books: every working order, send and open UNKNOWN in them. */
export function openOrdersInBooks(book: AccountBooks): number {
  let n = 0;
  for (const id of book.entries.keys()) if (!id.startsWith(EXPOSURE_IDS.position)) n++;
  return n;
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
