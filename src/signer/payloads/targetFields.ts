import { DECIMAL_ONE, type Decimal, parseDecimal } from "../../core/decimal.js";
import type { BindOutcome } from "../payloadKind.js";

/** A read of one `target` field: absent, a valid value, or present but malformed. */
export type TargetRead<T> = { readonly ok: true; readonly value: T | undefined } | { readonly ok: false };

const ABSENT = { ok: true, value: undefined } as const;
const MALFORMED = { ok: false } as const;

/** The denial `payload_mismatch:<field>` as a {@link BindOutcome}. */
export const mismatch = (field: string): BindOutcome => ({ ok: false, field });

/** The own value of `key` in `target` (never one inherited from a prototype). */
export function ownField(target: Readonly<Record<string, unknown>>, key: string): unknown {
  return Object.hasOwn(target, key) ? target[key] : undefined;
}

/**
 * A decimal `target` field: a wire-grammar string, or a finite number whose
 * `String(n)` matches the grammar (wire-v1 §3), and > 0 when `positive`.
 * @example readTargetDecimal({ qty: "0.5" }, "qty", true) // { ok: true, value: 500000000000000000n }
 */
export function readTargetDecimal(
  target: Readonly<Record<string, unknown>>,
  key: string,
  positive: boolean,
): TargetRead<Decimal> {
  const raw = ownField(target, key);
  if (raw === undefined) return ABSENT;
  const text = typeof raw === "string" ? raw : typeof raw === "number" ? String(raw) : undefined;
  const value = text === undefined ? undefined : parseDecimal(text);
  if (value === undefined || (positive && value <= 0n)) return MALFORMED;
  return { ok: true, value };
}

/** A non-empty string `target` field. */
export function readTargetString(target: Readonly<Record<string, unknown>>, key: string): TargetRead<string> {
  const raw = ownField(target, key);
  if (raw === undefined) return ABSENT;
  return typeof raw === "string" && raw.length > 0 ? { ok: true, value: raw } : MALFORMED;
}

/** `target.side`: exactly `BUY` or `SELL` (wire-v1 §3). */
export function readTargetSide(target: Readonly<Record<string, unknown>>): TargetRead<"BUY" | "SELL"> {
  const raw = ownField(target, "side");
  if (raw === undefined) return ABSENT;
  return raw === "BUY" || raw === "SELL" ? { ok: true, value: raw } : MALFORMED;
}

/** `target.reduce_only`: a real boolean, `false` when absent (wire-v1 §3). */
export function readTargetReduceOnly(target: Readonly<Record<string, unknown>>): TargetRead<boolean> {
  const raw = ownField(target, "reduce_only");
  if (raw === undefined) return { ok: true, value: false };
  return typeof raw === "boolean" ? { ok: true, value: raw } : MALFORMED;
}

/** a × b, rounded up to the next 10^-18 (a notional for limits is never under-counted). Both ≥ 0. */
export function mulDecimalCeil(a: Decimal, b: Decimal): Decimal {
  return ((a * b + DECIMAL_ONE - 1n) / DECIMAL_ONE) as Decimal;
}
