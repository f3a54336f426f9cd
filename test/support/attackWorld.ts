/**
 * The world the issue-9 attack tests (`test/security/*.test.ts`) run in: a
 * vault with a Binance trade key, its read-only key, a second account's key
 * and a Polymarket account, the signer config every attack runs against
 * (signing-plane-v1 rev 2: routes bound to actions, scoped callers, keyed
 * audit, the signer's own prices, small exhaustion limits), and builders of
 * the requests the attacker sends.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { SecretBytes } from "../../src/core/auth/secretBytes.js";
import type { SigningPlane, SignOutcome, SignRequest } from "../../src/ports/signingPlane.js";
import { createRemotePlane } from "../../src/signer/remote/remotePlaneClient.js";
import { Vault } from "../../src/signer/vault/vault.js";
import { type SignerProcess, startSigner } from "./signerProcess.js";

export const ROOT = resolve(import.meta.dirname, "../..");
export const R = {
  order: "executor.binance-usdm.order",
  query: "executor.binance-usdm.query_order",
  readiness: "executor.binance-usdm.readiness",
  l2Order: "executor.polymarket.l2.order",
  l2Read: "executor.polymarket.l2.open_orders",
  pmOrder: "executor.polymarket.order",
};
export const TOKEN_A = randomBytes(32).toString("base64url");
export const TOKEN_B = randomBytes(32).toString("base64url");
export const PASS = randomBytes(16).toString("hex");
export const BN_SECRET = `bn-${randomBytes(16).toString("hex")}`;
export const BN_RO_SECRET = `bn-ro-${randomBytes(16).toString("hex")}`;
export const BN2_SECRET = `bn2-${randomBytes(16).toString("hex")}`;
export const AUDIT_KEY = randomBytes(32).toString("base64url");
export const L2_SECRET = randomBytes(32).toString("base64url");
export const EOA_KEY = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";
export const EOA = "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23";
export const TOKEN_ID = "71321045679252212594626385532706912750332728571942532289631379312455583992563";
export const EXCHANGE_V2 = "0xE111180000d2663C0091e4f400237545B87B996B";

export const ENV = { IG_PASS: PASS, IG_TOKEN_A: TOKEN_A, IG_TOKEN_B: TOKEN_B, IG_AUDIT_KEY: AUDIT_KEY };

/** The signer config every attack runs against, over the vault at `vaultPath`. */
export function attackConfig(vaultPath: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    live: true,
    vault: { path: vaultPath, passphrase_env: "IG_PASS" },
    audit: { path: "audit.jsonl", key_env: "IG_AUDIT_KEY" },
    socket: {
      path: "signer.sock",
      max_connections: 6,
      idle_timeout_ms: 1500,
      frame_timeout_ms: 500,
      max_unread_bytes: 65_536,
      unread_timeout_ms: 1000,
    },
    callers: {
      "exec-a": {
        token_env: "IG_TOKEN_A",
        accounts: ["acct-1", "acct-2", "acct-pm"],
        intents: ["cex_api_signer", "clob_api_signer", "per_user_clob_signer"],
      },
      "exec-b": { token_env: "IG_TOKEN_B", accounts: ["acct-2"], intents: ["cex_api_signer"] },
    },
    intents: {
      cex_api_signer: {
        routes: {
          [R.order]: "order",
          [R.query]: "query_order",
          [R.readiness]: { action: "position_risk", probe: true },
        },
      },
      clob_api_signer: { routes: { [R.l2Order]: "order", [R.l2Read]: "open_orders" } },
      per_user_clob_signer: { routes: { [R.pmOrder]: "order" } },
    },
    accounts: {
      "acct-1": { cex_api_signer: { entry: "bn", read_only_entry: "bn-ro" } },
      "acct-2": { cex_api_signer: "bn2" },
      "acct-pm": { clob_api_signer: "l2", per_user_clob_signer: "eoa" },
    },
    // The signer's own reference for BTCUSDT; none for ETHUSDT (nor for the Polymarket token: a share's cap, 1).
    reference_prices: { prices: { "binance-usdm": { BTCUSDT: "65000" } } },
    policy: {
      cex_api_signer: { max_notional: "50000", rate_per_account_per_s: 10, cancel_rate_per_account_per_s: 2 },
      clob_api_signer: { max_notional: "1000" },
      per_user_clob_signer: { max_notional: "1000" },
    },
    ...over,
  };
}

let seq = 0;
/** A fresh request id suffix. */
export const nextSeq = (): number => ++seq;
export const GUARD = {
  plan_id: "plan-attack",
  decision: "EXECUTE",
  trading_state: "ACTIVE",
  mode: "live",
  source: "s",
};

export function binanceOrder(o: {
  symbol?: string;
  side?: "BUY" | "SELL";
  type?: "MARKET" | "LIMIT";
  qty?: string;
  price?: string;
  ts?: number;
  recvWindow?: number;
  referencePrice?: string;
  account?: string;
  clientOrderId?: string;
}): SignRequest {
  const type = o.type ?? "LIMIT";
  const symbol = o.symbol ?? "BTCUSDT";
  const pairs: [string, string][] = [
    ["symbol", symbol],
    ["side", o.side ?? "BUY"],
    ["type", type],
    ["quantity", o.qty ?? "0.01"],
  ];
  if (type === "LIMIT") pairs.push(["price", o.price ?? "30000"], ["timeInForce", "GTC"]);
  if (o.clientOrderId !== undefined) pairs.push(["newClientOrderId", o.clientOrderId]);
  pairs.push(["recvWindow", String(o.recvWindow ?? 5000)], ["timestamp", String(o.ts ?? Date.now())]);
  const target: Record<string, unknown> = {
    venue: "binance-usdm",
    action: "order",
    symbol,
    side: o.side ?? "BUY",
    type,
    qty: o.qty ?? "0.01",
  };
  if (type === "LIMIT") target.price = o.price ?? "30000";
  if (o.referencePrice !== undefined) target.reference_price = o.referencePrice;
  if (o.clientOrderId !== undefined) target.client_order_id = o.clientOrderId;
  return {
    request_id: `atk-${++seq}`,
    account: o.account ?? "acct-1",
    intent: "cex_api_signer",
    route: R.order,
    target,
    guard_context: GUARD,
    payload: { kind: "hmac-query", query: pairs.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join("&") },
  };
}

export function queryOrder(clientOrderId: string, account = "acct-1"): SignRequest {
  const query = `symbol=BTCUSDT&origClientOrderId=${clientOrderId}&recvWindow=5000&timestamp=${Date.now()}`;
  return {
    request_id: `atk-${++seq}`,
    account,
    intent: "cex_api_signer",
    route: R.query,
    target: {
      venue: "binance-usdm",
      action: "query_order",
      symbol: "BTCUSDT",
      client_order_id: clientOrderId,
    },
    guard_context: { purpose: "reconcile", mode: "live" },
    payload: { kind: "hmac-query", query },
  };
}

export function l2(o: {
  route: string;
  action: string;
  method: string;
  path: string;
  body?: string;
  ts?: number;
  target?: Record<string, unknown>;
}): SignRequest {
  return {
    request_id: `atk-${++seq}`,
    account: "acct-pm",
    intent: "clob_api_signer",
    route: o.route,
    target: { venue: "polymarket", action: o.action, method: o.method, path: o.path, ...o.target },
    guard_context: GUARD,
    payload: {
      kind: "hmac-clob-l2",
      timestamp: String(o.ts ?? Math.floor(Date.now() / 1000)),
      method: o.method,
      path: o.path,
      body: o.body ?? "",
    },
  };
}

/** SELL 1e6 shares at 0.001: makerAmount = shares, takerAmount = USDC (6 decimals each). */
export const HUGE_SELL = {
  qty: "1000000",
  price: "0.001",
  makerAmount: "1000000000000",
  takerAmount: "1000000000",
};

export function pmSellL2(): SignRequest {
  const body = JSON.stringify({
    order: {
      salt: "1",
      maker: EOA,
      signer: EOA,
      tokenId: TOKEN_ID,
      makerAmount: HUGE_SELL.makerAmount,
      takerAmount: HUGE_SELL.takerAmount,
      side: "SELL",
      signatureType: 0,
      signature: "0x00",
    },
    owner: "owner",
    orderType: "GTC",
  });
  return l2({
    route: R.l2Order,
    action: "order",
    method: "POST",
    path: "/order",
    body,
    target: { token_id: TOKEN_ID, side: "SELL", qty: HUGE_SELL.qty, price: HUGE_SELL.price },
  });
}

export function pmSellEip712(): SignRequest {
  const zero = `0x${"0".repeat(64)}`;
  return {
    request_id: `atk-${++seq}`,
    account: "acct-pm",
    intent: "per_user_clob_signer",
    route: R.pmOrder,
    target: {
      venue: "polymarket",
      action: "order",
      token_id: TOKEN_ID,
      side: "SELL",
      qty: HUGE_SELL.qty,
      price: HUGE_SELL.price,
    },
    guard_context: GUARD,
    payload: {
      kind: "eip712-order",
      domain: {
        name: "Polymarket CTF Exchange",
        version: "2",
        chainId: "137",
        verifyingContract: EXCHANGE_V2,
      },
      order: {
        salt: "77",
        maker: EOA,
        signer: EOA,
        tokenId: TOKEN_ID,
        makerAmount: HUGE_SELL.makerAmount,
        takerAmount: HUGE_SELL.takerAmount,
        side: "1",
        signatureType: "0",
        timestamp: String(Date.now()),
        metadata: zero,
        builder: zero,
      },
    },
  };
}

export function remote(signer: { socket: string }, caller = "exec-a", token = TOKEN_A): SigningPlane {
  return createRemotePlane({
    socketPath: signer.socket,
    caller,
    token: new SecretBytes(Buffer.from(token, "utf8")),
    timeoutMs: 5000,
  });
}

export const reasonOf = (o: SignOutcome): string => (o.granted ? "granted" : o.reason);

export async function within<T>(ms: number, p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, rej) => {
    timer = setTimeout(() => rej(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, t]);
  } finally {
    clearTimeout(timer);
  }
}

/** A signer process in its own folder (own audit log and socket). */
export interface AttackSigner {
  readonly p: SignerProcess;
  readonly dir: string;
  readonly socket: string;
  readonly audit: string;
}

/** The vault every attack test file provisions once, and signers over it. */
export interface AttackWorld {
  readonly dir: string;
  readonly vaultPath: string;
  /** The attack config over this world's vault. */
  config(over?: Record<string, unknown>): Record<string, unknown>;
  /** Starts a signer in its own folder under `dir`. */
  signerIn(name: string, cfg?: Record<string, unknown>): Promise<AttackSigner>;
  close(): void;
}

/** Provisions the vault (fast scrypt) in a fresh temp folder. */
export async function openAttackWorld(): Promise<AttackWorld> {
  const dir = mkdtempSync(join(tmpdir(), "ig-attacks-"));
  const vaultPath = join(dir, "vault.json");
  const vault = await Vault.init(vaultPath, PASS, { scrypt: { N: 1024 } });
  await vault.add("bn", "hmac", Buffer.from(BN_SECRET));
  await vault.add("l2", "hmac", Buffer.from(L2_SECRET));
  await vault.add("eoa", "secp256k1", Buffer.from(EOA_KEY, "hex"));
  await vault.add("bn-ro", "hmac", Buffer.from(BN_RO_SECRET));
  await vault.add("bn2", "hmac", Buffer.from(BN2_SECRET));
  vault.close();
  const config = (over: Record<string, unknown> = {}) => attackConfig(vaultPath, over);
  return {
    dir,
    vaultPath,
    config,
    async signerIn(name, cfg = config()) {
      const d = mkdtempSync(join(dir, `${name}-`));
      const p = await startSigner({ dir: d, config: cfg, env: ENV });
      return { p, dir: d, socket: join(d, "signer.sock"), audit: join(d, "audit.jsonl") };
    },
    close() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
