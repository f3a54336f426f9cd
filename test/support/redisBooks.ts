import type { Redis } from "ioredis";
import { BOOKS_COUNT_FIELD, BOOKS_VERSION_FIELD } from "../../src/adapters/redis/redisBooks.js";
import { EXPOSURE_IDS } from "../../src/core/exposure.js";
import { parsePositionKey } from "../../src/core/facts.js";
import { isCancelRecord, parseOpenRecord } from "../../src/core/openRecord.js";
import { decodeWorkingOrder } from "../../src/core/workingOrder.js";

/** Account → its books (snapshot id → text). */
export type BooksByAccount = Record<string, Record<string, string>>;

/**
 * What the Redis ledger keeps as each account's books (every
 * `<prefix>books:<account>` hash), and what they must be by the hashes they
 * mirror (lua/lib/books.lua): every position under `p:`, working order
 * under `w:`, send record under `s:` and open UNKNOWN under `u:`, with its
 * exact text, in its account's books; a live cancel's record in none.
 * Computed here from the hashes with the core decoders, independently of
 * the Lua that keeps them. Every books hash must carry its version (`v`, a
 * positive count; it is not part of `kept`): one without throws. An
 * account whose books hold only their version (every entry removed) is
 * left out of `kept`, as it holds nothing.
 */
export async function readBooks(
  raw: Redis,
  prefix: string,
): Promise<{ kept: BooksByAccount; due: BooksByAccount }> {
  const kept: BooksByAccount = {};
  const booksPrefix = `${prefix}books:`;
  const pattern = `${booksPrefix.replace(/[*?[\]\\]/g, "\\$&")}*`;
  let cursor = "0";
  do {
    const [next, keys] = await raw.scan(cursor, "MATCH", pattern, "COUNT", 1000);
    for (const key of keys) {
      const {
        [BOOKS_VERSION_FIELD]: version,
        [BOOKS_COUNT_FIELD]: count,
        ...entries
      } = await raw.hgetall(key);
      if (version === undefined || !/^[1-9][0-9]*$/.test(version))
        throw new Error(`${key} carries no version (${String(version)})`);
      const orders = Object.keys(entries).filter((id) => !id.startsWith(EXPOSURE_IDS.position)).length;
      if (Number(count ?? "0") !== orders)
        throw new Error(`${key} counts ${String(count)} open orders and holds ${orders}`);
      if (Object.keys(entries).length > 0) kept[key.slice(booksPrefix.length)] = entries;
    }
    cursor = next;
  } while (cursor !== "0");

  const due: BooksByAccount = {};
  const put = (account: string, id: string, text: string) => {
    due[account] ??= {};
    due[account][id] = text;
  };
  for (const [field, text] of Object.entries(await raw.hgetall(`${prefix}positions`))) {
    const ref = parsePositionKey(field);
    if (ref === undefined) throw new Error(`positions holds ${field}, not a position field`);
    put(ref.account, `p:${field}`, text);
  }
  for (const [key, text] of Object.entries(await raw.hgetall(`${prefix}orders`)))
    put(decodeWorkingOrder(text).account, `w:${key}`, text);
  for (const [hash, id] of [
    ["sends", "s:"],
    ["unknowns", "u:"],
  ] as const) {
    for (const [field, text] of Object.entries(await raw.hgetall(`${prefix}${hash}`))) {
      const record = parseOpenRecord(text);
      if (record === undefined) throw new Error(`${hash} holds ${field}, not an open record`);
      if (!isCancelRecord(record)) put(record.ref.account, `${id}${field}`, text);
    }
  }
  return { kept, due };
}
