/**
 * Exact fixed-point decimals for quantities, prices and positions.
 *
 * A {@link Decimal} is a bigint count of 10^-18 units, so every value the wire
 * grammar allows (up to 18 fractional digits) is held exactly. Money never
 * touches a float.
 */
export type Decimal = bigint & { readonly __decimal: unique symbol };

/** Number of fractional digits every {@link Decimal} carries. */
export const DECIMAL_SCALE = 18;
/** 1 as a {@link Decimal}'s integer: 10^18. */
export const DECIMAL_ONE = 10n ** BigInt(DECIMAL_SCALE);
const ZEROS = "0".repeat(DECIMAL_SCALE);

/** The wire grammar for unsigned decimals (wire-v1 §3). */
export const UNSIGNED_DECIMAL_RE = /^(0|[1-9][0-9]*)(\.[0-9]{1,18})?$/;
const SIGNED_DECIMAL_RE = /^-?(0|[1-9][0-9]*)(\.[0-9]{1,18})?$/;

/** Zero. */
export const ZERO = 0n as Decimal;

/**
 * Parses a decimal string (optionally signed) exactly; returns `undefined` when
 * the text does not match the grammar.
 * @example parseDecimal("0.001") // 1000000000000000n
 */
export function parseDecimal(text: string, opts: { signed?: boolean } = {}): Decimal | undefined {
  if (!(opts.signed ? SIGNED_DECIMAL_RE : UNSIGNED_DECIMAL_RE).test(text)) return undefined;
  // One BigInt conversion of the digits with the fraction padded to 18 places.
  const negative = text.charCodeAt(0) === 0x2d; /* - */
  const start = negative ? 1 : 0;
  const dot = text.indexOf(".");
  const digits =
    dot < 0
      ? text.slice(start) + ZEROS
      : text.slice(start, dot) + text.slice(dot + 1) + ZEROS.slice(text.length - dot - 1);
  const units = BigInt(digits);
  return (negative ? -units : units) as Decimal;
}

/**
 * Canonical text of a decimal: no exponent, no trailing fractional zeros,
 * `"0"` for zero, a leading `-` for negatives. Equal values give equal text.
 */
export function formatDecimal(value: Decimal): string {
  const negative = value < 0n;
  const abs = negative ? -value : value;
  // String slicing of the digits is cheaper than BigInt division.
  const digits = abs.toString().padStart(DECIMAL_SCALE + 1, "0");
  const point = digits.length - DECIMAL_SCALE;
  let end = digits.length;
  while (end > point && digits.charCodeAt(end - 1) === 0x30 /* 0 */) end--;
  const text = end > point ? `${digits.slice(0, point)}.${digits.slice(point, end)}` : digits.slice(0, point);
  return negative ? `-${text}` : text;
}

/** a + b */
export const addDecimal = (a: Decimal, b: Decimal): Decimal => (a + b) as Decimal;
/** a - b */
export const subDecimal = (a: Decimal, b: Decimal): Decimal => (a - b) as Decimal;
/** -a */
export const negDecimal = (a: Decimal): Decimal => -a as Decimal;
/** |a| */
export const absDecimal = (a: Decimal): Decimal => (a < 0n ? -a : a) as Decimal;

/** Compares a × b with limit exactly (no rounding): -1, 0 or 1. */
export function compareProduct(a: Decimal, b: Decimal, limit: Decimal): -1 | 0 | 1 {
  const lhs = a * b;
  const rhs = limit * DECIMAL_ONE;
  return lhs < rhs ? -1 : lhs > rhs ? 1 : 0;
}

/**
 * a × b rounded up to the decimal scale (never down, so a cap compared with a
 * sum of these is never passed by a rounding error).
 */
export function mulDecimalUp(a: Decimal, b: Decimal): Decimal {
  return ((a * b + DECIMAL_ONE - 1n) / DECIMAL_ONE) as Decimal;
}

/** The larger of two decimals. */
export const maxDecimal = (a: Decimal, b: Decimal): Decimal => (a > b ? a : b);

/**
 * A signed decimal that must be one (read back from stored state, or an
 * adapter's canonical answer): `what` names it in the error thrown when the
 * text is not one, so nothing is decided on a guess (a function when naming
 * it costs more than the hot path should pay).
 */
export function storedDecimal(text: string, what: string | (() => string)): Decimal {
  const d = parseDecimal(text, SIGNED);
  if (d === undefined)
    throw new Error(`${typeof what === "string" ? what : what()} ${JSON.stringify(text)} is not a decimal`);
  return d;
}

const SIGNED = { signed: true } as const;
