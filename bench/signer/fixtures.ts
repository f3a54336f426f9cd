import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  CTF_EXCHANGE_DOMAIN_NAME,
  CTF_ORDER_VERSIONS,
  type OrderVersion,
  POLYGON_CHAIN_ID,
} from "../../src/core/polymarket/ctfOrder.js";
import type { PayloadKind, SignRequest } from "../../src/ports/signingPlane.js";
import { Vault } from "../../src/signer/vault/vault.js";
import { evmAddress, generateSecp256k1Key, MIN_SCRYPT_N } from "../../src/signer/vault/vaultFile.js";

/**
 * The signer bench's throw-away world: a vault (fast scrypt) with one HMAC
 * secret and one secp256k1 key, caller token and passphrase in environment
 * variables, and signer config files naming them, one per run (each run has
 * its own audit file and socket: one writer per audit file).
 */

export const CALLER = "bench-executor";
export const ACCOUNT = "bench-acct";
export const PASS_ENV = "IG_BENCH_SIGNER_VAULT_PASS";
export const TOKEN_ENV = "IG_BENCH_SIGNER_TOKEN";
export const AUDIT_KEY_ENV = "IG_BENCH_SIGNER_AUDIT_KEY";
const HMAC_ENTRY = "bench-hmac";
const TOKEN_ID = "71321045679252212594626385532706912750332728571942532289631379312455583992563";
const EVM_ENTRY = "bench-evm";

export const ROUTES = {
  "hmac-query": "executor.binance-usdm.order",
  "hmac-clob-l2": "executor.polymarket.l2.order",
  "eip712-order": "executor.polymarket.order",
} as const satisfies Record<PayloadKind, string>;

export const KINDS: readonly PayloadKind[] = ["hmac-query", "hmac-clob-l2", "eip712-order"];

/** What {@link provision} made. The secrets stay in this process (and the env of the signer child). */
export interface BenchWorld {
  readonly dir: string;
  readonly vaultPath: string;
  /** Environment for a signer child: the vault passphrase, the caller token and the audit key. */
  readonly env: Record<string, string>;
  readonly passphrase: string;
  readonly token: Buffer;
  readonly auditKey: Buffer;
  /** The HMAC secret as stored: base64 text (the Polymarket L2 form; Binance keys its HMAC with the same bytes). */
  readonly hmacSecret: Buffer;
  readonly evmKey: Buffer;
  readonly evmAddress: string;
}

export async function provision(dir: string): Promise<BenchWorld> {
  const passphrase = randomBytes(16).toString("hex");
  const token = Buffer.from(randomBytes(32).toString("hex"), "utf8");
  const auditKey = Buffer.from(randomBytes(32).toString("base64url"), "utf8");
  const hmacSecret = Buffer.from(randomBytes(32).toString("base64"), "utf8");
  const evmKey = generateSecp256k1Key();
  const vaultPath = join(dir, "vault.json");
  const vault = await Vault.init(vaultPath, passphrase, { scrypt: { N: MIN_SCRYPT_N } });
  try {
    await vault.add(HMAC_ENTRY, "hmac", hmacSecret);
    await vault.add(EVM_ENTRY, "secp256k1", evmKey);
  } finally {
    vault.close();
  }
  return {
    dir,
    vaultPath,
    env: {
      [PASS_ENV]: passphrase,
      [TOKEN_ENV]: token.toString("utf8"),
      [AUDIT_KEY_ENV]: auditKey.toString("utf8"),
    },
    passphrase,
    token,
    auditKey,
    hmacSecret,
    evmKey,
    evmAddress: evmAddress(evmKey),
  };
}

/**
 * Writes one signer config (JSON) for a run and returns its path. Every
 * implemented intent is enabled with a generous policy that still runs every
 * check of signing-plane-v1 rev 2 on every request: a notional cap far above
 * the bench orders (so the signer's own reference price is looked up), a
 * rolling window (so each order is counted and its grant waits for a synced
 * audit line), routes bound to their action, a scoped caller, the keyed
 * audit. No symbol list, no per-second rate. `max_clock_skew_ms` is the
 * largest allowed (60 s), because a run's requests are built before it
 * starts: the clock is still checked on each.
 */
export async function writeSignerConfig(
  world: BenchWorld,
  run: {
    name: string;
    auditPath: string;
    socketPath?: string;
    /** Entry ids (vault ids, or key labels in a token) per intent; default: the vault's. */
    entries?: { cex: string; clob: string; order: string };
  },
): Promise<string> {
  const entries = run.entries ?? { cex: HMAC_ENTRY, clob: HMAC_ENTRY, order: EVM_ENTRY };
  const window = [{ window: "24h", max_notional: "1000000000000", max_orders: 100_000_000 }];
  const config = {
    live: false,
    vault: { path: world.vaultPath, passphrase_env: PASS_ENV },
    audit: { path: run.auditPath, key_env: AUDIT_KEY_ENV },
    ...(run.socketPath === undefined ? {} : { socket: { path: run.socketPath } }),
    callers: {
      [CALLER]: {
        token_env: TOKEN_ENV,
        accounts: [ACCOUNT],
        intents: ["cex_api_signer", "clob_api_signer", "per_user_clob_signer"],
      },
    },
    intents: {
      cex_api_signer: { routes: { [ROUTES["hmac-query"]]: "order" } },
      clob_api_signer: { routes: { [ROUTES["hmac-clob-l2"]]: "order" } },
      per_user_clob_signer: { routes: { [ROUTES["eip712-order"]]: "order" } },
    },
    clock: { max_clock_skew_ms: 60_000 },
    reference_prices: { prices: { "binance-usdm": { BTCUSDT: "65000" }, polymarket: { [TOKEN_ID]: "0.6" } } },
    accounts: {
      [ACCOUNT]: {
        cex_api_signer: entries.cex,
        clob_api_signer: entries.clob,
        per_user_clob_signer: entries.order,
      },
    },
    policy: {
      cex_api_signer: { max_notional: "100000000", windows: window },
      clob_api_signer: { max_notional: "100000000", windows: window },
      per_user_clob_signer: { max_notional: "100000000", windows: window },
    },
  };
  const path = join(world.dir, `signer-${run.name}.json`);
  await writeFile(path, JSON.stringify(config, null, 2), { mode: 0o600 });
  return path;
}

// ---------------------------------------------------------------------------
// Requests: every one distinct (its own id, timestamp / client order id / salt), all granted.

const ZERO32 = `0x${"00".repeat(32)}`;
const GUARD = { plan_id: "bench-plan", decision: "allow", trading_state: "ACTIVE" } as const;

/** The EIP-712 order domain and struct the handler signs (domain version "2", Polygon, standard exchange). */
export const ORDER_VERSION: OrderVersion = "2";
export function orderDomain(): { name: string; version: string; chainId: string; verifyingContract: string } {
  const spec = CTF_ORDER_VERSIONS[ORDER_VERSION];
  const exchange = spec?.exchanges[String(POLYGON_CHAIN_ID)]?.standard;
  if (exchange === undefined) throw new Error(`no domain row for version ${ORDER_VERSION} on chain 137`);
  return {
    name: CTF_EXCHANGE_DOMAIN_NAME,
    version: ORDER_VERSION,
    chainId: String(POLYGON_CHAIN_ID),
    verifyingContract: exchange,
  };
}

/** The `Order` struct members, in declaration order (from the handler's domain table). */
export function orderStruct(): ReadonlyArray<{ name: string; type: string }> {
  const spec = CTF_ORDER_VERSIONS[ORDER_VERSION];
  if (spec === undefined) throw new Error(`no domain row for version ${ORDER_VERSION}`);
  return spec.struct;
}

/** A V2 BUY of 10 shares at 0.57 (5.7 USDC), salt `i`, by `address` as maker and signer. */
export function orderValue(address: string, i: number): Record<string, string> {
  return {
    salt: String(1_000_000 + i),
    maker: address,
    signer: address,
    tokenId: TOKEN_ID,
    makerAmount: "5700000",
    takerAmount: "10000000",
    side: "0",
    signatureType: "0",
    timestamp: String(1_700_000_000_000 + i),
    metadata: ZERO32,
    builder: ZERO32,
  };
}

function l2OrderBody(address: string, i: number): string {
  return JSON.stringify({
    deferExec: false,
    postOnly: false,
    order: {
      salt: 1_000_000 + i,
      maker: address,
      signer: address,
      tokenId: TOKEN_ID,
      makerAmount: "5700000",
      takerAmount: "10000000",
      side: "BUY",
      signatureType: 0,
      timestamp: String(1_700_000_000_000 + i),
      expiration: "0",
      metadata: ZERO32,
      builder: ZERO32,
      signature: `0x${"11".repeat(65)}`,
    },
    owner: "bench-api-key",
    orderType: "GTC",
  });
}

const INTENT_OF = {
  "hmac-query": "cex_api_signer",
  "hmac-clob-l2": "clob_api_signer",
  "eip712-order": "per_user_clob_signer",
} as const satisfies Record<PayloadKind, string>;

/** Request `i` of `kind` (ids carry `tag` so runs never share one; HMAC payloads are stamped now). */
export function makeRequest(world: BenchWorld, kind: PayloadKind, tag: string, i: number): SignRequest {
  const now = Date.now();
  const base = {
    request_id: `${tag}-${kind}-${i}`,
    account: ACCOUNT,
    intent: INTENT_OF[kind],
    route: ROUTES[kind],
    guard_context: GUARD,
  };
  switch (kind) {
    case "hmac-query": {
      const cid = `ig-${tag}-${i}`;
      return {
        ...base,
        target: {
          venue: "binance-usdm",
          action: "order",
          symbol: "BTCUSDT",
          side: "BUY",
          type: "LIMIT",
          qty: "0.01",
          price: "65000.5",
          reduce_only: false,
          client_order_id: cid,
        },
        payload: {
          kind,
          query:
            "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=0.010&price=65000.50&timeInForce=GTC" +
            `&reduceOnly=false&newClientOrderId=${cid}&recvWindow=5000&timestamp=${now}`,
        },
      };
    }
    case "hmac-clob-l2":
      return {
        ...base,
        target: {
          venue: "polymarket",
          action: "order",
          token_id: TOKEN_ID,
          side: "BUY",
          qty: "10",
          price: "0.57",
        },
        payload: {
          kind,
          timestamp: String(Math.floor(now / 1000)),
          method: "POST",
          path: "/order",
          body: l2OrderBody(world.evmAddress, i),
        },
      };
    case "eip712-order":
      return {
        ...base,
        target: {
          venue: "polymarket",
          action: "order",
          token_id: TOKEN_ID,
          side: "BUY",
          qty: "10",
          price: "0.57",
        },
        payload: { kind, domain: orderDomain(), order: orderValue(world.evmAddress, i) },
      };
  }
}
