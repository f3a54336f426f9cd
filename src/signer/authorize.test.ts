import { describe, expect, it } from "vitest";
import { type PayloadKind, SIGNER_DENY_CODES } from "../ports/signingPlane.js";
import { AUTHORIZATION_STEPS, authorize, createAuthorizeContext } from "./authorize.js";
import { enabledIntents, isDeclaredIntent } from "./intents.js";
import type { PayloadKindHandler } from "./payloadKind.js";
import { parseSignerConfig } from "./signerConfig.js";
import { readRequest } from "./signRequest.js";

const config = parseSignerConfig({
  vault: { path: "v", passphrase_env: "P" },
  audit: { path: "a" },
  callers: { exec: { token_env: "T" } },
  intents: {
    cex_api_signer: { routes: ["executor.binance-usdm.order"] },
    per_user_clob_signer: { routes: ["executor.polymarket.order"] },
  },
  accounts: { acct1: { cex_api_signer: "e-1", per_user_clob_signer: "pk-1" } },
  policy: { cex_api_signer: { rate_per_account_per_s: 10 } },
});

function spyHandler<K extends PayloadKind>(kind: K, field?: string) {
  const calls = { bind: 0, sign: 0 };
  const handler: PayloadKindHandler = {
    kind,
    bind() {
      calls.bind++;
      return field === undefined
        ? { ok: true, effect: { placesOrder: true, symbol: "BTCUSDT" } }
        : { ok: false, field };
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
  target: { symbol: "BTCUSDT" },
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

  it("a grant names the vault entry, the handler, the effect and the rate claim; nothing is signed", () => {
    const { handler, calls } = spyHandler("hmac-query");
    const ctx = createAuthorizeContext(config, new Map([["hmac-query", handler]]));
    const a = authorize("exec", readRequest(body()), ctx);
    expect(a).toMatchObject({
      ok: true,
      requestId: "r1",
      intent: "cex_api_signer",
      account: "acct1",
      entryId: "e-1",
      effect: { placesOrder: true, symbol: "BTCUSDT" },
      rate: { key: "cex_api_signer\nacct1", limit: 10 },
    });
    expect(calls).toEqual({ bind: 1, sign: 0 });
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
      expect(authorize("exec", readRequest(body(over)), ctx).ok).toBe(false);
    }
    expect(calls.bind).toBe(0);
  });

  it("reports the handler's mismatching field", () => {
    const { handler } = spyHandler("hmac-query", "side");
    const ctx = createAuthorizeContext(config, new Map([["hmac-query", handler]]));
    expect(authorize("exec", readRequest(body()), ctx)).toEqual({
      ok: false,
      reason: "payload_mismatch:side",
    });
  });

  it("per_user_clob_signer is enabled only once an eip712-order handler is registered", () => {
    const req = readRequest(
      body({
        intent: "per_user_clob_signer",
        route: "executor.polymarket.order",
        payload: { kind: "eip712-order", domain: { name: "x" }, order: { side: "0" } },
      }),
    );
    const q = spyHandler("hmac-query").handler;
    const without = createAuthorizeContext(config, new Map([["hmac-query", q]]));
    expect(authorize("exec", req, without)).toEqual({ ok: false, reason: "intent_not_enabled" });
    const e = spyHandler("eip712-order").handler;
    const withIt = createAuthorizeContext(
      config,
      new Map<PayloadKind, PayloadKindHandler>([
        ["hmac-query", q],
        ["eip712-order", e],
      ]),
    );
    expect(authorize("exec", req, withIt)).toMatchObject({ ok: true, entryId: "pk-1", rate: undefined });
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
