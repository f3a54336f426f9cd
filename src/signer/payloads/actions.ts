import { ORDER_HASH_RE } from "../../core/polymarket/ctfOrder.js";
import type { PayloadKind } from "../../ports/signingPlane.js";

/**
 * The one table of what each payload kind can do (signing-plane-v1 §2: each
 * route does exactly one action). A route is bound to one of its kind's
 * actions in the signer config; `target.action` and the decoded payload must
 * be that action. For HTTP-request payloads (`hmac-clob-l2`) an action is
 * also exactly one method and one path: a literal path, or one with a
 * `{order_hash}` segment (`0x` and 64 hex digits). Nothing else is signed.
 *
 * `read`: the action reads and never changes anything at the venue.
 * `replayable`: its signature does not cover the HTTP method or path, so it
 * could be sent as another request with the same parameters (Binance's HMAC
 * covers the parameters only: a `query_order` signature is also a valid
 * `DELETE /fapi/v1/order`, an `open_orders` or `position_risk` signature
 * with a symbol a valid `DELETE /fapi/v1/allOpenOrders`). Such reads are
 * signed with the account's read-only key where one is configured,
 * otherwise counted against the cancel rate and audited `cancel_capable`
 * (§3a).
 * `rate`: the per-second rate a grant of the action counts against
 * (`order`: `rate_per_account_per_s` and the windows; `cancel`:
 * `cancel_rate_per_account_per_s`; `keepalive`:
 * `keepalive_rate_per_account_per_s`); a read counts against the cancel
 * rate only when it is cancel-capable.
 * `cancels`: a granted signature can cancel orders at the venue (a cancel,
 * a cancel-all, a dead-man countdown when it runs out): audited
 * `cancel_capable`.
 */
export interface ActionSpec {
  readonly read: boolean;
  readonly replayable: boolean;
  readonly rate: ActionRate | undefined;
  readonly cancels: boolean;
  /** HTTP-request payloads: the one method and path the action is. */
  readonly http?: { readonly method: "GET" | "POST" | "DELETE"; readonly path: string };
}

/** The per-second rate an action's grants count against (see {@link ActionSpec}). */
export type ActionRate = "order" | "cancel" | "keepalive";

type Http = ActionSpec["http"];
const read = (http?: Http): ActionSpec => ({
  read: true,
  replayable: http === undefined,
  rate: undefined,
  cancels: false,
  ...opt(http),
});
const acts = (rate: ActionRate, cancels: boolean, http?: Http): ActionSpec => ({
  read: false,
  replayable: false,
  rate,
  cancels,
  ...opt(http),
});
const opt = (http: Http) => (http === undefined ? {} : { http });

/** Actions by payload kind. */
export const PAYLOAD_ACTIONS: { readonly [K in PayloadKind]: Readonly<Record<string, ActionSpec>> } = {
  "hmac-query": {
    order: acts("order", false),
    cancel: acts("cancel", true),
    cancel_all: acts("cancel", true),
    countdown: acts("keepalive", true),
    query_order: read(),
    open_orders: read(),
    position_risk: read(),
  },
  "hmac-clob-l2": {
    order: acts("order", false, { method: "POST", path: "/order" }),
    cancel: acts("cancel", true, { method: "DELETE", path: "/order" }),
    cancel_all: acts("cancel", true, { method: "DELETE", path: "/cancel-all" }),
    heartbeat: acts("keepalive", false, { method: "POST", path: "/v1/heartbeats" }),
    query_order: read({ method: "GET", path: "/data/order/{order_hash}" }),
    open_orders: read({ method: "GET", path: "/data/orders" }),
    api_keys: read({ method: "GET", path: "/auth/api-keys" }),
    balance: read({ method: "GET", path: "/balance-allowance" }),
  },
  "eip712-order": {
    order: acts("order", false),
  },
};

/** The spec of `action` for `kind`, or `undefined` when the kind cannot do it. */
export function actionSpec(kind: PayloadKind, action: string): ActionSpec | undefined {
  const table = PAYLOAD_ACTIONS[kind];
  return Object.hasOwn(table, action) ? table[action] : undefined;
}

const PLACEHOLDERS: Readonly<Record<string, RegExp>> = { "{order_hash}": ORDER_HASH_RE };

/**
 * True when `path` is exactly `template` (segment by segment; a placeholder
 * segment matches its own strict pattern). No decoding, no normalisation:
 * `/order;x`, `/order%00`, `/order/` and `/ORDER` are not `/order`.
 * @example pathMatches("/data/order/{order_hash}", `/data/order/0x${"ab".repeat(32)}`) // true
 */
export function pathMatches(template: string, path: string): boolean {
  if (!template.includes("{")) return path === template;
  const want = template.split("/");
  const got = path.split("/");
  if (want.length !== got.length) return false;
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    const g = got[i]!;
    const pattern = PLACEHOLDERS[w];
    if (pattern === undefined ? w !== g : !pattern.test(g)) return false;
  }
  return true;
}
