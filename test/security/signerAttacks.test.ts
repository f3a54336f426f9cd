/**
 * Issue 9, "Why": every observation of the attacker's review of the signing
 * plane, reproduced against a real `intentgate signer` process over its Unix
 * socket (and the Binance emulator for the replay). Each test is the attack;
 * it passes only when the attack fails.
 */
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SecretBytes } from "../../src/core/auth/secretBytes.js";
import { startBinanceEmulator } from "../../src/emulators/binance/binanceEmulator.js";
import type { SigningPlane, SignOutcome, SignRequest } from "../../src/ports/signingPlane.js";
import { createRemotePlane } from "../../src/signer/remote/remotePlaneClient.js";
import { Vault } from "../../src/signer/vault/vault.js";
import { newApiKey } from "../support/binanceHarness.js";
import { rawHello, rawSignerClient } from "../support/rawSignerClient.js";
import { spawnSigner, startSigner } from "../support/signerProcess.js";

const ROOT = resolve(import.meta.dirname, "../..");
const R = {
  order: "executor.binance-usdm.order",
  query: "executor.binance-usdm.query_order",
  readiness: "executor.binance-usdm.readiness",
  l2Order: "executor.polymarket.l2.order",
  l2Read: "executor.polymarket.l2.open_orders",
  pmOrder: "executor.polymarket.order",
};
const TOKEN_A = randomBytes(32).toString("base64url");
const TOKEN_B = randomBytes(32).toString("base64url");
const PASS = randomBytes(16).toString("hex");
const BN_SECRET = `bn-${randomBytes(16).toString("hex")}`;
const BN_RO_SECRET = `bn-ro-${randomBytes(16).toString("hex")}`;
const BN2_SECRET = `bn2-${randomBytes(16).toString("hex")}`;
const AUDIT_KEY = randomBytes(32).toString("base64url");
const L2_SECRET = randomBytes(32).toString("base64url");
const EOA_KEY = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";
const EOA = "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23";
const TOKEN_ID = "71321045679252212594626385532706912750332728571942532289631379312455583992563";
const EXCHANGE_V2 = "0xE111180000d2663C0091e4f400237545B87B996B";

const ENV = { IG_PASS: PASS, IG_TOKEN_A: TOKEN_A, IG_TOKEN_B: TOKEN_B, IG_AUDIT_KEY: AUDIT_KEY };

let dir: string;
let vaultPath: string;

/** The signer config every attack runs against (rev 2: routes bound to actions, scoped callers, keyed audit). */
function config(over: Record<string, unknown> = {}): Record<string, unknown> {
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
const GUARD = {
  plan_id: "plan-attack",
  decision: "EXECUTE",
  trading_state: "ACTIVE",
  mode: "live",
  source: "s",
};

function binanceOrder(o: {
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

function queryOrder(clientOrderId: string, account = "acct-1"): SignRequest {
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

function l2(o: {
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
const HUGE_SELL = { qty: "1000000", price: "0.001", makerAmount: "1000000000000", takerAmount: "1000000000" };

function pmSellL2(): SignRequest {
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

function pmSellEip712(): SignRequest {
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

function remote(signer: { socket: string }, caller = "exec-a", token = TOKEN_A): SigningPlane {
  return createRemotePlane({
    socketPath: signer.socket,
    caller,
    token: new SecretBytes(Buffer.from(token, "utf8")),
    timeoutMs: 5000,
  });
}

const reasonOf = (o: SignOutcome): string => (o.granted ? "granted" : o.reason);

async function within<T>(ms: number, p: Promise<T>, what: string): Promise<T> {
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

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "ig-attacks-"));
  vaultPath = join(dir, "vault.json");
  const vault = await Vault.init(vaultPath, PASS, { scrypt: { N: 1024 } });
  await vault.add("bn", "hmac", Buffer.from(BN_SECRET));
  await vault.add("l2", "hmac", Buffer.from(L2_SECRET));
  await vault.add("eoa", "secp256k1", Buffer.from(EOA_KEY, "hex"));
  await vault.add("bn-ro", "hmac", Buffer.from(BN_RO_SECRET));
  await vault.add("bn2", "hmac", Buffer.from(BN2_SECRET));
  vault.close();
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A signer in its own folder (own audit and socket), on the shared vault. */
async function signerIn(name: string, cfg: Record<string, unknown> = config()) {
  const d = mkdtempSync(join(dir, `${name}-`));
  const p = await startSigner({ dir: d, config: cfg, env: ENV });
  return { p, dir: d, socket: join(d, "signer.sock"), audit: join(d, "audit.jsonl") };
}

describe("limits that trust the caller", () => {
  let s: Awaited<ReturnType<typeof signerIn>>;
  let plane: SigningPlane;
  beforeAll(async () => {
    s = await signerIn("price");
    plane = remote(s);
  });
  afterAll(async () => {
    await plane.close();
    await s.p.stop();
  });

  it("a 100 BTC MARKET order claiming a reference price of 0.01 is not granted", async () => {
    const out = await plane.sign(
      "exec-a",
      binanceOrder({ type: "MARKET", qty: "100", referencePrice: "0.01" }),
    );
    expect(reasonOf(out)).toBe("policy:max_notional");
  });

  it("a LIMIT SELL of 100 BTC at 0.01 with no reference is not granted", async () => {
    // The caller gives no reference; the signer has its own (65000): 100 × 65000, not 100 × 0.01.
    const out = await plane.sign("exec-a", binanceOrder({ side: "SELL", qty: "100", price: "0.01" }));
    expect(reasonOf(out)).toBe("policy:max_notional");
    // For a symbol the signer has no reference for, a notional limit cannot be evaluated: refused.
    const eth = await plane.sign(
      "exec-a",
      binanceOrder({ symbol: "ETHUSDT", side: "SELL", qty: "100", price: "0.01" }),
    );
    expect(reasonOf(eth)).toBe("policy:no_reference_price");
  });

  it("the caller's claimed reference price is audited, never used", async () => {
    const out = await plane.sign(
      "exec-a",
      binanceOrder({ type: "MARKET", qty: "0.5", referencePrice: "0.01" }),
    );
    expect(reasonOf(out)).toBe("granted"); // 0.5 × the signer's 65000 = 32500 ≤ 50000
    const last = JSON.parse(readFileSync(s.audit, "utf8").trim().split("\n").at(-1)!);
    expect(last).toMatchObject({
      decision: "granted",
      notional: "32500",
      reference_price: "65000",
      target: { reference_price: "0.01", qty: "0.5" },
    });
  });

  it("a Polymarket SELL of 1e6 shares at 0.001 is not granted (L2 order and EIP-712 order)", async () => {
    expect(reasonOf(await plane.sign("exec-a", pmSellL2()))).toBe("policy:max_notional");
    expect(reasonOf(await plane.sign("exec-a", pmSellEip712()))).toBe("policy:max_notional");
  });
});

describe("no clock", () => {
  let s: Awaited<ReturnType<typeof signerIn>>;
  let plane: SigningPlane;
  beforeAll(async () => {
    s = await signerIn("clock");
    plane = remote(s);
  });
  afterAll(async () => {
    await plane.close();
    await s.p.stop();
  });

  it.each([
    ["one hour ahead", 3_600_000],
    ["30 days ahead", 30 * 86_400_000],
    ["10 years ahead", 3650 * 86_400_000],
  ])("a Binance order stamped %s is not signed", async (_label, ahead) => {
    const out = await plane.sign("exec-a", binanceOrder({ ts: Date.now() + ahead }));
    expect(reasonOf(out)).toBe("policy:stale_timestamp");
  });

  it("a Binance order stamped timestamp=1 is not signed", async () => {
    expect(reasonOf(await plane.sign("exec-a", binanceOrder({ ts: 1 })))).toBe("policy:stale_timestamp");
  });

  it("40 orders stamped one hour ahead are not signed within the rate (none is)", async () => {
    const outs: SignOutcome[] = [];
    for (let i = 0; i < 40; i++)
      outs.push(await plane.sign("exec-a", binanceOrder({ ts: Date.now() + 3_600_000 })));
    expect(outs.filter((o) => o.granted)).toHaveLength(0);
  });

  it("a recvWindow above the signer's maximum is not signed", async () => {
    expect(reasonOf(await plane.sign("exec-a", binanceOrder({ recvWindow: 60_000 })))).toBe(
      "policy:recv_window",
    );
  });

  it("an L2 request dated 2100 is not signed; DELETE /cancel-all is no route's action", async () => {
    const y2100 = Date.UTC(2100, 0, 1) / 1000;
    const read = l2({
      route: R.l2Read,
      action: "open_orders",
      method: "GET",
      path: "/data/orders",
      ts: y2100,
    });
    expect(reasonOf(await plane.sign("exec-a", read))).toBe("policy:stale_timestamp");
    const cancelAll = l2({
      route: R.l2Read,
      action: "open_orders",
      method: "DELETE",
      path: "/cancel-all",
      ts: y2100,
    });
    expect(reasonOf(await plane.sign("exec-a", cancelAll))).toMatch(/^payload_mismatch:(method|path)$/);
  });
});

describe("a read that acts", () => {
  it("POST /order;x and POST /order%00 are not granted as non-orders", async () => {
    const s = await signerIn("paths");
    const plane = remote(s);
    try {
      for (const path of ["/order;x", "/order%00"]) {
        const req = l2({ route: R.l2Order, action: "order", method: "POST", path, body: "{}" });
        expect(reasonOf(await plane.sign("exec-a", req))).toBe("payload_mismatch:path");
      }
    } finally {
      await plane.close();
      await s.p.stop();
    }
  });

  /** Places a resting LIMIT BUY through the signer and the emulator; returns its client order id. */
  async function placeResting(
    plane: SigningPlane,
    emuUrl: string,
    apiKey: string,
    account: string,
    coid: string,
  ) {
    const req = binanceOrder({ account, qty: "0.01", price: "30000", clientOrderId: coid });
    const sig = await plane.sign("exec-a", req);
    if (!sig.granted) throw new Error(`order denied: ${sig.reason}`);
    const post = await fetch(`${emuUrl}/fapi/v1/order`, {
      method: "POST",
      headers: { "X-MBX-APIKEY": apiKey, "content-type": "application/x-www-form-urlencoded" },
      body: `${(req.payload as { query: string }).query}&signature=${sig.signature}`,
    });
    expect(post.status).toBe(200);
  }

  /** The replay: a read's parameters and signature, sent as a DELETE with `apiKey`. */
  function replayAsDelete(emuUrl: string, apiKey: string, read: SignRequest, signature: string) {
    return fetch(
      `${emuUrl}/fapi/v1/order?${(read.payload as { query: string }).query}&signature=${signature}`,
      {
        method: "DELETE",
        headers: { "X-MBX-APIKEY": apiKey },
      },
    );
  }

  it("a query_order signature replayed as DELETE /fapi/v1/order no longer cancels: it is signed with the read-only key", async () => {
    const apiKey = newApiKey();
    const readKey = newApiKey();
    const emu = await startBinanceEmulator({
      accounts: [
        { name: "acct-1", apiKey, secret: BN_SECRET },
        // The account's read-only API key ("Enable Reading" only), whose secret is the signer's read_only_entry.
        { name: "acct-1", apiKey: readKey, secret: BN_RO_SECRET, readOnly: true },
      ],
    });
    const s = await signerIn("replay");
    const plane = remote(s);
    try {
      const coid = "ig-replay-1";
      await placeResting(plane, emu.url, apiKey, "acct-1", coid);
      expect(emu.state.orders({ clientOrderId: coid })[0]?.status).toBe("NEW");

      const read = queryOrder(coid, "acct-1");
      const sig = await plane.sign("exec-a", read);
      if (!sig.granted) throw new Error(`read denied: ${sig.reason}`);
      // It is a good read signature: the lookup works with the read-only key…
      const get = await fetch(
        `${emu.url}/fapi/v1/order?${(read.payload as { query: string }).query}&signature=${sig.signature}`,
        {
          headers: { "X-MBX-APIKEY": readKey },
        },
      );
      expect(get.status).toBe(200);
      // …but replayed as a DELETE it cancels nothing: the read-only key may not trade, the trade key's secret differs.
      const withReadKey = await replayAsDelete(emu.url, readKey, read, sig.signature);
      expect([withReadKey.status, ((await withReadKey.json()) as { code: number }).code]).toEqual([
        401, -2015,
      ]);
      const withTradeKey = await replayAsDelete(emu.url, apiKey, read, sig.signature);
      expect(((await withTradeKey.json()) as { code: number }).code).toBe(-1022);
      expect(emu.state.orders({ clientOrderId: coid })[0]?.status).toBe("NEW");
    } finally {
      await plane.close();
      await s.p.stop();
      await emu.close();
    }
    const line = JSON.parse(readFileSync(s.audit, "utf8").trim().split("\n").at(-1)!);
    expect(line).toMatchObject({ action: "query_order", key: "read_only", cancel_capable: false });
  });

  it("without a read-only key, a read is still replayable, so it is counted against the cancel rate and audited cancel-capable", async () => {
    const apiKey = newApiKey();
    const emu = await startBinanceEmulator({ accounts: [{ name: "acct-2", apiKey, secret: BN2_SECRET }] });
    const s = await signerIn("replay-no-ro");
    const plane = remote(s);
    try {
      const outs: string[] = [];
      for (let i = 0; i < 3; i++)
        outs.push(reasonOf(await plane.sign("exec-a", queryOrder(`ig-q-${i}`, "acct-2"))));
      // cancel_rate_per_account_per_s: 2: reads beyond it are refused like cancels would be.
      expect(outs).toEqual(["granted", "granted", "policy:cancel_rate"]);
      // The residual risk, shown rather than hidden: such a signature does cancel when replayed.
      const coid = "ig-replay-2";
      await placeResting(plane, emu.url, apiKey, "acct-2", coid);
      await new Promise((r) => setTimeout(r, 1100)); // a fresh second for the cancel rate
      const read = queryOrder(coid, "acct-2");
      const sig = await plane.sign("exec-a", read);
      if (!sig.granted) throw new Error(`read denied: ${sig.reason}`);
      expect((await replayAsDelete(emu.url, apiKey, read, sig.signature)).status).toBe(200);
      expect(emu.state.orders({ clientOrderId: coid })[0]?.status).toBe("CANCELED");
    } finally {
      await plane.close();
      await s.p.stop();
      await emu.close();
    }
    const reads = readFileSync(s.audit, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l))
      .filter((l) => l.action === "query_order" && l.decision === "granted");
    expect(reads.length).toBe(3);
    for (const l of reads) expect(l).toMatchObject({ key: "trade", cancel_capable: true });
  });
});

describe("unscoped callers", () => {
  it("a caller signs only for the accounts and intents its config lists", async () => {
    const s = await signerIn("scope");
    const plane = remote(s, "exec-b", TOKEN_B);
    try {
      expect(reasonOf(await plane.sign("exec-b", binanceOrder({ account: "acct-1" })))).toBe(
        "caller_not_allowed",
      );
      expect(reasonOf(await plane.sign("exec-b", pmSellL2()))).toBe("caller_not_allowed");
      expect(reasonOf(await plane.sign("exec-b", binanceOrder({ account: "acct-2" })))).toBe("granted");
    } finally {
      await plane.close();
      await s.p.stop();
    }
  });

  it("a 5-character token is a config error: the signer does not start", async () => {
    const d = mkdtempSync(join(dir, "short-"));
    const p = await spawnSigner({ dir: d, config: config(), env: { ...ENV, IG_TOKEN_B: "abcde" } });
    expect(await within(30_000, p.exited, "signer exit")).toBe(78);
    expect(p.output()).toMatch(/callers\.exec-b.*32/);
  });
});

describe("an audit an editor can forge", () => {
  it("two signers on one audit file: the second refuses to start", async () => {
    const s = await signerIn("lock");
    try {
      const second = await spawnSigner({
        dir: s.dir,
        file: "second.json",
        config: config({ socket: { path: "second.sock" } }),
        env: ENV,
      });
      expect(await within(30_000, second.exited, "second signer exit")).not.toBe(0);
      expect(second.output()).toMatch(/audit.*(held|locked|another signer)/i);
    } finally {
      await s.p.stop();
    }
  });

  it("a line changed from granted to denied, later hashes recomputed: verify finds it, the signer will not restart on it", async () => {
    const s = await signerIn("forge");
    const plane = remote(s);
    try {
      for (let i = 0; i < 4; i++)
        expect(reasonOf(await plane.sign("exec-a", binanceOrder({})))).toBe("granted");
    } finally {
      await plane.close();
      await s.p.stop();
    }
    // The forger edits line 2 and re-chains every later line, as one could with an unkeyed hash chain.
    const lines = readFileSync(s.audit, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    let prev = lines[0].mac as string;
    for (let i = 1; i < lines.length; i++) {
      const { mac: _m, ...rest } = lines[i];
      if (i === 1) Object.assign(rest, { decision: "denied", reason: "policy:max_notional" });
      rest.prev_mac = prev;
      prev = createHash("sha256").update(JSON.stringify(rest)).digest("hex");
      lines[i] = { ...rest, mac: prev };
    }
    writeFileSync(s.audit, `${lines.map((l) => JSON.stringify(l)).join("\n")}\n`);
    const verify = await new Promise<{ code: number; stdout: string }>((done) =>
      execFile(
        process.execPath,
        [
          "--import",
          "tsx",
          join(ROOT, "src/apps/cli/main.ts"),
          "audit",
          "verify",
          s.audit,
          "--key-env",
          "IG_AUDIT_KEY",
        ],
        { cwd: ROOT, env: { PATH: process.env.PATH ?? "", IG_AUDIT_KEY: AUDIT_KEY } },
        (err, stdout) => done({ code: err ? Number(err.code) : 0, stdout }),
      ),
    );
    expect(verify).toEqual({ code: 1, stdout: "bad line 2: mac\n" });
    const again = await spawnSigner({ dir: s.dir, config: config(), env: ENV, file: "again.json" });
    expect(await within(30_000, again.exited, "signer exit")).toBe(65);
    expect(again.output()).toMatch(/line 2 does not verify \(mac\)/);
  });

  it.each([
    ["vault", 0o644],
    ["audit", 0o666],
    ["token", 0o644],
    ["key", 0o640],
  ])(
    "a %s file readable or writable by others (%o) refuses the start, naming it and the mode to set",
    async (which, mode) => {
      const d = mkdtempSync(join(dir, `perm-${which}-`));
      const v = join(d, "vault.json");
      writeFileSync(v, readFileSync(vaultPath));
      chmodSync(v, which === "vault" ? mode : 0o600);
      const files: Record<string, string> = {
        audit: join(d, "audit.jsonl"),
        token: join(d, "b.token"),
        key: join(d, "audit.key"),
      };
      writeFileSync(files.audit!, "");
      writeFileSync(files.token!, `${TOKEN_B}\n`);
      writeFileSync(files.key!, `${AUDIT_KEY}\n`);
      for (const [name, path] of Object.entries(files)) chmodSync(path, name === which ? mode : 0o600);
      const base = config();
      const cfg = config({
        vault: { path: v, passphrase_env: "IG_PASS" },
        audit: { path: "audit.jsonl", key_file: "audit.key" },
        callers: {
          ...(base.callers as Record<string, unknown>),
          "exec-b": { token_file: "b.token", accounts: ["acct-2"], intents: ["cex_api_signer"] },
        },
      });
      const p = await spawnSigner({ dir: d, config: cfg, env: ENV });
      expect(await within(30_000, p.exited, "signer exit")).toBe(78);
      const named = which === "vault" ? v : files[which]!;
      expect(p.output()).toContain(`${named} has mode 0${mode.toString(8)}`);
      expect(p.output()).toContain(`chmod 600 ${named}`);
    },
  );

  it("readiness probes are audited once per change of outcome, not every probe", async () => {
    const s = await signerIn("probes");
    const plane = remote(s);
    const probe = (ts: number): SignRequest => ({
      request_id: `probe-${++seq}`,
      account: "acct-1",
      intent: "cex_api_signer",
      route: R.readiness,
      target: { venue: "binance-usdm", action: "position_risk" },
      guard_context: { purpose: "readiness", mode: "live" },
      payload: { kind: "hmac-query", query: `recvWindow=5000&timestamp=${ts}` },
    });
    const outs: string[] = [];
    try {
      for (let i = 0; i < 40; i++) outs.push(reasonOf(await plane.sign("exec-a", probe(Date.now()))));
      outs.push(reasonOf(await plane.sign("exec-a", probe(Date.now() + 3_600_000))));
      for (let i = 0; i < 5; i++) outs.push(reasonOf(await plane.sign("exec-a", probe(Date.now()))));
    } finally {
      await plane.close();
      await s.p.stop();
    }
    expect(outs.filter((o) => o === "granted")).toHaveLength(45);
    const lines = readFileSync(s.audit, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.reason)).toEqual(["ok", "policy:stale_timestamp", "ok"]);
  });

  it("an audit line holds the target's and guard context's values", async () => {
    const s = await signerIn("values");
    const plane = remote(s);
    try {
      await plane.sign("exec-a", binanceOrder({ qty: "0.02", price: "31000", referencePrice: "30500" }));
    } finally {
      await plane.close();
      await s.p.stop();
    }
    const line = JSON.parse(readFileSync(s.audit, "utf8").trim().split("\n")[0]!) as Record<string, unknown>;
    expect(line.target).toMatchObject({
      symbol: "BTCUSDT",
      side: "BUY",
      qty: "0.02",
      price: "31000",
      reference_price: "30500",
    });
    expect(line.guard_context).toMatchObject({ plan_id: "plan-attack" });
  });
});

describe("exhaustion", () => {
  let s: Awaited<ReturnType<typeof signerIn>>;
  beforeAll(async () => {
    s = await signerIn("exhaust");
  });
  afterAll(async () => {
    await s.p.stop();
  });

  it("connections are capped: past the cap a new one is closed at once, unserved", async () => {
    const held = [];
    for (let i = 0; i < 6; i++) held.push(await rawSignerClient(s.socket));
    const extra = await rawSignerClient(s.socket);
    await within(10_000, extra.closed, "over-cap close");
    for (const c of held) c.socket.destroy();
  });

  it("an authenticated connection that sends nothing is closed after the idle timeout", async () => {
    const c = await rawHello(s.socket, "exec-a", TOKEN_A);
    expect(await c.next()).toEqual({ type: "welcome" });
    await within(20_000, c.closed, "idle close");
    await s.p.waitFor("signer connection closed: idle");
  });

  it("a partial frame after authentication does not keep the connection open", async () => {
    const c = await rawHello(s.socket, "exec-a", TOKEN_A);
    expect(await c.next()).toEqual({ type: "welcome" });
    c.sendRaw(Buffer.from([0, 0, 0, 100, 0x7b]));
    await within(20_000, c.closed, "partial frame close");
    await s.p.waitFor("a frame did not complete in time");
  });

  it("a field name is not echoed unbounded into the reason", async () => {
    const c = await rawHello(s.socket, "exec-a", TOKEN_A);
    expect(await c.next()).toEqual({ type: "welcome" });
    const req = binanceOrder({});
    c.send({
      type: "sign",
      id: 1,
      request: { ...req, payload: { ...req.payload, ["x".repeat(60_000)]: 1 } },
    });
    const reply = (await c.next()) as { outcome: { reason: string } };
    expect(reply.outcome.reason).toBe("payload_mismatch:payload");
    c.socket.destroy();
    const last = readFileSync(s.audit, "utf8").trim().split("\n").at(-1)!;
    expect(last.length).toBeLessThan(2000);
  });

  it("a caller that never reads its replies is paused, then closed", async () => {
    const c = await rawHello(s.socket, "exec-a", TOKEN_A);
    expect(await c.next()).toEqual({ type: "welcome" });
    c.socket.pause();
    const big = { ...queryOrder("ig-x"), request_id: "r".repeat(120) };
    let id = 0;
    const flood = setInterval(() => {
      for (let i = 0; i < 200; i++) c.send({ type: "sign", id: id++, request: big });
    }, 5);
    try {
      await within(60_000, c.closed, "unread replies close");
    } finally {
      clearInterval(flood);
    }
    await s.p.waitFor("the caller does not read its replies");
  });
});

describe("token to an impostor", () => {
  it("the client sends no token to a socket another user created", async () => {
    const d = mkdtempSync(join(dir, "impostor-"));
    const path = join(d, "signer.sock");
    const received: Buffer[] = [];
    const server = createServer((sock: Socket) => sock.on("data", (b: Buffer) => received.push(b)));
    await new Promise<void>((r) => server.listen(path, r));
    chmodSync(path, 0o666);
    chownSync(path, 4242, 4242);
    const logged: string[] = [];
    const log = (fields: Record<string, unknown>, msg: string) =>
      logged.push(`${msg} ${JSON.stringify(fields)}`);
    const plane = createRemotePlane({
      socketPath: path,
      caller: "exec-a",
      token: new SecretBytes(Buffer.from(TOKEN_A, "utf8")),
      timeoutMs: 5000,
      logger: { info: log, warn: log, error: log },
    });
    try {
      const out = await plane.sign("exec-a", binanceOrder({}));
      expect(reasonOf(out)).toBe("signer_unavailable");
      expect(Buffer.concat(received).toString("utf8")).not.toContain("hello");
      expect(Buffer.concat(received)).toHaveLength(0);
      // A clear log line, naming why (and never the token).
      expect(logged.join("\n")).toMatch(/signer socket refused, token not sent: .*owned by uid 4242/);
      expect(logged.join("\n")).not.toContain(TOKEN_A);
    } finally {
      await plane.close();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
