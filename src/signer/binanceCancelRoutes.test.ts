/**
 * Binance cancels, dead-man countdowns and open-orders reads through the
 * real signer engine (issue 11 point 5): each on its own route bound to one
 * action, held to that action, limited as docs/signing-plane.md says, and
 * signed so that the Binance emulator's signature check accepts exactly the
 * request the route is for (and, for a replayable read, what else it is).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  auditLines,
  HARNESS_AUDIT_KEY,
  openTestEngine,
  outcomeOf,
} from "../../test/support/signerEngineHarness.js";
import { SecretBytes } from "../core/auth/secretBytes.js";
import { verifySigned } from "../emulators/binance/emulatorAuth.js";
import type { SignOutcome, SignRequest } from "../ports/signingPlane.js";
import { verifyAuditFile } from "./audit/verifyAudit.js";
import { parseSignerConfig, type SignerConfig } from "./signerConfig.js";

const T0 = Date.UTC(2026, 11, 5, 12, 0, 0);
const TRADE_SECRET = "trade-secret-of-the-binance-account";
const RO_SECRET = "read-only-secret-of-the-binance-account";
const TRADE_API = "T".repeat(64);
const RO_API = "R".repeat(64);
/** The emulator's key table: the trade key, and the read-only key (refused on TRADE endpoints). */
const EMULATOR_KEYS = new Map([
  [TRADE_API, { account: "acct", secret: new SecretBytes(Buffer.from(TRADE_SECRET)) }],
  [RO_API, { account: "acct", secret: new SecretBytes(Buffer.from(RO_SECRET)), readOnly: true }],
]);
const SECRETS = { trade: TRADE_SECRET, ro: RO_SECRET };

const ROUTES = {
  "executor.binance-usdm.order": "order",
  "executor.binance-usdm.cancel": "cancel",
  "executor.binance-usdm.cancel_all": "cancel_all",
  "executor.binance-usdm.countdown": "countdown",
  "executor.binance-usdm.open_orders": "open_orders",
  "executor.binance-usdm.query_order": "query_order",
};
const config = (policy?: Record<string, unknown>, routes: Record<string, string> = ROUTES): SignerConfig =>
  parseSignerConfig({
    vault: { path: "v", passphrase_env: "P" },
    audit: { path: "a", key_env: "K" },
    callers: { exec: { token_env: "T", accounts: ["with-ro", "no-ro"], intents: ["cex_api_signer"] } },
    intents: { cex_api_signer: { routes } },
    accounts: {
      "with-ro": { cex_api_signer: { entry: "trade", read_only_entry: "ro" } },
      "no-ro": { cex_api_signer: "trade" },
    },
    reference_prices: { prices: { "binance-usdm": { BTCUSDT: "65000" } } },
    ...(policy === undefined ? {} : { policy: { cex_api_signer: policy } }),
  });
/** Every order limit set so tight that no BTCUSDT order passes: cancels must pass anyway. */
const TIGHT = config({
  max_notional: "1",
  symbols: ["ETHUSDT"],
  rate_per_account_per_s: 1,
  cancel_rate_per_account_per_s: 3,
  keepalive_rate_per_account_per_s: 2,
  max_countdown_ms: 120_000,
  windows: [{ window: "1m", max_orders: 1, max_notional: "1" }],
});

let seq = 0;
function request(o: {
  account?: string;
  action: string;
  route?: string;
  target?: Record<string, unknown>;
  query: string;
}): SignRequest {
  return {
    request_id: `r-${++seq}`,
    account: o.account ?? "no-ro",
    intent: "cex_api_signer",
    route: o.route ?? `executor.binance-usdm.${o.action}`,
    target: { venue: "binance-usdm", action: o.action, ...o.target },
    guard_context: { plan_id: `plan-${seq}`, source: "test" },
    payload: { kind: "hmac-query", query: o.query },
  };
}
const cancel = (now: number, account = "no-ro") =>
  request({
    account,
    action: "cancel",
    target: { symbol: "BTCUSDT", client_order_id: "ig-p1" },
    query: `symbol=BTCUSDT&origClientOrderId=ig-p1&recvWindow=5000&timestamp=${now}`,
  });
const cancelAll = (now: number) =>
  request({ action: "cancel_all", target: { symbol: "BTCUSDT" }, query: `symbol=BTCUSDT&timestamp=${now}` });
const countdown = (now: number, ms = 60_000) =>
  request({
    action: "countdown",
    target: { symbol: "BTCUSDT" },
    query: `symbol=BTCUSDT&countdownTime=${ms}&timestamp=${now}`,
  });
const openOrders = (now: number, account = "no-ro") =>
  request({
    account,
    action: "open_orders",
    target: { symbol: "BTCUSDT" },
    query: `symbol=BTCUSDT&timestamp=${now}`,
  });
const order = (now: number) =>
  request({
    action: "order",
    target: { symbol: "BTCUSDT", side: "BUY", type: "MARKET", qty: "0.01" },
    query: `symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.01&timestamp=${now}`,
  });

/** The emulator's signature check of `query` + its signature, sent with `apiKey` to a TRADE endpoint or a read. */
function atEmulator(query: string, out: SignOutcome, apiKey: string, trade: boolean): string {
  if (!out.granted) return `not granted: ${out.reason}`;
  const verdict = verifySigned({
    apiKey,
    query: `${query}&signature=${out.signature}`,
    body: "",
    keys: EMULATOR_KEYS,
    trade,
    serverTime: T0,
  });
  return "body" in verdict ? `error ${verdict.body.code}` : `ok ${verdict.account}`;
}
const queryOf = (r: SignRequest) => (r.payload as { query: string }).query;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "ig-binance-cancels-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("Binance cancel, cancel_all, countdown, open_orders: signed for the emulator", () => {
  it("each is granted on its route and verifies at the emulator as the TRADE request it is", async () => {
    const e = await openTestEngine({
      config: TIGHT,
      auditPath: join(dir, "emu.jsonl"),
      clock: () => T0,
      secrets: SECRETS,
    });
    const verdicts: string[] = [];
    for (const r of [cancel(T0), cancelAll(T0), countdown(T0)]) {
      verdicts.push(atEmulator(queryOf(r), await e.sign("exec", r), TRADE_API, true));
    }
    // A signature for one account's trade key is no signature under another key.
    verdicts.push(atEmulator(queryOf(cancel(T0)), await e.sign("exec", cancel(T0)), RO_API, false));
    await e.close();
    expect(verdicts).toEqual(["ok acct", "ok acct", "ok acct", "error -1022"]);
  });

  it("open_orders with a read-only key: a valid read, and its replay as DELETE /fapi/v1/allOpenOrders fails", async () => {
    const path = join(dir, "ro.jsonl");
    const e = await openTestEngine({ config: TIGHT, auditPath: path, clock: () => T0, secrets: SECRETS });
    const r = openOrders(T0, "with-ro");
    const out = await e.sign("exec", r);
    await e.close();
    expect(atEmulator(queryOf(r), out, RO_API, false)).toBe("ok acct"); // GET /fapi/v1/openOrders
    expect(atEmulator(queryOf(r), out, RO_API, true)).toBe("error -2015"); // the read-only key cannot cancel
    expect(atEmulator(queryOf(r), out, TRADE_API, true)).toBe("error -1022"); // nor is it the trade key's
    expect((await auditLines(path))[0]).toMatchObject({
      action: "open_orders",
      key: "read_only",
      cancel_capable: false,
    });
  });

  it("open_orders without one: the replay as a cancel-all works, so it is counted as a cancel and audited cancel_capable", async () => {
    const path = join(dir, "no-ro.jsonl");
    const e = await openTestEngine({ config: TIGHT, auditPath: path, clock: () => T0, secrets: SECRETS });
    const r = openOrders(T0);
    const out = await e.sign("exec", r);
    const outs = [outcomeOf(out)];
    for (let i = 0; i < 3; i++) outs.push(outcomeOf(await e.sign("exec", openOrders(T0))));
    await e.close();
    expect(atEmulator(queryOf(r), out, TRADE_API, true)).toBe("ok acct"); // it IS a valid cancel-all
    expect(outs).toEqual(["granted", "granted", "granted", "policy:cancel_rate"]);
    expect((await auditLines(path)).map((l) => [l.action, l.key, l.cancel_capable])).toEqual([
      ["open_orders", "trade", true],
      ["open_orders", "trade", true],
      ["open_orders", "trade", true],
      ["open_orders", null, false],
    ]);
  });
});

describe("Binance: the payload must be exactly the route's action", () => {
  it.each<[string, SignRequest, string]>([
    [
      "an order's parameters on the cancel route",
      request({
        action: "cancel",
        target: { symbol: "BTCUSDT", client_order_id: "ig-p1" },
        query: `symbol=BTCUSDT&origClientOrderId=ig-p1&side=BUY&type=MARKET&quantity=1&timestamp=${T0}`,
      }),
      "payload_mismatch:query",
    ],
    [
      "a cancel on the open_orders route",
      request({
        action: "open_orders",
        target: { symbol: "BTCUSDT" },
        query: `symbol=BTCUSDT&origClientOrderId=ig-p1&timestamp=${T0}`,
      }),
      "payload_mismatch:query",
    ],
    [
      "a target saying cancel_all on the open_orders route",
      request({
        action: "cancel_all",
        route: "executor.binance-usdm.open_orders",
        target: { symbol: "BTCUSDT" },
        query: `symbol=BTCUSDT&timestamp=${T0}`,
      }),
      "payload_mismatch:action",
    ],
    [
      "a repeated parameter",
      request({
        action: "cancel_all",
        target: { symbol: "BTCUSDT" },
        query: `symbol=BTCUSDT&symbol=ETHUSDT&timestamp=${T0}`,
      }),
      "payload_mismatch:query",
    ],
    [
      "an unknown parameter",
      request({
        action: "cancel_all",
        target: { symbol: "BTCUSDT" },
        query: `symbol=BTCUSDT&x=1&timestamp=${T0}`,
      }),
      "payload_mismatch:query",
    ],
    [
      "the target names another order",
      request({
        action: "cancel",
        target: { symbol: "BTCUSDT", client_order_id: "ig-p2" },
        query: `symbol=BTCUSDT&origClientOrderId=ig-p1&timestamp=${T0}`,
      }),
      "payload_mismatch:client_order_id",
    ],
    [
      "the target names another symbol",
      request({
        action: "cancel_all",
        target: { symbol: "ETHUSDT" },
        query: `symbol=BTCUSDT&timestamp=${T0}`,
      }),
      "payload_mismatch:symbol",
    ],
    [
      "a negative countdownTime",
      request({
        action: "countdown",
        target: { symbol: "BTCUSDT" },
        query: `symbol=BTCUSDT&countdownTime=-5&timestamp=${T0}`,
      }),
      "payload_mismatch:countdownTime",
    ],
    [
      "a fractional countdownTime",
      request({
        action: "countdown",
        target: { symbol: "BTCUSDT" },
        query: `symbol=BTCUSDT&countdownTime=1.5&timestamp=${T0}`,
      }),
      "payload_mismatch:countdownTime",
    ],
    ["a countdown that disarms the dead-man switch (0)", countdown(T0, 0), "policy:countdown"],
    ["a countdown past max_countdown_ms", countdown(T0, 120_001), "policy:countdown"],
    ["a cancel signed now for later", cancel(T0 - 60_000), "policy:stale_timestamp"],
  ])("%s → %s", async (_name, r, expected) => {
    const e = await openTestEngine({
      config: TIGHT,
      auditPath: join(dir, `deny-${seq}.jsonl`),
      clock: () => T0,
      secrets: SECRETS,
    });
    const out = await e.sign("exec", r);
    await e.close();
    expect(outcomeOf(out)).toBe(expected);
  });

  it("routes are only what the config enables: without a cancel route a cancel is route_not_allowed", async () => {
    const cfg = config(undefined, { "executor.binance-usdm.order": "order" });
    const e = await openTestEngine({
      config: cfg,
      auditPath: join(dir, "routes.jsonl"),
      clock: () => T0,
      secrets: SECRETS,
    });
    const outs = [
      await e.sign("exec", cancel(T0)),
      await e.sign("exec", countdown(T0)),
      await e.sign("exec", openOrders(T0)),
    ];
    await e.close();
    expect(outs.map(outcomeOf)).toEqual(["route_not_allowed", "route_not_allowed", "route_not_allowed"]);
  });
});

describe("Binance: the signer's limits for cancels and keep-alives", () => {
  it("cancels are never refused by notional, symbol or window limits, only by the cancel rate; keep-alives have their own rate", async () => {
    let now = T0;
    const path = join(dir, "limits.jsonl");
    const e = await openTestEngine({ config: TIGHT, auditPath: path, clock: () => now, secrets: SECRETS });
    const outs: string[] = [];
    const sign = async (make: (t: number) => SignRequest) =>
      outs.push(outcomeOf(await e.sign("exec", make(now))));
    await sign(order); // the order limits are on: max_notional 1
    await sign(cancel);
    await sign(cancelAll);
    await sign(openOrders); // cancel-capable: the third of 3
    await sign(cancel); // the cancel rate is used up
    await sign(countdown); // the dead-man switch is not starved by cancels
    await sign(countdown);
    await sign(countdown); // 2 keep-alives a second
    now += 1000;
    await sign(cancel);
    await sign(countdown);
    await e.close();
    expect(outs).toEqual([
      "policy:max_notional",
      "granted",
      "granted",
      "granted",
      "policy:cancel_rate",
      "granted",
      "granted",
      "policy:keepalive_rate",
      "granted",
      "granted",
    ]);
    const granted = (await auditLines(path)).filter((l) => l.decision === "granted");
    expect(granted.map((l) => [l.action, l.cancel_capable, l.notional])).toEqual([
      ["cancel", true, null],
      ["cancel_all", true, null],
      ["open_orders", true, null],
      ["countdown", true, null],
      ["countdown", true, null],
      ["cancel", true, null],
      ["countdown", true, null],
    ]);
    expect(await verifyAuditFile(path, HARNESS_AUDIT_KEY)).toMatchObject({ ok: true });
  });

  it("with no keep-alive limits configured, keep-alives still have a rate (10/s) and countdowns a bound (300 000 ms)", async () => {
    const e = await openTestEngine({
      config: config({ cancel_rate_per_account_per_s: 100 }),
      auditPath: join(dir, "defaults.jsonl"),
      clock: () => T0,
      secrets: SECRETS,
    });
    const outs: string[] = [];
    for (let i = 0; i < 11; i++) outs.push(outcomeOf(await e.sign("exec", countdown(T0, 300_000))));
    const past = outcomeOf(await e.sign("exec", countdown(T0 + 1000, 300_001)));
    await e.close();
    expect(outs.slice(0, 10).every((o) => o === "granted")).toBe(true);
    expect(outs[10]).toBe("policy:keepalive_rate");
    expect(past).toBe("policy:countdown");
  });

  it("a restart rebuilds the order windows from the audit log without counting cancels or keep-alives as orders", async () => {
    const path = join(dir, "restart.jsonl");
    const cfg = config({ cancel_rate_per_account_per_s: 100, windows: [{ window: "1m", max_orders: 1 }] });
    let e = await openTestEngine({ config: cfg, auditPath: path, clock: () => T0, secrets: SECRETS });
    for (const r of [cancel(T0), cancelAll(T0), countdown(T0), openOrders(T0)]) {
      expect(outcomeOf(await e.sign("exec", r))).toBe("granted");
    }
    await e.close();
    e = await openTestEngine({ config: cfg, auditPath: path, clock: () => T0 + 1000, secrets: SECRETS });
    const outs = [
      outcomeOf(await e.sign("exec", order(T0 + 1000))),
      outcomeOf(await e.sign("exec", order(T0 + 1000))),
    ];
    await e.close();
    expect(outs).toEqual(["granted", "policy:window_orders"]);
  });
});
