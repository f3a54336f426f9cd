import { isRecord } from "../../core/isRecord.js";
import { ORDER_HASH_RE } from "../../core/polymarket/ctfOrder.js";
import { parseStrictJson } from "../../core/strictJson.js";
import type { BindOutcome } from "../payloadKind.js";
import { POLYMARKET_VENUE } from "./polymarketOrderTerms.js";
import { mismatch, ownField, readTargetString } from "./targetFields.js";

type Target = Readonly<Record<string, unknown>>;
type Time = { readonly ms: number; readonly resolutionMs: number };

/** A heartbeat id as the venue hands them out (empty for the first heartbeat of a session). */
const HEARTBEAT_ID_RE = /^[A-Za-z0-9_-]{0,128}$/;

/**
 * The body of each Polymarket L2 action other than `order` (whose body is
 * an order, `polymarketOrderTerms.ts`), compared with `target`. A body
 * must be exactly what clob-client-v2 sends for the action: the
 * `JSON.stringify` of its one object, no other key, no white space, no
 * escapes (so the venue cannot read it differently from the plane):
 *
 * - `cancel` (`DELETE /order`): `{"orderID":"0x…"}`, one order hash, equal
 *   to `target.order_id` (required);
 * - `heartbeat` (`POST /v1/heartbeats`): `{"heartbeat_id":"…"}` (empty for
 *   the first), equal to `target.heartbeat_id` when the target names it;
 * - `cancel_all` and the reads: an empty body.
 *
 * `path` is the request path already held to the action's template; a
 * `query_order` target naming `order_id` must name the path's hash.
 */
export function bindL2Body(o: {
  readonly action: string;
  readonly path: string;
  readonly body: string;
  readonly target: Target;
  readonly timestamp: Time;
  readonly replayable: boolean;
}): BindOutcome {
  const effect = {
    venue: POLYMARKET_VENUE,
    action: o.action,
    timestamp: o.timestamp,
    replayableRead: o.replayable,
  };
  const ok: BindOutcome = { ok: true, effect };
  switch (o.action) {
    case "cancel": {
      const hash = oneStringField(o.body, "orderID");
      if (hash === undefined || !ORDER_HASH_RE.test(hash)) return mismatch("body");
      const orderId = readTargetString(o.target, "order_id");
      return orderId.ok && orderId.value === hash ? ok : mismatch("order_id");
    }
    case "heartbeat": {
      const id = oneStringField(o.body, "heartbeat_id");
      if (id === undefined || !HEARTBEAT_ID_RE.test(id)) return mismatch("body");
      const stated = ownField(o.target, "heartbeat_id");
      return stated === undefined || stated === id ? ok : mismatch("heartbeat_id");
    }
    default: {
      if (o.body !== "") return mismatch("body");
      if (o.action !== "query_order") return ok;
      const orderId = readTargetString(o.target, "order_id");
      if (!orderId.ok) return mismatch("order_id");
      const hash = o.path.slice(o.path.lastIndexOf("/") + 1);
      return orderId.value === undefined || orderId.value === hash ? ok : mismatch("order_id");
    }
  }
}

/**
 * The string value of `body` when it is exactly `JSON.stringify({ [name]: value })`
 * with a string value, else `undefined`.
 * @example oneStringField('{"orderID":"0xab"}', "orderID") // "0xab"
 */
function oneStringField(body: string, name: string): string | undefined {
  const parsed = parseStrictJson(body);
  if (!parsed.ok || !isRecord(parsed.value)) return undefined;
  const keys = Object.keys(parsed.value);
  if (keys.length !== 1 || keys[0] !== name) return undefined;
  const value = parsed.value[name];
  if (typeof value !== "string" || body !== JSON.stringify({ [name]: value })) return undefined;
  return value;
}
