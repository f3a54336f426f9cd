import { isRecord } from "./isRecord.js";
import type { CancelRecord } from "./liveCancel.js";
import type { SendRecord } from "./liveOrder.js";
import type { VenueName } from "./plan.js";
import { decodeWorkingOrder, encodeWorkingOrder, type WorkingOrder } from "./workingOrder.js";

/**
 * What the ledger keeps for an entry whose request may have reached a live
 * venue (wire-v1 §6 `UNKNOWN`): while it is being sent (stage 1 until
 * `Ledger.finishSend`), and after, as an open UNKNOWN until reconciled.
 * A live order's {@link SendRecord}, or a live cancel plan's
 * {@link CancelRecord}.
 */
export type OpenRecord = SendRecord | CancelRecord;

/** Whether the record is a cancel plan's. */
export const isCancelRecord = (record: OpenRecord): record is CancelRecord => record.kind === "cancel";

/** The venue an open record is at. */
export const recordVenue = (record: OpenRecord): VenueName =>
  isCancelRecord(record) ? record.venue : record.ref.venue;

/** Reads a stored open record (ledger text); undefined when it is not one. */
export function parseOpenRecord(text: string): OpenRecord | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isRecord(v)) return undefined;
  const common =
    (v.lane === "main" || v.lane === "manual") &&
    typeof v.streamId === "string" &&
    typeof v.startedAt === "number" &&
    isRecord(v.result);
  if (!common) return undefined;
  if (v.kind === "cancel") {
    const ok =
      (v.venue === "binance-usdm" || v.venue === "polymarket") &&
      Array.isArray(v.orders) &&
      v.orders.every(isWorkingOrder) &&
      typeof v.canceled === "boolean" &&
      (v.refused === null || typeof v.refused === "string") &&
      typeof v.detail === "string";
    return ok ? (v as unknown as CancelRecord) : undefined;
  }
  const ref = v.ref;
  const ok =
    (v.kind === undefined || v.kind === "order") &&
    isRecord(ref) &&
    typeof ref.venue === "string" &&
    typeof ref.account === "string" &&
    typeof ref.symbol === "string" &&
    typeof ref.clientOrderId === "string" &&
    typeof ref.venueRef === "string" &&
    (v.working === undefined || isWorkingOrder(v.working));
  return ok ? (v as unknown as SendRecord) : undefined;
}

function isWorkingOrder(value: unknown): boolean {
  try {
    decodeWorkingOrder(encodeWorkingOrder(value as WorkingOrder));
    return true;
  } catch {
    return false;
  }
}
