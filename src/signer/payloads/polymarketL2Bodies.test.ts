import { describe, expect, it } from "vitest";
import type { SignPayload } from "../../ports/signingPlane.js";
import type { BindOutcome } from "../payloadKind.js";
import { bindPolymarketL2 } from "./polymarketL2.js";

type L2Payload = Extract<SignPayload, { kind: "hmac-clob-l2" }>;

const HASH = `0x${"ab".repeat(32)}`;
const field = (outcome: BindOutcome): string => (outcome.ok ? "ok" : outcome.field);
const bind = (method: string, path: string, body: string, target: Record<string, unknown>): BindOutcome => {
  const payload: L2Payload = { kind: "hmac-clob-l2", timestamp: "1700000000", method, path, body };
  return bindPolymarketL2(payload, { venue: "polymarket", ...target });
};

describe("hmac-clob-l2 bind: cancel, cancel_all, heartbeat bodies", () => {
  it("cancel: acts (not a replayable read), carries its time, no order", () => {
    expect(bind("DELETE", "/order", `{"orderID":"${HASH}"}`, { action: "cancel", order_id: HASH })).toEqual({
      ok: true,
      effect: {
        venue: "polymarket",
        action: "cancel",
        timestamp: { ms: 1_700_000_000_000, resolutionMs: 1000 },
        replayableRead: false,
      },
    });
  });

  it("cancel: the hash is compared exactly (case included), and the target's must be text", () => {
    const upper = `0x${"AB".repeat(32)}`;
    expect(
      field(bind("DELETE", "/order", `{"orderID":"${upper}"}`, { action: "cancel", order_id: HASH })),
    ).toBe("order_id");
    expect(field(bind("DELETE", "/order", `{"orderID":"${HASH}"}`, { action: "cancel", order_id: 7 }))).toBe(
      "order_id",
    );
    expect(field(bind("DELETE", "/order", "", { action: "cancel", order_id: HASH }))).toBe("body");
    expect(field(bind("DELETE", "/order", "null", { action: "cancel", order_id: HASH }))).toBe("body");
  });

  it("cancel_all: an empty body only", () => {
    expect(field(bind("DELETE", "/cancel-all", "", { action: "cancel_all" }))).toBe("ok");
    expect(field(bind("DELETE", "/cancel-all", " ", { action: "cancel_all" }))).toBe("body");
    expect(field(bind("DELETE", "/cancel-all", `{"orderID":"${HASH}"}`, { action: "cancel_all" }))).toBe(
      "body",
    );
  });

  it("heartbeat: an id of at most 128 plain characters, empty for the first", () => {
    const hb = (id: string) => JSON.stringify({ heartbeat_id: id });
    expect(field(bind("POST", "/v1/heartbeats", hb(""), { action: "heartbeat" }))).toBe("ok");
    expect(field(bind("POST", "/v1/heartbeats", hb("a".repeat(128)), { action: "heartbeat" }))).toBe("ok");
    expect(field(bind("POST", "/v1/heartbeats", hb("a".repeat(129)), { action: "heartbeat" }))).toBe("body");
    expect(field(bind("POST", "/v1/heartbeats", hb("a b"), { action: "heartbeat" }))).toBe("body");
    expect(field(bind("POST", "/v1/heartbeats", hb('a"'), { action: "heartbeat" }))).toBe("body");
    expect(field(bind("POST", "/v1/heartbeats", "", { action: "heartbeat" }))).toBe("body");
    expect(field(bind("DELETE", "/v1/heartbeats", hb(""), { action: "heartbeat" }))).toBe("method");
  });

  it("query_order: a target naming order_id must name the path's hash", () => {
    const path = `/data/order/${HASH}`;
    expect(field(bind("GET", path, "", { action: "query_order" }))).toBe("ok");
    expect(field(bind("GET", path, "", { action: "query_order", order_id: HASH }))).toBe("ok");
    expect(field(bind("GET", path, "", { action: "query_order", order_id: `0x${"cd".repeat(32)}` }))).toBe(
      "order_id",
    );
    expect(field(bind("GET", path, "", { action: "query_order", order_id: "" }))).toBe("order_id");
    expect(field(bind("GET", path, "", { action: "query_order", order_id: `order/${HASH}` }))).toBe(
      "order_id",
    );
  });
});
