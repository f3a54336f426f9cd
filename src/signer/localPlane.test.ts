import { createHmac } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SecretBytes } from "../core/auth/secretBytes.js";
import { parseDecimal } from "../core/decimal.js";
import {
  type PayloadKind,
  PLANE_PROTOCOL_VERSION,
  SIGNER_DENY_CODES,
  type SigningPlane,
  type SignOutcome,
  type SignRequest,
} from "../ports/signingPlane.js";
import { type AuditSink, openAuditLog } from "./audit/auditLog.js";
import type { AuditEntry, AuditRecord } from "./audit/auditRecord.js";
import { verifyAuditFile } from "./audit/verifyAudit.js";
import { type KeyStore, KeyStoreError, type RevealedKey } from "./keyStore.js";
import { createLocalPlane, LocalPlaneError } from "./localPlane.js";
import { type PayloadEffect, PayloadKeyMismatch, type PayloadKindHandler } from "./payloadKind.js";
import { parseSignerConfig } from "./signerConfig.js";
import { SignerEngine, type SignerEngineOptions } from "./signerEngine.js";

const CANARY = "canary-7c1e-HMAC-SECRET-do-not-leak";
const UUID = "4f1c2d3e-aaaa-4bbb-8ccc-0123456789ab";

/** A tiny in-memory KeyStore; counts reveals so tests can see no key was read. */
class MemoryKeyStore implements KeyStore {
  reveals = 0;
  constructor(private readonly entries: Record<string, string | Error>) {}
  async reveal(entryId: string): Promise<RevealedKey> {
    this.reveals++;
    const e = this.entries[entryId];
    if (e === undefined) throw new KeyStoreError("not_found", `no entry ${entryId}`);
    if (e instanceof Error) throw e;
    return { kind: "hmac", secret: new SecretBytes(Buffer.from(e, "utf8")) };
  }
}

/**
 * A test `hmac-query` handler: binds on `symbol=`; `side=` makes it an order
 * of `quantity` at `price`; `ts=` is its time; `replay=1` a replayable read;
 * the action is the target's.
 */
const testQueryHandler: PayloadKindHandler<"hmac-query"> = {
  kind: "hmac-query",
  bind(payload, target) {
    const q = new URLSearchParams(payload.query);
    if (q.get("symbol") !== target.symbol) return { ok: false, field: "symbol" };
    if (q.get("explode") !== null) throw new Error(`cannot decode ${payload.query}`);
    const symbol = q.get("symbol") ?? undefined;
    const qty = parseDecimal(q.get("quantity") ?? "");
    const price = parseDecimal(q.get("price") ?? "");
    const ts = q.get("ts");
    const effect: PayloadEffect = {
      venue: "binance-usdm",
      action: String(target.action),
      ...(symbol === undefined ? {} : { symbol }),
      ...(q.has("side") && qty !== undefined ? { order: { qty, price } } : {}),
      ...(ts === null ? {} : { timestamp: { ms: Number(ts), resolutionMs: 1 } }),
      replayableRead: q.get("replay") === "1",
    };
    return { ok: true, effect };
  },
  async sign(payload, key) {
    if (key.kind !== "hmac") throw new Error("wrong key kind");
    if (payload.query.includes("failsign"))
      throw new Error(`sign failed with ${key.secret.expose().toString()}`);
    if (payload.query.includes("othersigner")) throw new PayloadKeyMismatch("signer");
    return { signature: createHmac("sha256", key.secret.expose()).update(payload.query).digest("hex") };
  },
};

const HANDLERS = new Map<PayloadKind, PayloadKindHandler>([
  ["hmac-query", testQueryHandler as unknown as PayloadKindHandler],
]);

const ACCOUNTS = ["acct1", UUID, "broken", "missing", "ro-acct"];
const CONFIG_RAW = {
  vault: { path: "vault.json", passphrase_env: "VAULT_PASS" },
  audit: { path: "audit.jsonl", key_env: "AUDIT_KEY" },
  callers: {
    "executor-1": {
      token_env: "EXEC_TOKEN",
      accounts: ACCOUNTS,
      intents: ["cex_api_signer", "clob_api_signer", "per_user_clob_signer"],
    },
    "executor-2": { token_env: "EXEC_TOKEN_2", accounts: ["acct1"], intents: ["cex_api_signer"] },
  },
  intents: {
    cex_api_signer: {
      routes: {
        "executor.binance-usdm.order": "order",
        "executor.binance-usdm.query": "position_risk",
        "executor.binance-usdm.probe": { action: "position_risk", probe: true },
      },
    },
    clob_api_signer: { routes: { "executor.polymarket.l2": "order" } },
    per_user_clob_signer: { routes: { "executor.polymarket.order": "order" } },
  },
  accounts: {
    acct1: {
      cex_api_signer: "binance-acct1",
      clob_api_signer: "poly-acct1",
      per_user_clob_signer: "pk-acct1",
    },
    [UUID.toUpperCase()]: { cex_api_signer: "binance-uuid" },
    broken: { cex_api_signer: "binance-broken" },
    missing: { cex_api_signer: "binance-missing" },
    "ro-acct": { cex_api_signer: { entry: "binance-acct1", read_only_entry: "binance-ro" } },
  },
  reference_prices: { prices: { "binance-usdm": { BTCUSDT: "50000", ETHUSDT: "3000", DOGEUSDT: "0.1" } } },
  policy: {
    cex_api_signer: {
      max_notional: "1000",
      symbols: ["BTCUSDT", "ETHUSDT"],
      rate_per_account_per_s: 3,
      cancel_rate_per_account_per_s: 2,
    },
  },
};

const RO_SECRET = "read-only-secret-of-ro-acct";
const KEYS = {
  "binance-acct1": CANARY,
  "binance-ro": RO_SECRET,
  "binance-uuid": CANARY,
  "binance-broken": new KeyStoreError("bad_passphrase", "cannot decrypt entry binance-broken"),
};

/** A valid order request; `over` replaces fields. */
function req(over: Record<string, unknown> = {}): SignRequest {
  return {
    request_id: "r-1",
    account: "acct1",
    intent: "cex_api_signer",
    route: "executor.binance-usdm.order",
    target: {
      venue: "binance-usdm",
      action: "order",
      symbol: "BTCUSDT",
      side: "BUY",
      qty: "0.01",
      price: "50000",
    },
    guard_context: { plan_id: "p-1", decision: "allow", trading_state: "ACTIVE" },
    payload: { kind: "hmac-query", query: "symbol=BTCUSDT&side=BUY&quantity=0.01&price=50000&timestamp=1" },
    ...over,
  } as SignRequest;
}

/** An audit sink in memory that keeps each appended line (and whether it was asked to be durable). */
class MemoryAudit implements AuditSink {
  readonly lines: AuditEntry[] = [];
  readonly durable: boolean[] = [];
  fail = false;
  closed = false;
  async append(entry: AuditEntry, opts?: { durable?: boolean }): Promise<AuditRecord> {
    if (this.fail) throw new Error("disk full");
    this.lines.push(entry);
    this.durable.push(opts?.durable === true);
    return { ...entry, v: 2, seq: this.lines.length, prev_mac: "0".repeat(64), mac: "0".repeat(64) };
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

interface Rig {
  plane: SigningPlane;
  keyStore: MemoryKeyStore;
  audit: MemoryAudit;
  setNow(ms: number): void;
}

function rig(
  over: { readonly handlers?: SignerEngineOptions["handlers"] } = {},
  configRaw: Record<string, unknown> = CONFIG_RAW,
): Rig {
  const keyStore = new MemoryKeyStore(KEYS);
  const audit = new MemoryAudit();
  let now = Date.UTC(2026, 0, 1);
  const plane = createLocalPlane({
    config: parseSignerConfig(configRaw),
    keyStore,
    handlers: HANDLERS,
    audit,
    clock: () => now,
    ...over,
  });
  return {
    plane,
    keyStore,
    audit,
    setNow: (ms) => {
      now = ms;
    },
  };
}

const denied = (o: SignOutcome): string => (o.granted ? "granted" : o.reason);

describe("local plane: grants", () => {
  it("signs a valid request with the account's key and says its version", async () => {
    const { plane, audit } = rig();
    const out = await plane.sign("executor-1", req());
    const query = "symbol=BTCUSDT&side=BUY&quantity=0.01&price=50000&timestamp=1";
    expect(out).toEqual({
      granted: true,
      request_id: "r-1",
      signature: createHmac("sha256", CANARY).update(query).digest("hex"),
      plane_version: PLANE_PROTOCOL_VERSION,
    });
    expect(audit.lines).toHaveLength(1);
    expect(audit.lines[0]).toEqual({
      time: "2026-01-01T00:00:00.000Z",
      request_id: "r-1",
      caller: "executor-1",
      account: "acct1",
      intent: "cex_api_signer",
      route: "executor.binance-usdm.order",
      action: "order",
      // The values (signing-plane-v1 §6): the signature can be tied to its plan, symbol and quantity.
      target: {
        venue: "binance-usdm",
        action: "order",
        symbol: "BTCUSDT",
        side: "BUY",
        qty: "0.01",
        price: "50000",
      },
      guard_context: { plan_id: "p-1", decision: "allow", trading_state: "ACTIVE" },
      key: "trade",
      cancel_capable: false,
      notional: "500",
      reference_price: "50000",
      decision: "granted",
      reason: "ok",
    });
  });

  it("a query (no order) is not subject to the order limits", async () => {
    const { plane } = rig();
    const out = await plane.sign(
      "executor-1",
      req({
        route: "executor.binance-usdm.query",
        target: { symbol: "DOGEUSDT", action: "position_risk" },
        payload: { kind: "hmac-query", query: "symbol=DOGEUSDT&timestamp=1" },
      }),
    );
    expect(out.granted).toBe(true);
  });

  it.each([UUID, UUID.toUpperCase(), "4F1C2D3E-aaaa-4BBB-8ccc-0123456789AB"])(
    "accepts the UUID account %s in any case and audits it lowercased",
    async (account) => {
      const { plane, audit } = rig();
      expect((await plane.sign("executor-1", req({ account }))).granted).toBe(true);
      expect(audit.lines[0]?.account).toBe(UUID);
    },
  );

  it("account ids that are not UUIDs are case-sensitive", async () => {
    const { plane } = rig();
    expect(denied(await plane.sign("executor-1", req({ account: "ACCT1" })))).toBe("unknown_account");
  });
});

describe("local plane: every reason code of §3", () => {
  const cases: [string, string, () => [string, SignRequest]][] = [
    ["unknown_caller", "an unlisted caller", () => ["intruder", req()]],
    ["unknown_caller", "an empty caller", () => ["", req()]],
    ["unknown_caller", "a prototype name as caller", () => ["constructor", req()]],
    ["unknown_intent", "an undeclared intent", () => ["executor-1", req({ intent: "withdraw_everything" })]],
    ["unknown_intent", "a non-string intent", () => ["executor-1", req({ intent: 7 })]],
    [
      "intent_not_enabled",
      "a declared on-chain intent",
      () => ["executor-1", req({ intent: "onchain_transfer" })],
    ],
    ["intent_not_enabled", "shared_clob_signer", () => ["executor-1", req({ intent: "shared_clob_signer" })]],
    [
      "intent_not_enabled",
      "a configured intent without a handler (hmac-clob-l2)",
      () => ["executor-1", req({ intent: "clob_api_signer", route: "executor.polymarket.l2" })],
    ],
    [
      "intent_not_enabled",
      "per_user_clob_signer while eip712-order has no handler",
      () => ["executor-1", req({ intent: "per_user_clob_signer", route: "executor.polymarket.order" })],
    ],
    ["route_not_allowed", "a route off the allowlist", () => ["executor-1", req({ route: "ops.manual" })]],
    [
      "route_not_allowed",
      "another intent's route",
      () => ["executor-1", req({ route: "executor.polymarket.l2" })],
    ],
    ["route_not_allowed", "a non-string route", () => ["executor-1", req({ route: ["x"] })]],
    ["missing_target", "target absent", () => ["executor-1", req({ target: undefined })]],
    ["missing_target", "target null", () => ["executor-1", req({ target: null })]],
    ["missing_target", "target {}", () => ["executor-1", req({ target: {} })]],
    ["missing_target", "target an array", () => ["executor-1", req({ target: ["symbol"] })]],
    [
      "missing_guard_context",
      "guard_context absent",
      () => ["executor-1", req({ guard_context: undefined })],
    ],
    ["missing_guard_context", "guard_context null", () => ["executor-1", req({ guard_context: null })]],
    ["missing_guard_context", "guard_context {}", () => ["executor-1", req({ guard_context: {} })]],
    ["unknown_account", "an unknown account", () => ["executor-1", req({ account: "nobody" })]],
    ["unknown_account", "a non-string account", () => ["executor-1", req({ account: 42 })]],
    ["unknown_account", "a prototype name as account", () => ["executor-1", req({ account: "__proto__" })]],
    [
      "caller_not_allowed",
      "a caller not allowed the account (the intent's scope: authorize.test.ts)",
      () => ["executor-2", req({ account: UUID })],
    ],
    [
      "payload_mismatch:action",
      "a target whose action is not the route's",
      () => ["executor-1", req({ route: "executor.binance-usdm.query" })],
    ],
    [
      "payload_mismatch:symbol",
      "a payload for another symbol",
      () => ["executor-1", req({ target: { symbol: "ETHUSDT", action: "order" } })],
    ],
    [
      "payload_mismatch:payload",
      "a payload field name too long to echo",
      () => [
        "executor-1",
        req({ payload: { kind: "hmac-query", query: "symbol=BTCUSDT", ["x".repeat(60_000)]: 1 } }),
      ],
    ],
    [
      "payload_mismatch:kind",
      "a payload of another kind",
      () => [
        "executor-1",
        req({ payload: { kind: "hmac-clob-l2", timestamp: "1", method: "GET", path: "/", body: "" } }),
      ],
    ],
    ["payload_mismatch:payload", "no payload", () => ["executor-1", req({ payload: undefined })]],
    [
      "payload_mismatch:query",
      "a payload field of the wrong type",
      () => ["executor-1", req({ payload: { kind: "hmac-query", query: 1 } })],
    ],
    [
      "payload_mismatch:extra",
      "a payload with an unknown field",
      () => ["executor-1", req({ payload: { kind: "hmac-query", query: "symbol=BTCUSDT", extra: 1 } })],
    ],
    [
      "payload_mismatch:payload",
      "a payload the handler cannot decode (it throws)",
      () => ["executor-1", req({ payload: { kind: "hmac-query", query: "symbol=BTCUSDT&explode=1" } })],
    ],
    [
      "policy:max_notional",
      "an order over max_notional",
      () => [
        "executor-1",
        req({ payload: { kind: "hmac-query", query: "symbol=BTCUSDT&side=BUY&quantity=1&price=50000" } }),
      ],
    ],
    [
      "policy:max_notional",
      "an order with no price of its own: the signer's reference, never the caller's claim",
      () => [
        "executor-1",
        req({
          target: { venue: "binance-usdm", action: "order", symbol: "BTCUSDT", reference_price: "0.01" },
          payload: { kind: "hmac-query", query: "symbol=BTCUSDT&side=BUY&quantity=1" },
        }),
      ],
    ],
    [
      "policy:max_notional",
      "a SELL far below the market: the value given away (the reference), not the cash received",
      () => [
        "executor-1",
        req({ payload: { kind: "hmac-query", query: "symbol=BTCUSDT&side=SELL&quantity=100&price=0.01" } }),
      ],
    ],
    [
      "policy:no_reference_price",
      "an order for a symbol the signer has no reference for while a notional limit applies",
      () => [
        "executor-1",
        req({
          target: { action: "order", symbol: "SOLUSDT" },
          payload: { kind: "hmac-query", query: "symbol=SOLUSDT&side=BUY&quantity=1&price=1" },
        }),
      ],
    ],
    [
      "policy:stale_timestamp",
      "a payload stamped an hour ahead of the signer's clock",
      () => [
        "executor-1",
        req({
          payload: { kind: "hmac-query", query: `symbol=BTCUSDT&ts=${Date.UTC(2026, 0, 1) + 3_600_000}` },
        }),
      ],
    ],
    [
      "policy:symbols",
      "an order for a symbol off the allowlist",
      () => [
        "executor-1",
        req({
          target: { symbol: "DOGEUSDT", action: "order" },
          payload: { kind: "hmac-query", query: "symbol=DOGEUSDT&side=BUY&quantity=1&price=0.1" },
        }),
      ],
    ],
    ["policy:request_id", "an empty request_id", () => ["executor-1", req({ request_id: "" })]],
    [
      "policy:request_id",
      "a request_id of 129 characters",
      () => ["executor-1", req({ request_id: "r".repeat(129) })],
    ],
    [
      "policy:request_id",
      "a request_id with a line break",
      () => ["executor-1", req({ request_id: "a\nb" })],
    ],
    [
      "payload_mismatch:signer",
      "a payload naming another signer than the account's key (found only when signing)",
      () => [
        "executor-1",
        req({
          payload: {
            kind: "hmac-query",
            query: "symbol=BTCUSDT&side=BUY&quantity=0.01&price=1&othersigner=1",
          },
        }),
      ],
    ],
    [
      "signer_unavailable",
      "a key that cannot be decrypted",
      () => ["executor-1", req({ account: "broken" })],
    ],
    [
      "signer_unavailable",
      "a vault entry that is missing",
      () => ["executor-1", req({ account: "missing" })],
    ],
    [
      "signer_unavailable",
      "a handler that fails to sign",
      () => [
        "executor-1",
        req({
          payload: { kind: "hmac-query", query: "symbol=BTCUSDT&side=BUY&quantity=0.01&price=1&failsign=1" },
        }),
      ],
    ],
  ];

  it.each(cases)("%s: %s", async (reason, _what, make) => {
    const { plane, audit, keyStore } = rig();
    const [caller, request] = make();
    const out = await plane.sign(caller, request);
    expect(out).toEqual({
      granted: false,
      request_id: typeof request.request_id === "string" ? request.request_id.slice(0, 128) : "",
      reason,
    });
    expect(audit.lines).toHaveLength(1);
    expect(audit.lines[0]).toMatchObject({ decision: "denied", reason });
    // Only signer_unavailable, and a signer mismatch found while signing, get as far as reading a key.
    const readsKey = reason === "signer_unavailable" || reason === "payload_mismatch:signer";
    expect(keyStore.reveals).toBe(readsKey ? 1 : 0);
  });

  it("policy:rate: the 4th order in one second for one account is denied; denials do not count", async () => {
    const { plane, audit, setNow } = rig();
    const t0 = Date.UTC(2026, 0, 1);
    const results: string[] = [];
    for (let i = 0; i < 3; i++)
      results.push(denied(await plane.sign("executor-1", req({ request_id: `g${i}` }))));
    results.push(denied(await plane.sign("executor-1", req({ request_id: "g3" }))));
    // A request denied by an earlier check is not counted, nor one denied by the rate itself.
    setNow(t0 + 999);
    results.push(denied(await plane.sign("executor-1", req({ request_id: "g4" }))));
    // Another account has its own window.
    results.push(denied(await plane.sign("executor-1", req({ account: UUID, request_id: "u0" }))));
    // Queries are not limited.
    results.push(
      denied(
        await plane.sign(
          "executor-1",
          req({
            route: "executor.binance-usdm.query",
            target: { symbol: "BTCUSDT", action: "position_risk" },
            payload: { kind: "hmac-query", query: "symbol=BTCUSDT" },
          }),
        ),
      ),
    );
    setNow(t0 + 1000);
    results.push(denied(await plane.sign("executor-1", req({ request_id: "g5" }))));
    expect(results).toEqual([
      "granted",
      "granted",
      "granted",
      "policy:rate",
      "policy:rate",
      "granted",
      "granted",
      "granted",
    ]);
    expect(audit.lines.map((l) => l.reason)).toEqual(results.map((r) => (r === "granted" ? "ok" : r)));
  });

  it("a request that passed every check counts against the rate even when signing then fails", async () => {
    const { plane } = rig();
    const failing = req({
      payload: { kind: "hmac-query", query: "symbol=BTCUSDT&side=BUY&quantity=0.01&price=1&failsign=1" },
    });
    const seen: string[] = [];
    for (let i = 0; i < 3; i++) seen.push(denied(await plane.sign("executor-1", failing)));
    seen.push(denied(await plane.sign("executor-1", req())));
    expect(seen).toEqual(["signer_unavailable", "signer_unavailable", "signer_unavailable", "policy:rate"]);
  });

  it("concurrent requests cannot both take the last slot", async () => {
    const { plane } = rig();
    const outs = await Promise.all(
      Array.from({ length: 10 }, (_, i) => plane.sign("executor-1", req({ request_id: `c${i}` }))),
    );
    expect(outs.filter((o) => o.granted)).toHaveLength(3);
  });

  it("reaches every code of SIGNER_DENY_CODES", () => {
    const reached = new Set(cases.map(([r]) => r.split(":")[0]));
    for (const code of SIGNER_DENY_CODES) expect(reached.has(code)).toBe(true);
  });
});

describe("local plane: order of checks (first failure decides)", () => {
  const all = {
    request_id: "",
    intent: "onchain_transfer",
    route: "nowhere",
    target: null,
    guard_context: null,
    account: "nobody",
    payload: null,
  };
  const steps: [string, Record<string, unknown>, string][] = [
    ["intruder", all, "unknown_caller"],
    ["executor-1", { ...all, intent: "nope" }, "unknown_intent"],
    ["executor-1", all, "intent_not_enabled"],
    ["executor-1", { ...all, intent: "cex_api_signer" }, "route_not_allowed"],
    [
      "executor-1",
      { ...all, intent: "cex_api_signer", route: "executor.binance-usdm.order" },
      "missing_target",
    ],
    [
      "executor-1",
      {
        ...all,
        intent: "cex_api_signer",
        route: "executor.binance-usdm.order",
        target: { symbol: "ETHUSDT" },
      },
      "missing_guard_context",
    ],
    [
      "executor-1",
      {
        ...all,
        intent: "cex_api_signer",
        route: "executor.binance-usdm.order",
        target: { symbol: "ETHUSDT", action: "order" },
        guard_context: { plan_id: "p" },
      },
      "unknown_account",
    ],
    [
      "executor-1",
      {
        ...all,
        intent: "cex_api_signer",
        route: "executor.binance-usdm.order",
        target: { symbol: "ETHUSDT", action: "order" },
        guard_context: { plan_id: "p" },
        account: "acct1",
      },
      "payload_mismatch:payload",
    ],
    [
      "executor-1",
      {
        ...all,
        intent: "cex_api_signer",
        route: "executor.binance-usdm.order",
        target: { symbol: "ETHUSDT", action: "order" },
        guard_context: { plan_id: "p" },
        account: "acct1",
        payload: { kind: "hmac-query", query: "symbol=BTCUSDT&side=BUY&quantity=100&price=100000" },
      },
      "payload_mismatch:symbol",
    ],
    [
      "executor-1",
      {
        ...all,
        intent: "cex_api_signer",
        route: "executor.binance-usdm.order",
        target: { symbol: "DOGEUSDT", action: "order" },
        guard_context: { plan_id: "p" },
        account: "acct1",
        payload: { kind: "hmac-query", query: "symbol=DOGEUSDT&side=BUY&quantity=100&price=100000" },
      },
      "policy:request_id",
    ],
    [
      "executor-1",
      {
        ...all,
        request_id: "r",
        intent: "cex_api_signer",
        route: "executor.binance-usdm.order",
        target: { symbol: "DOGEUSDT", action: "order" },
        guard_context: { plan_id: "p" },
        account: "acct1",
        payload: { kind: "hmac-query", query: "symbol=DOGEUSDT&side=BUY&quantity=100&price=100000" },
      },
      "policy:max_notional",
    ],
    [
      "executor-1",
      {
        ...all,
        request_id: "r",
        intent: "cex_api_signer",
        route: "executor.binance-usdm.order",
        target: { symbol: "DOGEUSDT", action: "order" },
        guard_context: { plan_id: "p" },
        account: "acct1",
        payload: { kind: "hmac-query", query: "symbol=DOGEUSDT&side=BUY&quantity=1&price=1" },
      },
      "policy:symbols",
    ],
  ];
  it.each(steps)("caller %s, request %j → %s", async (caller, body, reason) => {
    const { plane, keyStore } = rig();
    expect(denied(await plane.sign(caller, body as unknown as SignRequest))).toBe(reason);
    expect(keyStore.reveals).toBe(0);
  });

  it("a non-object body is denied for its first failing field", async () => {
    const { plane, audit } = rig();
    for (const body of [null, "x", 3, []]) {
      expect(await plane.sign("executor-1", body as unknown as SignRequest)).toEqual({
        granted: false,
        request_id: "",
        reason: "unknown_intent",
      });
    }
    expect(audit.lines).toHaveLength(4);
  });
});

describe("local plane: lifecycle", () => {
  it("refuses to start when live is true", () => {
    expect(() => rig({}, { ...CONFIG_RAW, live: true })).toThrow(LocalPlaneError);
    try {
      rig({}, { ...CONFIG_RAW, live: true });
    } catch (err) {
      expect((err as LocalPlaneError).code).toBe("live");
    }
  });

  it("the engine (for the remote signer process) starts with live true", () => {
    const audit = new MemoryAudit();
    const engine = new SignerEngine({
      config: parseSignerConfig({ ...CONFIG_RAW, live: true }),
      keyStore: new MemoryKeyStore({}),
      handlers: HANDLERS,
      audit,
    });
    expect(engine).toBeInstanceOf(SignerEngine);
  });

  it("refuses a handler registered under another kind", () => {
    const handlers = new Map<PayloadKind, PayloadKindHandler>([
      ["hmac-clob-l2", testQueryHandler as unknown as PayloadKindHandler],
    ]);
    expect(() => rig({ handlers })).toThrow(/registered as "hmac-clob-l2" handles "hmac-query"/);
  });

  it("close() waits for requests in flight, closes the audit log, then refuses requests", async () => {
    const { plane, audit } = rig();
    const pending = plane.sign("executor-1", req());
    await plane.close();
    expect((await pending).granted).toBe(true);
    expect(audit.closed).toBe(true);
    await expect(plane.sign("executor-1", req())).rejects.toThrow(LocalPlaneError);
  });

  it("withholds a grant whose audit line cannot be written", async () => {
    const { plane, audit } = rig();
    audit.fail = true;
    expect(await plane.sign("executor-1", req())).toEqual({
      granted: false,
      request_id: "r-1",
      reason: "signer_unavailable",
    });
  });
});

describe("local plane: no secret anywhere (canary)", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "ig-localplane-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("the canary never appears in audit lines, outcomes, errors or inspect output", async () => {
    const path = join(dir, "audit.jsonl");
    const auditKey = Buffer.from("local-plane-test-audit-key-0123456789abcdefghij");
    const audit = await openAuditLog(path, { sync: "never", key: auditKey });
    const keyStore = new MemoryKeyStore(KEYS);
    const config = parseSignerConfig(CONFIG_RAW);
    const plane = createLocalPlane({ config, keyStore, handlers: HANDLERS, audit });
    const seen: unknown[] = [];
    const requests: [string, SignRequest][] = [
      ["executor-1", req()],
      ["executor-1", req({ account: UUID })],
      ["intruder", req()],
      ["executor-1", req({ account: "broken" })],
      [
        "executor-1",
        req({
          payload: { kind: "hmac-query", query: "symbol=BTCUSDT&side=BUY&quantity=0.01&price=1&failsign=1" },
        }),
      ],
      ["executor-1", req({ target: { symbol: "ETHUSDT", action: "order" } })],
    ];
    for (const [caller, r] of requests) seen.push(await plane.sign(caller, r));
    expect(seen.filter((o) => (o as SignOutcome).granted)).toHaveLength(2);
    const texts = [
      JSON.stringify(seen),
      inspect(seen, { depth: 10 }),
      inspect(plane, { depth: 10, showHidden: true }),
      JSON.stringify(plane),
      String(plane),
      inspect(await keyStore.reveal("binance-acct1"), { depth: 10, showHidden: true }),
      JSON.stringify(await keyStore.reveal("binance-acct1")),
    ];
    await plane.close();
    const log = await readFile(path, "utf8");
    texts.push(log);
    for (const t of texts) {
      expect(t).not.toContain(CANARY);
      expect(t).not.toContain(Buffer.from(CANARY).toString("hex"));
      expect(t).not.toContain(Buffer.from(CANARY).toString("base64"));
    }
    // Nor a payload or a signature; the target's and guard context's values are there (§6).
    expect(log).not.toContain("quantity=");
    expect(log).toContain('"symbol":"BTCUSDT"');
    expect(log).toContain('"plan_id":"p-1"');
    for (const o of seen)
      if ((o as SignOutcome).granted) expect(log).not.toContain((o as { signature: string }).signature);
    expect(log.trim().split("\n")).toHaveLength(requests.length);
    expect(await verifyAuditFile(path, auditKey)).toEqual({ ok: true, lines: requests.length });
  });
});
