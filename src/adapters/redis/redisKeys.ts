import type { Lane } from "../../core/plan.js";

/**
 * Every Redis key IntentGate uses, under one prefix (wire-v1 §1 and
 * docs/architecture.md "Redis layout"). With Redis Cluster the prefix holds a
 * hash tag (`{intentgate}:`) so that all keys share one slot.
 */
export interface RedisKeys {
  readonly planMain: string;
  readonly planManual: string;
  readonly result: string;
  readonly dlq: string;
  readonly alert: string;
  readonly state: string;
  readonly stateLog: string;
  readonly planIds: string;
  readonly permits: string;
  readonly positions: string;
  /** Live orders being sent: `<lane>:<stream_id>` → send record JSON (entry still pending). */
  readonly sends: string;
  /** Open UNKNOWNs: `<lane>:<stream_id>` → send record JSON (entry acknowledged, awaiting reconciliation). */
  readonly unknowns: string;
  /** The deployment marker (wire-v1 §7b). */
  readonly deployment: string;
  /** Working orders (wire-v1 §4a): order key → `encodeWorkingOrder` text. */
  readonly orders: string;
  /** The order event stream (wire-v1 §4a): one field `event`, the event JSON. */
  readonly orderEvent: string;
  /** Notional placed per account and UTC day: `dailyKey` (JSON [account, day]) → canonical decimal text. */
  readonly daily: string;
  /**
   * How every account's books key begins (`<prefix>books:`): an account's
   * books are the hash `<prefix>books:<account>`, each of its positions,
   * working orders, send records and open UNKNOWNs under its exposure
   * snapshot id (lua/lib/books.lua).
   */
  readonly booksPrefix: string;
  /** Set once every account's books were built from the hashes they mirror (lua/buildBooks.lua). */
  readonly booksReady: string;
  /** Plan stream of a lane. */
  plan(lane: Lane): string;
  /** A named lease (`Ledger.holdLease`): its owner, expiring with the lease. */
  lease(name: string): string;
  /** Rate counter of one source in one one-second window (it expires `RATE_COUNTER_TTL_MS` after its last increment: ports/ledger.ts, lua/commit.lua). */
  rate(source: string, window: number): string;
  /** The duplicate-order mark of one `duplicateKeyOf` key (its JSON, at most a few hundred bytes): the ms it executed at, expiring with the window. */
  duplicate(key: string): string;
}

/** The keys under `prefix`. */
export function redisKeys(prefix: string): RedisKeys {
  const planMain = `${prefix}stream:apply.plan`;
  const planManual = `${prefix}stream:apply.plan.manual`;
  return {
    planMain,
    planManual,
    result: `${prefix}stream:apply.result`,
    dlq: `${prefix}stream:apply.dlq`,
    alert: `${prefix}stream:exit.alert`,
    state: `${prefix}state`,
    stateLog: `${prefix}state:log`,
    planIds: `${prefix}plan_ids`,
    permits: `${prefix}permits`,
    positions: `${prefix}positions`,
    sends: `${prefix}sends`,
    unknowns: `${prefix}unknowns`,
    deployment: `${prefix}deployment`,
    orders: `${prefix}orders`,
    orderEvent: `${prefix}stream:order.event`,
    daily: `${prefix}daily`,
    booksPrefix: `${prefix}books:`,
    booksReady: `${prefix}books.ready`,
    plan: (lane) => (lane === "main" ? planMain : planManual),
    rate: (source, window) => `${prefix}rate:${source}:${window}`,
    duplicate: (key) => `${prefix}dup:${key}`,
    lease: (name) => `${prefix}lease:${name}`,
  };
}
