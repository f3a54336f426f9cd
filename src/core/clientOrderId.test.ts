import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  BINANCE_CLIENT_ORDER_ID_MAX_LENGTH,
  CLIENT_ORDER_ID_MAX_LENGTH,
  clientOrderId,
  isClientOrderId,
} from "./clientOrderId.js";
import { PLAN_ID_RE } from "./planSchema.js";

/** Binance's client order id grammar, the strictest venue's. */
const BINANCE_RE = /^[.A-Z:/a-z0-9_-]{1,36}$/;
const planId = fc.stringMatching(/^[A-Za-z0-9._:-]{1,64}$/);

describe("clientOrderId", () => {
  it("is deterministic", () => {
    fc.assert(
      fc.property(planId, (id) => {
        expect(clientOrderId(id)).toBe(clientOrderId(id));
      }),
    );
  });

  it("always fits the venue grammar, for every valid plan_id", () => {
    fc.assert(
      fc.property(planId, (id) => {
        expect(PLAN_ID_RE.test(id)).toBe(true);
        expect(clientOrderId(id)).toMatch(BINANCE_RE);
      }),
      { numRuns: 1000 },
    );
  });

  it("keeps short plan_ids readable, hashes long ones", () => {
    expect(clientOrderId("a")).toBe("ig-a");
    const at33 = "b".repeat(33);
    expect(clientOrderId(at33)).toBe(`ig-${at33}`);
    const at34 = "b".repeat(34);
    expect(clientOrderId(at34)).not.toContain(at34);
    expect(clientOrderId(at34)).toHaveLength(36);
    expect(clientOrderId("c".repeat(64))).toMatch(BINANCE_RE);
  });

  it("gives distinct ids to distinct plan_ids in a sample", () => {
    fc.assert(
      fc.property(fc.uniqueArray(planId, { minLength: 2, maxLength: 200 }), (ids) => {
        expect(new Set(ids.map(clientOrderId)).size).toBe(ids.length);
      }),
      { numRuns: 200 },
    );
  });

  it("distinct ids around the 33/34-character boundary", () => {
    const ids = [
      "x".repeat(32),
      "x".repeat(33),
      "x".repeat(34),
      "x".repeat(35),
      "x".repeat(64),
      `${"x".repeat(33)}.`,
    ];
    expect(new Set(ids.map(clientOrderId)).size).toBe(ids.length);
  });

  it("a short plan_id cannot be chosen to collide with a hashed long one", () => {
    // A 33-char plan_id "h-<31 base64url chars>" is kept verbatim as "ig-h-<…>", which is
    // exactly the form a hashed long plan_id takes: anyone can pick one that collides.
    const longId = `victim-${"L".repeat(40)}`;
    const digest = createHash("sha256").update(longId, "utf8").digest("base64url").slice(0, 31);
    const forged = `h-${digest}`;
    expect(PLAN_ID_RE.test(forged)).toBe(true);
    expect(forged).not.toBe(longId);
    expect(clientOrderId(forged)).not.toBe(clientOrderId(longId));
  });
});

describe("isClientOrderId", () => {
  it("is Binance's grammar at Binance's length, the same alphabet up to 64 by default", () => {
    const id = fc.stringMatching(/^[\s\S]{0,70}$/);
    fc.assert(
      fc.property(id, (text) => {
        expect(isClientOrderId(text, BINANCE_CLIENT_ORDER_ID_MAX_LENGTH)).toBe(BINANCE_RE.test(text));
        expect(isClientOrderId(text)).toBe(/^[.A-Z:/a-z0-9_-]{1,64}$/.test(text));
      }),
      { numRuns: 1000 },
    );
    expect(CLIENT_ORDER_ID_MAX_LENGTH).toBe(64);
    expect(isClientOrderId("ig:plan/1.a_b-C")).toBe(true);
    expect(isClientOrderId("")).toBe(false);
    expect(isClientOrderId("a\n")).toBe(false);
    expect(isClientOrderId("a b")).toBe(false);
    expect(isClientOrderId("x".repeat(37), BINANCE_CLIENT_ORDER_ID_MAX_LENGTH)).toBe(false);
    expect(isClientOrderId("x".repeat(64))).toBe(true);
    expect(isClientOrderId("x".repeat(65))).toBe(false);
    expect(isClientOrderId(42)).toBe(false);
  });

  it("accepts every id clientOrderId derives, at Binance's length", () => {
    fc.assert(
      fc.property(planId, (id) => {
        expect(isClientOrderId(clientOrderId(id), BINANCE_CLIENT_ORDER_ID_MAX_LENGTH)).toBe(true);
      }),
    );
  });
});
