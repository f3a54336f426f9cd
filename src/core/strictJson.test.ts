import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MAX_JSON_DEPTH, nestingExceeds, parseStrictJson } from "./strictJson.js";

const nested = (depth: number, open = "[", close = "]") => open.repeat(depth) + close.repeat(depth);

describe("parseStrictJson: nesting depth (no input can exhaust the stack)", () => {
  it("accepts MAX_JSON_DEPTH levels and refuses one more as too_deep", () => {
    expect(parseStrictJson(nested(MAX_JSON_DEPTH))).toMatchObject({ ok: true });
    expect(parseStrictJson(nested(MAX_JSON_DEPTH + 1))).toEqual({ ok: false, error: "too_deep" });
  });

  it("refuses 5,500 nested arrays inside meta (the observed poison entry) without throwing", () => {
    const text = `{"v":1,"meta":{"x":${nested(5500)}}}`;
    expect(() => parseStrictJson(text)).not.toThrow();
    expect(parseStrictJson(text)).toEqual({ ok: false, error: "too_deep" });
  });

  it("a million open brackets (invalid JSON) is refused without throwing", () => {
    expect(parseStrictJson("[".repeat(1_000_000))).toEqual({ ok: false, error: "too_deep" });
    expect(parseStrictJson("{".repeat(1_000_000))).toEqual({ ok: false, error: "too_deep" });
  });

  it("brackets inside strings do not count, escaped quotes do not end a string", () => {
    const deepString = JSON.stringify({ s: `${"[".repeat(100)}\\"${"{".repeat(100)}` });
    expect(nestingExceeds(deepString, 2)).toBe(false);
    expect(parseStrictJson(deepString)).toMatchObject({ ok: true });
  });

  it("counts objects and arrays alike", () => {
    const mixed = `${'{"a":['.repeat(MAX_JSON_DEPTH / 2)}1${"]}".repeat(MAX_JSON_DEPTH / 2)}`;
    expect(parseStrictJson(mixed)).toMatchObject({ ok: true });
    expect(parseStrictJson(`[${mixed}]`)).toEqual({ ok: false, error: "too_deep" });
  });

  it("still finds a repeated key at the deepest allowed level", () => {
    const inner = '{"k":1,"k":2}';
    const text = "[".repeat(MAX_JSON_DEPTH - 1) + inner + "]".repeat(MAX_JSON_DEPTH - 1);
    expect(parseStrictJson(text)).toEqual({ ok: false, error: "duplicate_key" });
  });

  it("never throws on any string (property)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 300 }), (s) => {
        const out = parseStrictJson(s);
        expect(typeof out.ok).toBe("boolean");
      }),
      { numRuns: 2000 },
    );
  });

  it("agrees with JSON.parse on any shallow value without repeated keys (property)", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (v) => {
        const text = JSON.stringify(v);
        const out = parseStrictJson(text);
        expect(out).toEqual({ ok: true, value: JSON.parse(text) });
      }),
      { numRuns: 500 },
    );
  });
});
