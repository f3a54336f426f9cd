import { describe, expect, it } from "vitest";
import { binanceCodeOf, classifyOrderAnswer, classifyReadAnswer } from "./binanceErrors.js";
import type { HttpOutcome } from "./binanceHttp.js";

const answer = (status: number, body: unknown): HttpOutcome => ({
  kind: "response",
  status,
  text: typeof body === "string" ? body : JSON.stringify(body),
});
const code = (status: number, c: number): HttpOutcome =>
  answer(status, { code: c, msg: "whatever the text says" });

describe("binanceErrors: order answers (the table in binanceErrors.ts)", () => {
  it.each<[string, HttpOutcome, unknown]>([
    ["2xx", answer(200, { orderId: 1 }), { kind: "ok", text: '{"orderId":1}' }],
    [
      "-1021",
      code(400, -1021),
      { kind: "rejected", reason: "venue_error:timestamp_outside_recv_window", resyncClock: true },
    ],
    [
      "-1022",
      code(400, -1022),
      { kind: "rejected", reason: "venue_error:bad_signature", badCredentials: true },
    ],
    [
      "-2014",
      code(401, -2014),
      { kind: "rejected", reason: "venue_error:bad_api_key", badCredentials: true },
    ],
    [
      "-2015",
      code(401, -2015),
      { kind: "rejected", reason: "venue_error:bad_api_key", badCredentials: true },
    ],
    ["-4015", code(400, -4015), { kind: "rejected", reason: "venue_error:bad_client_order_id" }],
    ["-4116", code(400, -4116), { kind: "already_placed", detail: "duplicate_client_order_id" }],
    ["-2022", code(400, -2022), { kind: "rejected", reason: "venue_error:reduce_only_rejected" }],
    ["-1008 (HTTP 503)", code(503, -1008), { kind: "rejected", reason: "venue_error:throttled" }],
    ["-1003 (HTTP 429)", code(429, -1003), { kind: "rejected", reason: "venue_error:rate_limited" }],
    ["HTTP 418", answer(418, ""), { kind: "rejected", reason: "venue_error:rate_limited" }],
    ["-1111", code(400, -1111), { kind: "rejected", reason: "venue_error:bad_precision" }],
    ["-4003", code(400, -4003), { kind: "rejected", reason: "venue_error:lot_size" }],
    ["-4023", code(400, -4023), { kind: "rejected", reason: "venue_error:lot_size" }],
    ["-4014", code(400, -4014), { kind: "rejected", reason: "venue_error:price_filter" }],
    ["-4164", code(400, -4164), { kind: "rejected", reason: "venue_error:min_notional" }],
    ["-2019", code(400, -2019), { kind: "rejected", reason: "venue_error:insufficient_margin" }],
    ["an unlisted 4xx code", code(400, -1102), { kind: "rejected", reason: "venue_error:binance:-1102" }],
    [
      "HTTP 403 (WAF) without a code",
      answer(403, "<html>"),
      { kind: "rejected", reason: "venue_error:http_403" },
    ],
    ["-1006 (HTTP 503)", code(503, -1006), { kind: "unknown", detail: "execution_status_unknown" }],
    ["-1007 (HTTP 408)", code(408, -1007), { kind: "unknown", detail: "execution_status_unknown" }],
    ["-1000 (HTTP 500)", code(500, -1000), { kind: "unknown", detail: "execution_status_unknown" }],
    ["-1001 (HTTP 503)", code(503, -1001), { kind: "unknown", detail: "execution_status_unknown" }],
    ["HTTP 408 without a code", answer(408, ""), { kind: "unknown", detail: "http_408" }],
    ["HTTP 502 gateway page", answer(502, "<html>"), { kind: "unknown", detail: "http_502" }],
    ["HTTP 503 with a 4xx-looking code", code(503, -2022), { kind: "unknown", detail: "http_503" }],
    ["HTTP 302", answer(302, ""), { kind: "unknown", detail: "http_302" }],
    [
      "connection never established",
      { kind: "failed", sent: false, cause: "connect_failed", code: "ECONNREFUSED" },
      { kind: "rejected", reason: "venue_error:connection_failed" },
    ],
    [
      "timeout while connecting",
      { kind: "failed", sent: false, cause: "timeout" },
      { kind: "rejected", reason: "venue_error:connection_failed" },
    ],
    [
      "timeout after connecting",
      { kind: "failed", sent: true, cause: "timeout" },
      { kind: "unknown", detail: "timeout" },
    ],
    [
      "connection lost after connecting",
      { kind: "failed", sent: true, cause: "connection_lost", code: "ECONNRESET" },
      { kind: "unknown", detail: "connection_lost" },
    ],
  ])("%s", (_name, http, expected) => {
    expect(classifyOrderAnswer(http)).toEqual(expected);
  });

  it("never reads the message text", () => {
    expect(
      classifyOrderAnswer(answer(400, { code: -2022, msg: "Timestamp for this request…" })),
    ).toMatchObject({
      reason: "venue_error:reduce_only_rejected",
    });
    expect(binanceCodeOf("not json")).toBeUndefined();
    expect(binanceCodeOf('{"code":200}')).toBeUndefined();
    expect(binanceCodeOf('{"code":-1.5}')).toBeUndefined();
  });
});

describe("binanceErrors: reads", () => {
  it("-2013 → not_found; others → failed with a detail", () => {
    expect(classifyReadAnswer(code(400, -2013))).toEqual({ kind: "not_found" });
    expect(classifyReadAnswer(code(400, -1021))).toEqual({
      kind: "failed",
      detail: "binance:-1021",
      resyncClock: true,
    });
    expect(classifyReadAnswer(code(401, -2015))).toEqual({
      kind: "failed",
      detail: "binance:-2015",
      badCredentials: true,
    });
    expect(classifyReadAnswer(answer(503, ""))).toEqual({ kind: "failed", detail: "http_503" });
    expect(classifyReadAnswer({ kind: "failed", sent: false, cause: "connect_failed" })).toEqual({
      kind: "failed",
      detail: "connection_failed",
    });
    expect(classifyReadAnswer({ kind: "failed", sent: true, cause: "timeout" })).toEqual({
      kind: "failed",
      detail: "timeout",
    });
    expect(classifyReadAnswer(answer(200, []))).toEqual({ kind: "ok", text: "[]" });
  });
});
