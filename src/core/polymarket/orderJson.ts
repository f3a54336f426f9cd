import { parseAddress } from "../evm/address.js";
import { fitsType, parseStaticText, parseUintText, staticText } from "../evm/eip712.js";
import type { CtfOrderVersion, JsonKind, OrderValues, OrderVersion } from "./ctfOrder.js";

/**
 * The `order` object of `POST /order`, member for member as
 * @polymarket/clob-client-v2@1.1.0 writes it (`orderToJsonV1/V2`): what the
 * venue adapter sends and the emulator reads back. The members and how each
 * is written are the version's row of `CTF_ORDER_VERSIONS`.
 */

/** The JSON `order` of `POST /order` for an order's values and its signature. */
export function orderJson(
  spec: CtfOrderVersion,
  values: OrderValues,
  signature: string,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { name, kind } of spec.json) {
    const v = values[name] ?? 0n;
    switch (kind) {
      case "number":
        if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`${name} does not fit a JSON number`);
        out[name] = Number(v);
        break;
      case "side":
        out[name] = v === 0n ? "BUY" : "SELL";
        break;
      case "address":
      case "bytes32":
        out[name] = staticText(kind, v);
        break;
      case "uint":
        out[name] = v.toString();
        break;
    }
  }
  out.signature = signature;
  return out;
}

/** The version a posted JSON `order` is of: by the members only one version has. */
export function versionOfJson(order: Readonly<Record<string, unknown>>): OrderVersion | undefined {
  const has = (k: string) => Object.hasOwn(order, k);
  if (has("timestamp") || has("metadata") || has("builder")) return "2";
  if (has("nonce") || has("feeRateBps")) return "1";
  return undefined;
}

/**
 * Reads a posted JSON `order` of `spec`'s version back into values; the first
 * malformed member is named. Salt and signature type are JSON numbers (a
 * decimal string is accepted too); `taker`, when a V2 order has it, must be
 * the zero address.
 */
export function readOrderJson(
  spec: CtfOrderVersion,
  order: Readonly<Record<string, unknown>>,
): { readonly ok: true; readonly values: OrderValues } | { readonly ok: false; readonly field: string } {
  const values: Record<string, bigint> = {};
  for (const { name, kind } of spec.json) {
    const raw = Object.hasOwn(order, name) ? order[name] : undefined;
    const v = readJsonValue(kind, raw);
    if (v === undefined) return { ok: false, field: name };
    values[name] = v;
  }
  if (Object.hasOwn(order, "taker") && !spec.json.some((m) => m.name === "taker")) {
    if (parseAddress(order.taker) !== 0n) return { ok: false, field: "taker" };
  }
  for (const { name, type } of spec.struct) {
    const v = values[name];
    if (v === undefined || !fitsType(type, v)) return { ok: false, field: name };
  }
  return { ok: true, values };
}

function readJsonValue(kind: JsonKind, raw: unknown): bigint | undefined {
  switch (kind) {
    case "number":
      if (typeof raw === "number") return Number.isSafeInteger(raw) && raw >= 0 ? BigInt(raw) : undefined;
      return parseUintText(raw);
    case "uint":
      return parseUintText(raw);
    case "address":
    case "bytes32":
      return parseStaticText(kind, raw);
    case "side":
      return raw === "BUY" ? 0n : raw === "SELL" ? 1n : undefined;
  }
}
