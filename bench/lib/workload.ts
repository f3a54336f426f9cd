import { generateKeyPairSync, type KeyObject, randomBytes } from "node:crypto";
import type { SigningKey } from "../../src/sdk/keys.js";
import { signPlan } from "../../src/sdk/signPlan.js";

/** Environment variable the bench config names for the HMAC secret. */
export const HMAC_SECRET_ENV = "IG_BENCH_HMAC_SECRET";
export const HMAC_SOURCE = "exitbrain_v3_5";
export const ED25519_SOURCE = "intent_bridge";

/** Paper reference prices: every symbol a bench plan uses has one, so MARKET plans fill. */
const PRICES: Readonly<Record<string, string>> = {
  BTCUSDT: "65000",
  ETHUSDT: "3500",
  SOLUSDT: "150",
  BNBUSDT: "600",
  XRPUSDT: "0.6",
  DOGEUSDT: "0.15",
  ADAUSDT: "0.45",
  AVAXUSDT: "35",
};
const SYMBOLS = Object.keys(PRICES);
/** The accounts bench plans are spread over. */
export const ACCOUNTS = Array.from({ length: 8 }, (_, i) => `acct-${i}`);

/** The producer keys of one bench run (fresh each run; nothing is persisted). */
export interface BenchKeys {
  readonly hmacSecret: string;
  readonly hmac: SigningKey;
  readonly ed25519: SigningKey;
  /** Raw 32-byte public key as unpadded base64url (the config's form). */
  readonly ed25519Public: string;
}

export function makeKeys(): BenchKeys {
  const hmacSecret = randomBytes(32).toString("base64url");
  const pair = generateKeyPairSync("ed25519");
  const ed25519Public = pair.publicKey.export({ format: "jwk" }).x as string;
  return {
    hmacSecret,
    hmac: { keyId: "exitbrain-k1", alg: "hmac-sha256", secret: hmacSecret },
    ed25519: { keyId: "bridge-k1", alg: "ed25519", privateKey: pair.privateKey as KeyObject },
    ed25519Public,
  };
}

/**
 * An executor config (wire-v1 §8) with every gate running and every limit
 * from before issue 13 set (`max_qty`, `max_notional`, the rate,
 * `max_kelly_fraction`), high enough never to deny a bench plan. Issue 13's
 * duplicate window, account caps and exposure caps are off unless
 * `BENCH_DUP_WINDOW_MS`, `BENCH_ACCOUNT_CAPS` or `BENCH_EXPOSURE_CAPS` turns
 * them on, so the default figure compares with runs from before they
 * existed; the README gives the figures both ways.
 */
export function benchConfig(opts: {
  bus: string;
  prefix: string;
  keys: BenchKeys;
  logLevel?: string;
  /** More `limits` keys, over the ones below (`bench/limits.bench.ts` turns the optional limits on with it). */
  limits?: Record<string, unknown>;
}): Record<string, unknown> {
  const maxQty: Record<string, string> = {};
  for (const s of SYMBOLS) maxQty[s] = "1000";
  return {
    bus: opts.bus,
    prefix: opts.prefix,
    exit_owner: HMAC_SOURCE,
    require_auth: true,
    keys: {
      "exitbrain-k1": { alg: "hmac-sha256", secret_env: HMAC_SECRET_ENV, source: HMAC_SOURCE },
      "bridge-k1": { alg: "ed25519", public_key: opts.keys.ed25519Public, source: ED25519_SOURCE },
    },
    sources: {
      [HMAC_SOURCE]: { lanes: ["main"] },
      [ED25519_SOURCE]: { lanes: ["main"] },
    },
    limits: {
      max_qty: maxQty,
      max_notional: "100000000",
      rate_per_source_per_s: 10_000_000,
      max_kelly_fraction: 0.25,
      max_plan_age_ms: 600_000,
      max_clock_skew_ms: 5000,
      // BENCH_DUP_WINDOW_MS turns on the duplicate-order window (one more read per plan, one write per executed plan).
      ...(process.env.BENCH_DUP_WINDOW_MS
        ? { duplicate_window_ms: Number(process.env.BENCH_DUP_WINDOW_MS) }
        : {}),
      // BENCH_ACCOUNT_CAPS=1 turns on both account caps, far above what the run places (each costs reads and a write).
      ...(process.env.BENCH_ACCOUNT_CAPS === "1"
        ? { max_daily_notional: { "*": "1000000000000000" }, max_open_orders: { "*": 1_000_000 } }
        : {}),
      // BENCH_EXPOSURE_CAPS=1 turns on both exposure caps, never reached (a scan of the account's books and orders per batch and per commit).
      ...(process.env.BENCH_EXPOSURE_CAPS === "1"
        ? { max_position: { "*": "1000000000000" }, max_gross_notional: "1000000000000000" }
        : {}),
      ...opts.limits,
    },
    claim_idle_ms: 15_000,
    max_deliveries: 10,
    batch_size: 100,
    venues: { paper: { prices: { ...PRICES } } },
    live: false,
    log_level: opts.logLevel ?? "info",
  };
}

/** Deterministic pseudo-random stream (xorshift32), so runs are comparable. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

/** `plan` and `auth` field values of one signed plan entry. */
export type PlanFields = readonly [plan: string, auth: string];

/**
 * `n` signed, valid, unique plans from one source: varied symbols, sides,
 * accounts and quantities, all paper MARKET orders that pass every gate.
 */
export function signedPlans(opts: {
  n: number;
  tag: string;
  key: SigningKey;
  source: string;
  createdAt?: number;
  /** No two plans the same order (a unique qty each); default: `BENCH_UNIQUE_ORDERS=1`. */
  unique?: boolean;
}): PlanFields[] {
  const unique = opts.unique ?? Boolean(process.env.BENCH_UNIQUE_ORDERS);
  const next = rng(0x9e3779b9 ^ opts.n);
  const createdAt = opts.createdAt ?? Date.now();
  const out: PlanFields[] = new Array(opts.n);
  for (let i = 0; i < opts.n; i++) {
    const r = next();
    const plan = {
      v: 1,
      plan_id: `bench-${opts.tag}-${String(i).padStart(7, "0")}`,
      source: opts.source,
      venue: "paper",
      account: ACCOUNTS[r % ACCOUNTS.length],
      symbol: SYMBOLS[(r >>> 3) % SYMBOLS.length],
      side: (r >>> 7) & 1 ? "BUY" : "SELL",
      type: "MARKET",
      // BENCH_UNIQUE_ORDERS=1: no two plans the same order (for runs with BENCH_DUP_WINDOW_MS).
      qty: unique
        ? `0.${String(1 + i).padStart(7, "0")}`
        : `0.${String(1 + ((r >>> 8) % 999)).padStart(3, "0")}`,
      reduce_only: false,
      created_at: createdAt,
      meta: { kelly_fraction: 0.05, strategy: "bench" },
    };
    const signed = signPlan({ plan, key: opts.key });
    out[i] = [signed.plan, signed.auth];
  }
  return out;
}

/**
 * A result JSON of the size and shape the executor writes (wire-v1 §4), split
 * around its `stream_id` so the raw loop can splice each entry's id in.
 */
export function resultTemplate(tag: string): { head: string; tail: string } {
  const marker = "\u0000ID\u0000";
  const text = JSON.stringify({
    v: 1,
    plan_id: `bench-${tag}-0000000`,
    stream_id: marker,
    lane: "main",
    authenticated: true,
    source: HMAC_SOURCE,
    venue: "paper",
    symbol: "BTCUSDT",
    side: "BUY",
    qty: "0.123",
    reduce_only: false,
    executed: true,
    decision: "EXECUTED",
    error: null,
    mode: "paper",
    client_order_id: `ig-bench-${tag}-0000000`,
    order_id: "paper:main:1700000000000-0",
    fill_qty: "0.123",
    avg_price: "65000",
    timestamp: Date.now(),
  });
  const at = text.indexOf(JSON.stringify(marker));
  return { head: `${text.slice(0, at)}"`, tail: `"${text.slice(at + JSON.stringify(marker).length)}` };
}
