import { describe, expect, it } from "vitest";
import { INTENT_PAYLOAD_KIND } from "../../ports/signingPlane.js";
import { binanceQueryHandler } from "./binanceQuery.js";
import { polymarketL2Handler } from "./polymarketL2.js";
import { polymarketOrderHandler } from "./polymarketOrder.js";
import { defaultPayloadHandlers } from "./registry.js";

describe("defaultPayloadHandlers", () => {
  it("holds every implemented kind, each under its own kind", () => {
    const handlers = defaultPayloadHandlers();
    expect([...handlers.keys()].sort()).toEqual(["eip712-order", "hmac-clob-l2", "hmac-query"]);
    expect(handlers.get("hmac-query")).toBe(binanceQueryHandler);
    expect(handlers.get("hmac-clob-l2")).toBe(polymarketL2Handler);
    expect(handlers.get("eip712-order")).toBe(polymarketOrderHandler);
    for (const [kind, handler] of handlers) expect(handler.kind).toBe(kind);
  });

  it("covers the kinds of cex_api_signer and clob_api_signer", () => {
    const handlers = defaultPayloadHandlers();
    expect(handlers.has(INTENT_PAYLOAD_KIND.cex_api_signer!)).toBe(true);
    expect(handlers.has(INTENT_PAYLOAD_KIND.clob_api_signer!)).toBe(true);
    expect(handlers.has(INTENT_PAYLOAD_KIND.per_user_clob_signer!)).toBe(true);
  });

  it("returns a fresh map each call", () => {
    expect(defaultPayloadHandlers()).not.toBe(defaultPayloadHandlers());
  });

  it("a handler given a payload of another kind denies payload_mismatch:kind", () => {
    const handlers = defaultPayloadHandlers();
    const query = { kind: "hmac-query", query: "timestamp=1" } as const;
    const l2 = { kind: "hmac-clob-l2", timestamp: "1", method: "GET", path: "/", body: "" } as const;
    expect(handlers.get("hmac-clob-l2")!.bind(query, {})).toEqual({ ok: false, field: "kind" });
    expect(handlers.get("hmac-query")!.bind(l2, { action: "position_risk" })).toEqual({
      ok: false,
      field: "kind",
    });
  });
});
