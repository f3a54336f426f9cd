import { describe, expect, it } from "vitest";
import { readmeReasonTable } from "../../test/architecture/docTables.js";
import { baseCode, isRegisteredReason, REASON_CODES, REASON_REGISTRY, reason } from "./reasons.js";

describe("reason codes", () => {
  it("the README documents every code with its gate, and no code that does not exist", () => {
    const table = readmeReasonTable();
    expect(Object.fromEntries([...table].map(([code, row]) => [code, row.gate]))).toEqual(REASON_CODES);
  });

  it("the README lists every registered detail of every code, and no other", () => {
    for (const [code, row] of readmeReasonTable()) {
      const spec = REASON_REGISTRY[code as keyof typeof REASON_REGISTRY];
      expect(row.details, code).toEqual(Object.keys(spec.details));
      expect(row.bare, code).toBe(spec.bare);
    }
  });

  it("every detail has a meaning and every code a gate in wire order", () => {
    let gate = 0;
    for (const [code, spec] of Object.entries(REASON_REGISTRY)) {
      expect(spec.gate, code).toBeGreaterThanOrEqual(gate);
      gate = spec.gate;
      expect(spec.meaning.length, code).toBeGreaterThan(10);
      expect(spec.bare || Object.keys(spec.details).length > 0, code).toBe(true);
      for (const [d, meaning] of Object.entries(spec.details))
        expect(meaning.length, `${code}:${d}`).toBeGreaterThan(5);
    }
  });

  it("builds and splits codes with details", () => {
    expect(reason("limit", "max_qty")).toBe("limit:max_qty");
    expect(reason("trading_halted")).toBe("trading_halted");
    expect(baseCode("NOT_EXIT_OWNER:source=a:b")).toBe("NOT_EXIT_OWNER");
    expect(baseCode("stale_plan")).toBe("stale_plan");
  });

  it("recognises registered reasons at run time, parameters included, and nothing else", () => {
    for (const ok of [
      "trading_halted",
      "limit:max_qty",
      "source_not_allowed:bot_7",
      "NOT_EXIT_OWNER:source=a:b",
      "venue_error:binance:-4061",
      "venue_error:http_503",
      "signer_denied:payload_mismatch:qty",
      "signer_denied:policy:max_notional",
      "internal_error",
      "internal_error:delivery_limit",
    ])
      expect(isRegisteredReason(ok), ok).toBe(true);
    for (const bad of [
      "",
      "limit",
      "limit:",
      "limit:max_qtyy",
      "venue_error:made_up",
      "venue_error:http_",
      "NOT_EXIT_OWNER:bob",
      "signer_denied:nope",
      "not_a_code",
      "__proto__",
      "toString:x",
    ])
      expect(isRegisteredReason(bad), bad).toBe(false);
  });
});
