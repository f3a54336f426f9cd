import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  absDecimal,
  addDecimal,
  compareProduct,
  DECIMAL_SCALE,
  type Decimal,
  formatDecimal,
  maxDecimal,
  negDecimal,
  parseDecimal,
  subDecimal,
  UNSIGNED_DECIMAL_RE,
  ZERO,
} from "./decimal.js";

const ONE = 10n ** 18n;
const d = (x: bigint) => x as Decimal;

/** Text in the wire grammar, as its integer digits and fractional digits. */
const grammarText = fc
  .tuple(
    fc.oneof(fc.constant("0"), fc.stringMatching(/^[1-9][0-9]{0,30}$/)),
    fc.option(fc.stringMatching(/^[0-9]{1,18}$/), { nil: undefined }),
  )
  .map(([int, frac]) => ({ int, frac, text: frac === undefined ? int : `${int}.${frac}` }));

const canonicalRe = /^-?(0|[1-9][0-9]*)(\.[0-9]{0,17}[1-9])?$/;

describe("parseDecimal grammar (wire-v1 §3)", () => {
  it.each([
    ["0", 0n],
    ["0.0", 0n],
    ["1", ONE],
    ["1.5", ONE + ONE / 2n],
    ["0.000000000000000001", 1n],
    ["123456789012345678901234567890", 123456789012345678901234567890n * ONE],
    ["10.100000000000000000", 10n * ONE + ONE / 10n],
  ])("accepts %s", (text, units) => {
    expect(parseDecimal(text)).toBe(units);
  });

  it.each([
    "",
    " ",
    "-",
    "+1",
    "-1",
    "-0",
    "01",
    "00",
    "00.1",
    "1.",
    ".1",
    ".",
    "1e3",
    "1E3",
    "1e-7",
    "Infinity",
    "NaN",
    "0x10",
    "1_000",
    "1,5",
    " 1",
    "1 ",
    "1\n",
    "١",
    "１",
    "1.0000000000000000000",
    `0.${"1".repeat(19)}`,
    "1..2",
    "1.2.3",
  ])("refuses %j unsigned", (text) => {
    expect(parseDecimal(text)).toBeUndefined();
    expect(UNSIGNED_DECIMAL_RE.test(text)).toBe(false);
  });

  it.each([
    ["-1.5", -(ONE + ONE / 2n)],
    ["-0", 0n],
    ["-0.000000000000000001", -1n],
  ])("accepts signed %s", (text, units) => {
    expect(parseDecimal(text, { signed: true })).toBe(units);
  });

  it.each(["--1", "-", "+1", "-01", "- 1", "-.5", "1-"])("refuses signed %j", (text) => {
    expect(parseDecimal(text, { signed: true })).toBeUndefined();
  });

  it("values any grammar text exactly: parse(s) * 10^k == digits * 10^18", () => {
    fc.assert(
      fc.property(grammarText, ({ int, frac, text }) => {
        const k = frac?.length ?? 0;
        const value = parseDecimal(text);
        expect(value).toBeDefined();
        expect((value as bigint) * 10n ** BigInt(k)).toBe(BigInt(int + (frac ?? "")) * ONE);
      }),
    );
  });

  it("accepts exactly what the grammar regex accepts", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.stringMatching(/^-?[0-9.eE+-]{0,24}$/)), (text) => {
        expect(parseDecimal(text) !== undefined).toBe(UNSIGNED_DECIMAL_RE.test(text));
        expect(parseDecimal(text, { signed: true }) !== undefined).toBe(
          /^-?(0|[1-9][0-9]*)(\.[0-9]{1,18})?$/.test(text),
        );
      }),
    );
  });
});

describe("formatDecimal", () => {
  it.each([
    [0n, "0"],
    [-0n, "0"],
    [ONE, "1"],
    [-ONE, "-1"],
    [1n, "0.000000000000000001"],
    [-1n, "-0.000000000000000001"],
    [ONE * 65000n, "65000"],
    [ONE / 4n, "0.25"],
    [-(ONE * 3n) / 4n, "-0.75"],
  ])("formats %s as %s", (units, text) => {
    expect(formatDecimal(d(units))).toBe(text);
  });

  it("round trips every value: parse(format(x)) == x, canonical text", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }), (x) => {
        const text = formatDecimal(d(x));
        expect(text).toMatch(canonicalRe);
        expect(parseDecimal(text, { signed: true })).toBe(x);
        if (x >= 0n) expect(parseDecimal(text)).toBe(x);
      }),
    );
  });

  it("round trips grammar text to its canonical form", () => {
    fc.assert(
      fc.property(grammarText, ({ text }) => {
        const canonical = text.includes(".") ? text.replace(/0+$/, "").replace(/\.$/, "") : text;
        expect(formatDecimal(parseDecimal(text) as Decimal)).toBe(canonical);
      }),
    );
  });

  it("gives equal text exactly for equal values", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }),
        fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }),
        (a, b) => {
          expect(formatDecimal(d(a)) === formatDecimal(d(b))).toBe(a === b);
        },
      ),
    );
  });
});

/** Reference: compares the exact rational values of decimal texts, without the 10^18 representation. */
function referenceCompare(a: string, b: string, limit: string): -1 | 0 | 1 {
  const split = (t: string): [bigint, number] => {
    const neg = t.startsWith("-");
    const [i, f = ""] = (neg ? t.slice(1) : t).split(".") as [string, string?];
    const digits = BigInt(i + f);
    return [neg ? -digits : digits, f.length];
  };
  const [ad, as] = split(a);
  const [bd, bs] = split(b);
  const [ld, ls] = split(limit);
  const lhs = ad * bd * 10n ** BigInt(ls);
  const rhs = ld * 10n ** BigInt(as + bs);
  return lhs < rhs ? -1 : lhs > rhs ? 1 : 0;
}

describe("compareProduct", () => {
  it.each([
    ["0.1", "0.2", "0.02", 0],
    ["2000", "125", "250000", 0],
    ["2000.000000000000000001", "125", "250000", 1],
    ["1999.999999999999999999", "125", "250000", -1],
    ["0.000000000000000001", "0.000000000000000001", "0", 1],
    ["3", "0.333333333333333333", "1", -1],
    ["4", "65000", "250000", 1],
  ])("%s × %s vs %s", (a, b, limit, expected) => {
    expect(compareProduct(parseDecimal(a)!, parseDecimal(b)!, parseDecimal(limit)!)).toBe(expected);
  });

  it("agrees with an exact rational reference", () => {
    const signedText = fc
      .tuple(fc.boolean(), grammarText)
      .map(([neg, { text }]) => (neg ? `-${text}` : text));
    fc.assert(
      fc.property(signedText, signedText, signedText, (a, b, limit) => {
        const got = compareProduct(
          parseDecimal(a, { signed: true })!,
          parseDecimal(b, { signed: true })!,
          parseDecimal(limit, { signed: true })!,
        );
        expect(got).toBe(referenceCompare(a, b, limit));
      }),
      { numRuns: 500 },
    );
  });

  it("is 0 exactly at the product, ±1 a unit either side", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 30n }),
        fc.bigInt({ min: 0n, max: 10n ** 30n }),
        (a, b) => {
          const product = a * b;
          if (product % ONE !== 0n) {
            // Not representable: never equal to any limit.
            const below = product / ONE;
            expect(compareProduct(d(a), d(b), d(below))).toBe(1);
            expect(compareProduct(d(a), d(b), d(below + 1n))).toBe(-1);
            return;
          }
          const exact = product / ONE;
          expect(compareProduct(d(a), d(b), d(exact))).toBe(0);
          expect(compareProduct(d(a), d(b), d(exact + 1n))).toBe(-1);
          expect(compareProduct(d(a), d(b), d(exact - 1n))).toBe(1);
          expect(compareProduct(d(b), d(a), d(exact))).toBe(0);
        },
      ),
    );
  });
});

describe("decimal arithmetic", () => {
  const big = fc.bigInt({ min: -(10n ** 36n), max: 10n ** 36n });
  it("add, sub, neg, abs, max are exact bigint arithmetic", () => {
    fc.assert(
      fc.property(big, big, (a, b) => {
        expect(addDecimal(d(a), d(b))).toBe(a + b);
        expect(subDecimal(d(a), d(b))).toBe(a - b);
        expect(negDecimal(d(a))).toBe(-a);
        expect(absDecimal(d(a))).toBe(a < 0n ? -a : a);
        expect(maxDecimal(d(a), d(b))).toBe([a, b].sort((x, y) => (x < y ? 1 : x > y ? -1 : 0))[0]);
        expect(subDecimal(addDecimal(d(a), d(b)), d(b))).toBe(a);
      }),
    );
  });

  it("has 18 fractional digits and a zero", () => {
    expect(DECIMAL_SCALE).toBe(18);
    expect(ZERO).toBe(0n);
    expect(formatDecimal(addDecimal(parseDecimal("0.1")!, parseDecimal("0.2")!))).toBe("0.3");
  });
});
