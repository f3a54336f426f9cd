import { positionKey } from "../../core/facts.js";
import type { OrderEvent } from "../../core/orderEvent.js";
import { assertOrderUpdates } from "../../core/orderUpdate.js";
import type { VenueName } from "../../core/plan.js";
import {
  decodeWorkingOrder,
  encodeWorkingOrder,
  inScope,
  type OrderScope,
  type StoredWorkingOrder,
  type WorkingOrder,
} from "../../core/workingOrder.js";
import type { OrderEventEntry, OrderUpdate } from "../../ports/ledger.js";
import { REPLY_CODES } from "./conflictCodes.js";
import type { ScriptCall } from "./luaScripts.js";
import type { RedisKeys } from "./redisKeys.js";
import { asArray } from "./redisReplies.js";
import { orderedArgs, SCRIPT_INPUTS } from "./scriptInputs.js";
import { lostDeployment } from "./sendReplies.js";

/**
 * Working orders and order events on Redis (docs/architecture.md "Redis
 * layout": the `<prefix>orders` hash, the `<prefix>stream:order.event`
 * stream): decoding their replies, and the call of lua/updateOrders.lua.
 * The writes themselves are in the Lua scripts (commit.lua, updateOrders.lua).
 */

/** One stored order, decoded; a text that is not a working order throws (a corrupt ledger is never decided on). */
function stored(key: string, raw: unknown): StoredWorkingOrder {
  const text = String(raw);
  let order: WorkingOrder;
  try {
    order = decodeWorkingOrder(text);
  } catch (err) {
    throw new Error(`redis: malformed working order for ${key}: ${(err as Error).message}`, { cause: err });
  }
  return { order, text };
}

/**
 * The facts' working orders from the replies of `HMGET orders <keys…>`
 * (`byKey`, undefined when no key was asked for) and `HGETALL orders`
 * (`all`, undefined when no scope was asked for). Scopes are read as the
 * whole hash filtered here with `inScope`: a cancel-all reads every order of
 * the deployment, which stays small (orders resting on the book), so no
 * per-scope index is kept.
 */
export function ordersFromReplies(
  keys: readonly string[],
  byKey: unknown,
  scopes: readonly OrderScope[],
  all: unknown,
): Map<string, StoredWorkingOrder> {
  const out = new Map<string, StoredWorkingOrder>();
  if (byKey !== undefined) {
    const vals = asArray(byKey, "HMGET orders");
    for (let j = 0; j < keys.length; j++) {
      const v = vals[j];
      if (v !== null && v !== undefined) out.set(keys[j]!, stored(keys[j]!, v));
    }
  }
  if (all !== undefined) {
    for (const s of allOrders(all))
      if (scopes.some((scope) => inScope(s.order, scope))) out.set(s.order.key, s);
  }
  return out;
}

/** Every order of an `HGETALL orders` reply. */
function allOrders(flat: unknown): StoredWorkingOrder[] {
  const raw = asArray(flat, "HGETALL orders");
  const out: StoredWorkingOrder[] = [];
  for (let j = 0; j + 1 < raw.length; j += 2) out.push(stored(String(raw[j]), raw[j + 1]));
  return out;
}

/** Compares two keys by their UTF-8 bytes, as SQLite orders TEXT (BINARY collation). */
const byteOrder = (a: string, b: string): number =>
  Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));

/** `Ledger.workingOrders` from an `HGETALL orders` reply: of one venue when given, oldest first (placed_at, then key). */
export function listOrders(flat: unknown, venue?: VenueName): WorkingOrder[] {
  return allOrders(flat)
    .map((s) => s.order)
    .filter((o) => venue === undefined || o.venue === venue)
    .sort((a, b) => a.placed_at - b.placed_at || byteOrder(a.key, b.key));
}

/** KEYS and ARGV of lua/updateOrders.lua for `updates` (seven ARGV per update, as its header lists them). */
export function buildUpdateOrdersCall(
  keys: RedisKeys,
  updates: readonly OrderUpdate[],
  deployment: string,
): ScriptCall {
  assertOrderUpdates(updates);
  const input = SCRIPT_INPUTS.updateOrders;
  const argv = orderedArgs(input.argv, {
    deployment,
    count: String(updates.length),
    booksPrefix: keys.booksPrefix,
  });
  for (const u of updates) {
    const pos = u.position;
    argv.push(
      u.key,
      u.expected,
      u.next === null ? "" : encodeWorkingOrder(u.next),
      JSON.stringify(u.event),
      pos === undefined ? "" : positionKey(pos),
      pos?.expected ?? "",
      pos?.value ?? "",
    );
  }
  const keyList = orderedArgs(input.keys, {
    orders: keys.orders,
    positions: keys.positions,
    orderEvent: keys.orderEvent,
    deployment: keys.deployment,
  });
  return { keys: keyList, argv };
}

/**
 * Turns the reply of lua/updateOrders.lua into one answer per update; a lost
 * marker throws {@link lostDeployment} (`bound`: the id this handle writes under).
 */
export function decodeUpdateOrdersReply(
  reply: unknown,
  expected: number,
  bound: string,
): ("applied" | "conflict")[] {
  const codes = REPLY_CODES.updateOrders;
  if (reply === codes.lostDeployment.code) throw lostDeployment(bound);
  const vals = asArray(reply, "updateOrders");
  if (vals.length !== expected)
    throw new Error(`updateOrders: ${vals.length} answers for ${expected} updates`);
  return vals.map((v) => {
    if (v === codes.applied.code) return "applied";
    if (v === codes.conflict.code) return "conflict";
    throw new Error(`updateOrders: unexpected answer ${String(v)}`);
  });
}

/** The entries of an `XREAD … STREAMS <orderEvent> <id>` reply (null: none). */
export function parseOrderEvents(reply: unknown): OrderEventEntry[] {
  if (reply === null) return [];
  const out: OrderEventEntry[] = [];
  for (const [, items] of asArray(reply, "XREAD") as Array<[unknown, unknown]>) {
    for (const item of asArray(items, "XREAD entries")) {
      const [id, flat] = asArray(item, "XREAD entry");
      if (flat === null) continue;
      const fields = asArray(flat, "XREAD fields");
      const at = fields.findIndex((f, i) => i % 2 === 0 && String(f) === "event");
      if (at < 0) throw new Error(`readOrderEvents: entry ${String(id)} has no "event" field`);
      let event: OrderEvent;
      try {
        event = JSON.parse(String(fields[at + 1])) as OrderEvent;
      } catch (err) {
        throw new Error(`readOrderEvents: entry ${String(id)} holds invalid JSON`, { cause: err });
      }
      out.push({ id: String(id), event });
    }
  }
  return out;
}
