import { createHmac, randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SecretBytes } from "../core/auth/secretBytes.js";
import type { SignOutcome, SignRequest } from "../ports/signingPlane.js";
import { openAuditLog } from "./audit/auditLog.js";
import type { AuditRecord } from "./audit/auditRecord.js";
import { verifyAuditFile } from "./audit/verifyAudit.js";
import { type KeyStore, KeyStoreError, type RevealedKey } from "./keyStore.js";
import { defaultPayloadHandlers } from "./payloads/registry.js";
import { PolicyLedger } from "./policy/policyLedger.js";
import { windowRestorer } from "./policy/restoreWindows.js";
import { parseSignerConfig, type SignerConfig } from "./signerConfig.js";
import { SignerEngine } from "./signerEngine.js";

const TRADE = "trade-secret-of-acct";
const READ_ONLY = "read-only-secret-of-acct";
const KEY = randomBytes(32);
const T0 = Date.UTC(2026, 5, 1, 12, 0, 0);

class MemoryKeyStore implements KeyStore {
  constructor(private readonly entries: Record<string, string>) {}
  async reveal(entryId: string): Promise<RevealedKey> {
    const e = this.entries[entryId];
    if (e === undefined) throw new KeyStoreError("not_found", `no entry ${entryId}`);
    return { kind: "hmac", secret: new SecretBytes(Buffer.from(e, "utf8")) };
  }
}

const CONFIG = parseSignerConfig({
  vault: { path: "v", passphrase_env: "P" },
  audit: { path: "a", key_env: "K" },
  callers: { exec: { token_env: "T", accounts: ["with-ro", "no-ro"], intents: ["cex_api_signer"] } },
  intents: {
    cex_api_signer: {
      routes: {
        order: "order",
        lookup: "query_order",
        readiness: { action: "position_risk", probe: true },
      },
    },
  },
  accounts: {
    "with-ro": { cex_api_signer: { entry: "trade", read_only_entry: "ro" } },
    "no-ro": { cex_api_signer: "trade" },
  },
  reference_prices: { prices: { "binance-usdm": { BTCUSDT: "65000" } } },
  policy: {
    cex_api_signer: {
      cancel_rate_per_account_per_s: 2,
      windows: [
        { window: "1m", max_orders: 3 },
        { window: "1h", max_notional: "3000" },
      ],
    },
  },
});

let seq = 0;
const order = (account: string, now: number, qty = "0.01"): SignRequest => ({
  request_id: `o-${++seq}`,
  account,
  intent: "cex_api_signer",
  route: "order",
  target: { venue: "binance-usdm", action: "order", symbol: "BTCUSDT", side: "BUY", type: "MARKET", qty },
  guard_context: { plan_id: `plan-${seq}` },
  payload: {
    kind: "hmac-query",
    query: `symbol=BTCUSDT&side=BUY&type=MARKET&quantity=${qty}&timestamp=${now}`,
  },
});
const lookup = (account: string, now: number): SignRequest => ({
  request_id: `q-${++seq}`,
  account,
  intent: "cex_api_signer",
  route: "lookup",
  target: { venue: "binance-usdm", action: "query_order", symbol: "BTCUSDT", client_order_id: "ig-1" },
  guard_context: { purpose: "reconcile" },
  payload: { kind: "hmac-query", query: `symbol=BTCUSDT&origClientOrderId=ig-1&timestamp=${now}` },
});
const probe = (account: string, now: number): SignRequest => ({
  request_id: `p-${++seq}`,
  account,
  intent: "cex_api_signer",
  route: "readiness",
  target: { venue: "binance-usdm", action: "position_risk" },
  guard_context: { purpose: "readiness" },
  payload: { kind: "hmac-query", query: `timestamp=${now}` },
});
const reason = (o: SignOutcome) => (o.granted ? "granted" : o.reason);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "ig-engine-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function engine(auditPath: string, clock: () => number, config: SignerConfig = CONFIG) {
  const ledger = new PolicyLedger();
  const audit = await openAuditLog(auditPath, {
    key: KEY,
    sync: "group",
    onRecord: windowRestorer(config, ledger, clock()),
  });
  return new SignerEngine({
    config,
    keyStore: new MemoryKeyStore({ trade: TRADE, ro: READ_ONLY }),
    handlers: defaultPayloadHandlers(),
    audit,
    clock,
    ledger,
    ecdsaWorkers: 0,
  });
}

async function lines(path: string): Promise<AuditRecord[]> {
  return (await readFile(path, "utf8"))
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as AuditRecord);
}

describe("signer engine: reads that can act (§3a)", () => {
  it("signs a replayable read with the read-only key where configured, audited as such", async () => {
    const path = join(dir, "ro.jsonl");
    const e = await engine(path, () => T0);
    const req = lookup("with-ro", T0);
    const out = await e.sign("exec", req);
    await e.close();
    const query = (req.payload as { query: string }).query;
    expect(out).toMatchObject({
      granted: true,
      signature: createHmac("sha256", READ_ONLY).update(query).digest("hex"),
    });
    expect((await lines(path))[0]).toMatchObject({
      key: "read_only",
      cancel_capable: false,
      action: "query_order",
    });
  });

  it("without one, the read is signed with the trade key, counted against the cancel rate and audited cancel-capable", async () => {
    const path = join(dir, "cancel.jsonl");
    const e = await engine(path, () => T0);
    const outs = [];
    for (let i = 0; i < 3; i++) outs.push(reason(await e.sign("exec", lookup("no-ro", T0))));
    await e.close();
    expect(outs).toEqual(["granted", "granted", "policy:cancel_rate"]);
    expect((await lines(path)).map((l) => [l.key, l.cancel_capable, l.reason])).toEqual([
      ["trade", true, "ok"],
      ["trade", true, "ok"],
      [null, false, "policy:cancel_rate"],
    ]);
  });
});

describe("signer engine: readiness probes are audited once per change of outcome (§6)", () => {
  it("writes the first probe, then only when its outcome changes; a cancel-capable probe every time", async () => {
    const path = join(dir, "probe.jsonl");
    let now = T0;
    const e = await engine(path, () => now);
    const outs: string[] = [];
    for (let i = 0; i < 50; i++) outs.push(reason(await e.sign("exec", probe("with-ro", now))));
    outs.push(reason(await e.sign("exec", probe("with-ro", now + 3_600_000)))); // stale: a change
    outs.push(reason(await e.sign("exec", probe("with-ro", now + 3_600_000)))); // the same again
    now += 1000;
    outs.push(reason(await e.sign("exec", probe("with-ro", now)))); // back to granted: a change
    for (let i = 0; i < 2; i++) outs.push(reason(await e.sign("exec", probe("no-ro", now)))); // cancel-capable
    await e.close();
    expect(outs.filter((o) => o === "granted")).toHaveLength(53);
    expect((await lines(path)).map((l) => [l.account, l.reason])).toEqual([
      ["with-ro", "ok"],
      ["with-ro", "policy:stale_timestamp"],
      ["with-ro", "ok"],
      ["no-ro", "ok"],
      ["no-ro", "ok"],
    ]);
    expect(await verifyAuditFile(path, KEY)).toEqual({ ok: true, lines: 5 });
  });
});

describe("signer engine: rolling windows, durable and kept across restarts (§3a)", () => {
  it("window_orders and window_notional per account; the count survives a restart (rebuilt from the audit log)", async () => {
    const path = join(dir, "windows.jsonl");
    let now = T0;
    let e = await engine(path, () => now);
    const outs: string[] = [];
    // 0.01 BTC at the signer's 65000: 650 each. Three fit the 1 m window's max_orders.
    for (let i = 0; i < 3; i++) outs.push(reason(await e.sign("exec", order("no-ro", now))));
    outs.push(reason(await e.sign("exec", order("no-ro", now))));
    await e.close();
    // A restart, 2 s later: the 1 m window still holds three orders.
    now += 2000;
    e = await engine(path, () => now);
    outs.push(reason(await e.sign("exec", order("no-ro", now))));
    // Another account's windows are its own.
    outs.push(reason(await e.sign("exec", order("with-ro", now))));
    // Past the 1 m window (and its slice), the order count has room; the 1 h notional (1950 of 3000) too, once.
    now += 62_000;
    outs.push(reason(await e.sign("exec", order("no-ro", now))));
    outs.push(reason(await e.sign("exec", order("no-ro", now, "0.02"))));
    await e.close();
    expect(outs).toEqual([
      "granted",
      "granted",
      "granted",
      "policy:window_orders",
      "policy:window_orders",
      "granted",
      "granted",
      "policy:window_notional",
    ]);
    const ls = await lines(path);
    expect(ls.filter((l) => l.decision === "granted").every((l) => l.notional !== null)).toBe(true);
    expect(ls[0]).toMatchObject({ notional: "650", reference_price: "65000", target: { qty: "0.01" } });
  });
});
