import { describe, expect, it } from "vitest";
import { AlertStateError } from "./alertDeliveryError.js";
import { retryDelayMs } from "./backoff.js";
import { decodeState, encodeState } from "./deliveryState.js";

describe("delivery state", () => {
  it("round-trips through its stored form", () => {
    const state = {
      cursor: "7-0",
      pending: [
        {
          id: "6-0",
          text: '{"kind":"k"}',
          sinks: new Map([
            ["webhook", { attempts: 2, nextAt: 1000, since: 10, reason: "http_503" }],
            ["cmd", { attempts: 0, nextAt: 10, since: 10, reason: null }],
          ]),
        },
      ],
    };
    expect(decodeState(encodeState(state))).toEqual(state);
  });

  it("refuses anything else with AlertStateError", () => {
    for (const bad of [
      "",
      "{",
      "[]",
      '{"v":2,"cursor":"0","pending":[]}',
      '{"v":1,"cursor":"0","pending":[{"id":"1-0"}]}',
      '{"v":1,"cursor":"0","pending":[{"id":"1-0","text":"{}","sinks":{"w":{"attempts":"1"}}}]}',
    ])
      expect(() => decodeState(bad)).toThrow(AlertStateError);
  });
});

describe("retryDelayMs", () => {
  const opts = { baseMs: 100, maxMs: 1000, jitter: 0 };
  it("doubles from the base up to the cap", () => {
    expect([1, 2, 3, 4, 5, 60].map((n) => retryDelayMs(n, opts))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });
  it("takes a random part of up to `jitter` off", () => {
    expect(retryDelayMs(3, { ...opts, jitter: 0.5 }, () => 0)).toBe(400);
    expect(retryDelayMs(3, { ...opts, jitter: 0.5 }, () => 0.999999)).toBe(200);
  });
});
