import { describe, expect, it } from "vitest";
import { type PayloadKind, SIGNER_DENY_CODES } from "../ports/signingPlane.js";
import { AUTHORIZATION_STEPS, authorize, createAuthorizeContext } from "./authorize.js";
import { enabledIntents, isDeclaredIntent } from "./intents.js";
import type { PayloadKindHandler } from "./payloadKind.js";
import type { PolicyFacts } from "./policy/intentPolicy.js";
import { ReferencePrices } from "./policy/referencePrices.js";
import { parseSignerConfig } from "./signerConfig.js";
import { readRequest } from "./signRequest.js";

const config = parseSignerConfig({
  vault: { path: "v", passphrase_env: "P" },
  audit: { path: "a", key_env: "K" },
  callers: {
    exec: {
      token_env: "T",
      accounts: ["acct1", "acct2"],
      intents: ["cex_api_signer", "per_user_clob_signer"],
    },
    narrow: { token_env: "T2", accounts: ["acct2"], intents: ["per_user_clob_signer"] },
  },
  intents: {
    cex_api_signer: {
      routes: { "executor.binance-usdm.order": "order", "executor.binance-usdm.read": "query_order" },
    },
    per_user_clob_signer: { routes: { "executor.polymarket.order": "order" } },
  },
  accounts: {
    acct1: { cex_api_signer: "e-1", per_user_clob_signer: "pk-1" },
    acct2: { cex_api_signer: { entry: "e-2", read_only_entry: "e-2-ro" }, per_user_clob_signer: "pk-2" },
  },
  reference_prices: { prices: { "binance-usdm": { BTCUSDT: "65000" } } },
  policy: { cex_api_signer: { rate_per_account_per_s: 10, cancel_rate_per_account_per_s: 2 } },
});

const facts: PolicyFacts = {
  nowMs: 1_700_000_000_000,
  maxClockSkewMs: 5000,
  maxRecvWindowMs: 5000,
  prices: ReferencePrices.fromConfig(config.reference_prices),
};

function spyHandler<K extends PayloadKind>(kind: K, field?: string, read = false) {
  const calls = { bind: 0, sign: 0 };
  const handler: PayloadKindHandler = {
    kind,
    bind(_payload, target) {
      calls.bind++;
      if (field !== undefined) return { ok: false, field };
      const action = String(target.action);
      return {
        ok: true,
        effect: read
          ? { venue: "binance-usdm", action, symbol: "BTCUSDT", replayableRead: true }
          : {
              venue: "binance-usdm",
              action,
              symbol: "BTCUSDT",
              order: { qty: 10n ** 16n, price: undefined } as never,
              replayableRead: false,
            },
      };
    },
    async sign() {
      calls.sign++;
      return { signature: "sig" };
    },
  };
  return { handler, calls };
}

const body = (over: Record<string, unknown> = {}) => ({
  request_id: "r1",
  account: "acct1",
  intent: "cex_api_signer",
  route: "executor.binance-usdm.order",
  target: { symbol: "BTCUSDT", action: "order" },
  guard_context: { plan_id: "p" },
  payload: { kind: "hmac-query", query: "symbol=BTCUSDT&side=BUY" },
  ...over,
});

describe("authorize", () => {
  it("runs the steps of §3 in the spec's order", () => {
    expect(AUTHORIZATION_STEPS.map((s) => s.code)).toEqual(
      SIGNER_DENY_CODES.filter((c) => c !== "signer_unavailable"),
    );
  });

  it("a grant names the vault entry, the handler, the effect, the signer's notional and the claim; nothing is signed", () => {
    const { handler, calls } = spyHandler("hmac-query");
    const ctx = createAuthorizeContext(config, new Map([["hmac-query", handler]]));
    const a = authorize("exec", readRequest(body()), ctx, facts);
    expect(a).toMatchObject({
      ok: true,
      requestId: "r1",
      intent: "cex_api_signer",
      account: "acct1",
      entryId: "e-1",
      key: "trade",
      cancelCapable: false,
      binding: { action: "order", probe: false },
      effect: { action: "order", symbol: "BTCUSDT" },
      notional: 650n * 10n ** 18n,
      claim: { key: "cex_api_signer\nacct1", rate: 10, cancelRate: undefined, windows: [] },
    });
    expect(calls).toEqual({ bind: 1, sign: 0 });
  });

  it("a replayable read is signed with the read-only key where one is configured, else counted as a cancel", () => {
    const { handler } = spyHandler("hmac-query", undefined, true);
    const ctx = createAuthorizeContext(config, new Map([["hmac-query", handler]]));
    const read = (account: string) =>
      authorize(
        "exec",
        readRequest(
          body({ account, route: "executor.binance-usdm.read", target: { action: "query_order" } }),
        ),
        ctx,
        facts,
      );
    expect(read("acct2")).toMatchObject({
      ok: true,
      entryId: "e-2-ro",
      key: "read_only",
      cancelCapable: false,
      claim: undefined,
    });
    expect(read("acct1")).toMatchObject({
      ok: true,
      entryId: "e-1",
      key: "trade",
      cancelCapable: true,
      claim: { key: "cex_api_signer\nacct1", rate: undefined, cancelRate: 2 },
    });
  });

  it("caller_not_allowed: an account or an intent outside the caller's lists, after unknown_account", () => {
    const { handler, calls } = spyHandler("hmac-query");
    const ctx = createAuthorizeContext(config, new Map([["hmac-query", handler]]));
    expect(authorize("narrow", readRequest(body({ account: "acct1" })), ctx, facts)).toMatchObject({
      ok: false,
      reason: "caller_not_allowed",
    });
    expect(authorize("narrow", readRequest(body({ account: "acct2" })), ctx, facts)).toMatchObject({
      ok: false,
      reason: "caller_not_allowed",
    });
    expect(authorize("narrow", readRequest(body({ account: "nobody" })), ctx, facts)).toMatchObject({
      ok: false,
      reason: "unknown_account",
    });
    expect(calls.bind).toBe(0);
  });

  it("payload_mismatch:action when target.action is not the route's one action", () => {
    const { handler, calls } = spyHandler("hmac-query");
    const ctx = createAuthorizeContext(config, new Map([["hmac-query", handler]]));
    for (const target of [{ symbol: "BTCUSDT" }, { action: "query_order" }, { action: ["order"] }]) {
      expect(authorize("exec", readRequest(body({ target })), ctx, facts)).toMatchObject({
        ok: false,
        reason: "payload_mismatch:action",
      });
    }
    expect(calls.bind).toBe(0);
  });

  it("the handler's bind is not asked before every earlier check passed", () => {
    const { handler, calls } = spyHandler("hmac-query");
    const ctx = createAuthorizeContext(config, new Map([["hmac-query", handler]]));
    for (const over of [
      { account: "nobody" },
      { target: null },
      { route: "x" },
      { payload: { kind: "hmac-query" } },
    ]) {
      expect(authorize("exec", readRequest(body(over)), ctx, facts).ok).toBe(false);
    }
    expect(calls.bind).toBe(0);
  });

  it("reports the handler's mismatching field", () => {
    const { handler } = spyHandler("hmac-query", "side");
    const ctx = createAuthorizeContext(config, new Map([["hmac-query", handler]]));
    expect(authorize("exec", readRequest(body()), ctx, facts)).toMatchObject({
      ok: false,
      reason: "payload_mismatch:side",
    });
  });

  it("per_user_clob_signer is enabled only once an eip712-order handler is registered", () => {
    const req = readRequest(
      body({
        intent: "per_user_clob_signer",
        route: "executor.polymarket.order",
        target: { action: "order" },
        payload: { kind: "eip712-order", domain: { name: "x" }, order: { side: "0" } },
      }),
    );
    const q = spyHandler("hmac-query").handler;
    const without = createAuthorizeContext(config, new Map([["hmac-query", q]]));
    expect(authorize("exec", req, without, facts)).toMatchObject({ ok: false, reason: "intent_not_enabled" });
    const e = spyHandler("eip712-order").handler;
    const withIt = createAuthorizeContext(
      config,
      new Map<PayloadKind, PayloadKindHandler>([
        ["hmac-query", q],
        ["eip712-order", e],
      ]),
    );
    expect(authorize("exec", req, withIt, facts)).toMatchObject({
      ok: true,
      entryId: "pk-1",
      claim: undefined,
    });
  });
});

describe("intents", () => {
  it("declared vs enabled", () => {
    expect(isDeclaredIntent("recovery")).toBe(true);
    expect(isDeclaredIntent("withdraw")).toBe(false);
    expect(isDeclaredIntent(1)).toBe(false);
    const q = spyHandler("hmac-query").handler;
    expect([...enabledIntents(config, new Map([["hmac-query", q]]))]).toEqual(["cex_api_signer"]);
    expect([...enabledIntents(config, new Map())]).toEqual([]);
  });
});

describe("readRequest", () => {
  it("normalises a UUID account, keeps other ids, and leaves bad fields undefined", () => {
    const v = readRequest(body({ account: "4F1C2D3E-AAAA-4BBB-8CCC-0123456789AB", route: "", target: [] }));
    expect(v.account).toBe("4f1c2d3e-aaaa-4bbb-8ccc-0123456789ab");
    expect(v.route).toBeUndefined();
    expect(v.target).toBeUndefined();
    expect(readRequest(body({ account: "Acct-1" })).account).toBe("Acct-1");
    expect(readRequest(body({ account: "4f1c2d3e-aaaa-4bbb-8ccc-0123456789a" })).account).toBe(
      "4f1c2d3e-aaaa-4bbb-8ccc-0123456789a",
    );
  });

  it("echoes a bad request id cut to 128 characters, or empty when it is not a string", () => {
    expect(readRequest(body({ request_id: "x".repeat(300) })).requestIdEcho).toBe("x".repeat(128));
    expect(readRequest(body({ request_id: 5 })).requestIdEcho).toBe("");
    expect(readRequest(body({ request_id: "a\u0000b" })).requestId).toBeUndefined();
  });
});
