import { describe, expect, it } from "vitest";
import { classifyPostOrder, SEND_REJECTION_DETAILS } from "./clobErrors.js";
import type { HttpOutcome } from "./clobHttp.js";
import { parseJsonKeepingNumbers } from "./jsonText.js";

const answer = (status: number, body: unknown): [HttpOutcome, unknown] => {
  const text = JSON.stringify(body);
  return [{ kind: "response", status, text }, parseJsonKeepingNumbers(text)];
};

describe("classifyPostOrder", () => {
  const cases: Array<[string, [HttpOutcome, unknown], ReturnType<typeof classifyPostOrder>]> = [
    [
      "200 live",
      answer(200, {
        success: true,
        errorMsg: "",
        orderID: "0xab",
        status: "live",
        makingAmount: "0",
        takingAmount: "0",
      }),
      { kind: "placed", orderId: "0xab", status: "live", makingAmount: "0", takingAmount: "0" },
    ],
    [
      "200 delayed, no amounts",
      answer(200, { success: true, orderID: "0xab", status: "delayed" }),
      {
        kind: "placed",
        orderId: "0xab",
        status: "delayed",
        makingAmount: undefined,
        takingAmount: undefined,
      },
    ],
    ["duplicate", answer(400, { error: "order 0xab is invalid. Duplicated." }), { kind: "duplicate" }],
    [
      "balance",
      answer(400, { error: "not enough balance / allowance: balance: 0, order amount: 5" }),
      { kind: "rejected", detail: "insufficient_balance" },
    ],
    [
      "FOK (both spellings)",
      answer(400, { error: "order couldn't be fully filled, FOK orders are fully filled/killed" }),
      { kind: "rejected", detail: "fok_not_filled" },
    ],
    [
      "200 with a known errorMsg",
      answer(200, { success: true, errorMsg: "order is invalid. Price breaks minimum tick size rules" }),
      { kind: "rejected", detail: "tick_size" },
    ],
    [
      "401",
      answer(401, { error: "Unauthorized/Invalid api key" }),
      { kind: "rejected", detail: "unauthorized" },
    ],
    ["429", answer(429, "Too Many Requests"), { kind: "rejected", detail: "rate_limited" }],
    [
      "503 with a known message is still unknown",
      answer(503, { error: "Trading is currently cancel-only." }),
      { kind: "unknown", detail: "http_503" },
    ],
    [
      "an unknown 400 message",
      answer(400, { error: "could not insert order" }),
      { kind: "unknown", detail: "http_400" },
    ],
    [
      "200 success:false",
      answer(200, { success: false, errorMsg: "", orderID: "0xab", status: "live" }),
      { kind: "unknown", detail: "http_200" },
    ],
    ["a 200 without an order id", answer(200, {}), { kind: "unknown", detail: "http_200" }],
    [
      "timeout",
      [{ kind: "error", mayHaveReached: true, detail: "timeout" }, undefined],
      { kind: "unknown", detail: "timeout" },
    ],
    [
      "refused",
      [{ kind: "error", mayHaveReached: false, detail: "refused" }, undefined],
      { kind: "rejected", detail: "unreachable" },
    ],
  ];
  it.each(cases)("%s", (_n, [out, parsed], expected) => {
    expect(classifyPostOrder(out, parsed)).toEqual(expected);
  });

  it("lists every rejection detail once", () => {
    expect(SEND_REJECTION_DETAILS).toMatchInlineSnapshot(`
      [
        "insufficient_balance",
        "tick_size",
        "min_size",
        "fok_not_filled",
        "invalid_signature",
        "order_version_mismatch",
        "signer_mismatch",
        "owner_mismatch",
        "min_notional",
        "amount_precision",
        "invalid_expiration",
        "invalid_order",
        "unknown_market",
        "market_not_ready",
        "unauthorized",
        "forbidden",
        "rate_limited",
        "unreachable",
        "reduce_only_rejected",
      ]
    `);
  });
});

describe("parseJsonKeepingNumbers", () => {
  it("keeps numbers as their exact text, strings and literals as they are", () => {
    expect(
      parseJsonKeepingNumbers('{"a":0.1,"b":[150.25,-3,1e-7],"c":"9.9","d":true,"e":null,"f":"x\\"1"}'),
    ).toEqual({
      a: "0.1",
      b: ["150.25", "-3", "1e-7"],
      c: "9.9",
      d: true,
      e: null,
      f: 'x"1',
    });
    expect(parseJsonKeepingNumbers("1700000000")).toBe("1700000000");
    expect(parseJsonKeepingNumbers("{nope")).toBeUndefined();
  });
});
