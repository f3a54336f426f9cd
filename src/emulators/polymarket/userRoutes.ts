import { isRecord } from "../../core/isRecord.js";
import { parseStrictJson } from "../../core/strictJson.js";
import type { EmulatorExchange } from "./emulatorExchange.js";
import type { Heartbeats } from "./heartbeats.js";
import { type Answer, orderView } from "./postOrder.js";
import { EMULATOR_CONDITION_ID, tradeView } from "./trades.js";

/** The cursor clob-client-v2 starts with (base64 "0") and the one that ends paging (base64 "-1"). */
export const INITIAL_CURSOR = "MA==";
export const END_CURSOR = "LTE=";
/** The message of an order that cannot be canceled (unknown, another key's, matched or canceled). */
export const NOT_CANCELED = "Order not found or already canceled";

/** The L2 endpoints {@link userRoute} answers. */
export const USER_ROUTES: ReadonlySet<string> = new Set([
  "GET /data/orders",
  "GET /data/trades",
  "DELETE /order",
  "DELETE /orders",
  "DELETE /cancel-all",
  "DELETE /cancel-market-orders",
  "POST /v1/heartbeats",
  "POST /heartbeats",
]);

/** What the user (L2-authenticated) endpoints act on. */
export interface UserRouteContext {
  readonly exchange: EmulatorExchange;
  readonly heartbeats: Heartbeats;
  /** Rows per page of `/data/orders` and `/data/trades`. */
  readonly pageSize: number;
}

/**
 * The L2 endpoints for a user's orders, trades and heartbeats, after the
 * headers passed; `undefined` for any other request:
 *
 * | endpoint | answers |
 * |---|---|
 * | `GET /data/orders?id=&market=&asset_id=&next_cursor=` | `{data: OpenOrder[], next_cursor, limit, count}` (LIVE orders) |
 * | `GET /data/trades?id=&market=&asset_id=&next_cursor=` | `{data: Trade[], next_cursor, limit, count}` |
 * | `DELETE /order` `{orderID}` | `{canceled: [id], not_canceled: {}}` or `{canceled: [], not_canceled: {id: reason}}` |
 * | `DELETE /orders` `[id, …]` | the same, for each |
 * | `DELETE /cancel-all` | every LIVE order of the key |
 * | `DELETE /cancel-market-orders` `{market?, asset_id?}` | those of one market / token |
 * | `POST /v1/heartbeats` `{heartbeat_id}` | `{heartbeat_id}` (a new id each time), or 400 `{heartbeat_id, error}` (the refused id) |
 */
export function userRoute(
  ctx: UserRouteContext,
  req: {
    readonly method: string;
    readonly path: string;
    readonly query: URLSearchParams;
    readonly body: string;
  },
  owner: string,
): Answer | undefined {
  const { exchange } = ctx;
  const bad = (error: string): Answer => ({ status: 400, body: { error } });
  const json = (): unknown => {
    const parsed = parseStrictJson(req.body);
    return parsed.ok ? parsed.value : undefined;
  };
  const cancel = (ids: readonly string[]): Answer => {
    const canceled: string[] = [];
    const notCanceled: Record<string, string> = {};
    for (const id of ids) {
      if (exchange.cancel(id, owner)) canceled.push(id);
      else notCanceled[id] = NOT_CANCELED;
    }
    return { status: 200, body: { canceled, not_canceled: notCanceled } };
  };
  const q = (name: string) => req.query.get(name) ?? undefined;
  const byFilters = <T extends { orderHash: string; tokenId: string }>(rows: readonly T[], id?: string) =>
    rows.filter(
      (o) =>
        (id === undefined || o.orderHash.toLowerCase() === id.toLowerCase()) &&
        (q("asset_id") === undefined || o.tokenId === q("asset_id")) &&
        (q("market") === undefined || q("market") === EMULATOR_CONDITION_ID),
    );
  const page = (rows: readonly unknown[]): Answer => {
    const cursor = q("next_cursor") ?? INITIAL_CURSOR;
    const offset = Number(Buffer.from(cursor, "base64").toString("utf8"));
    if (!Number.isInteger(offset) || offset < 0) return bad("invalid next_cursor");
    const data = rows.slice(offset, offset + ctx.pageSize);
    const next = offset + ctx.pageSize < rows.length ? offset + ctx.pageSize : -1;
    return {
      status: 200,
      body: {
        data,
        next_cursor: Buffer.from(String(next)).toString("base64"),
        limit: ctx.pageSize,
        count: data.length,
      },
    };
  };

  const route = `${req.method} ${req.path}`;
  switch (route) {
    case "GET /data/orders":
      return page(byFilters(exchange.openOrders(owner), q("id")).map(orderView));
    case "GET /data/trades": {
      const mine = exchange.trades.filter((t) => t.order.owner === owner);
      const rows = mine.filter(
        (t) =>
          (q("id") === undefined || t.id === q("id")) &&
          byFilters([t.order]).length === 1 &&
          (q("before") === undefined || t.matchTime < Number(q("before"))) &&
          (q("after") === undefined || t.matchTime > Number(q("after"))),
      );
      return page(rows.map(tradeView));
    }
    case "DELETE /order": {
      const body = json();
      if (!isRecord(body) || typeof body.orderID !== "string") return bad("Invalid order payload");
      return cancel([body.orderID]);
    }
    case "DELETE /orders": {
      const body = json();
      if (!Array.isArray(body) || !body.every((id) => typeof id === "string"))
        return bad("Invalid order payload");
      return cancel(body as string[]);
    }
    case "DELETE /cancel-all":
      return cancel(exchange.openOrders(owner).map((o) => o.orderHash));
    case "DELETE /cancel-market-orders": {
      const body = json();
      if (!isRecord(body)) return bad("Invalid order payload");
      const asset = typeof body.asset_id === "string" && body.asset_id !== "" ? body.asset_id : undefined;
      const market = typeof body.market === "string" && body.market !== "" ? body.market : undefined;
      if (market !== undefined && market !== EMULATOR_CONDITION_ID) return cancel([]);
      return cancel(exchange.openOrders(owner, asset).map((o) => o.orderHash));
    }
    case "POST /v1/heartbeats":
    case "POST /heartbeats": {
      const body = req.body === "" ? {} : json();
      if (!isRecord(body)) return bad("Invalid heartbeat payload");
      const given = typeof body.heartbeat_id === "string" ? body.heartbeat_id : "";
      const a = ctx.heartbeats.beat(owner, given);
      return a.ok
        ? { status: 200, body: { heartbeat_id: a.heartbeatId } }
        : { status: 400, body: { heartbeat_id: a.heartbeatId, error: a.error } };
    }
    default:
      return undefined;
  }
}
