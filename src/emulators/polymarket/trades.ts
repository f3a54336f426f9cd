import { randomBytes, randomUUID } from "node:crypto";
import type { EmulatorOrder } from "./emulatorExchange.js";
import { unitsText } from "./emulatorExchange.js";

/** The condition id the emulator reports for every market (it keeps no conditions). */
export const EMULATOR_CONDITION_ID = `0x${"0".repeat(64)}`;

/** One fill of a user's order: as taker (it crossed the book) or maker (the book came to it). */
export interface EmulatorTrade {
  readonly id: string;
  readonly order: EmulatorOrder;
  readonly traderSide: "TAKER" | "MAKER";
  /** Shares, base units. */
  readonly units: bigint;
  readonly price: string;
  /** Seconds. */
  readonly matchTime: number;
  readonly transactionHash: string;
}

/** A new trade of `order`. */
export function newTrade(
  order: EmulatorOrder,
  t: { readonly traderSide: "TAKER" | "MAKER"; readonly units: bigint; readonly nowMs: number },
): EmulatorTrade {
  return {
    id: randomUUID(),
    order,
    traderSide: t.traderSide,
    units: t.units,
    price: order.price,
    matchTime: Math.floor(t.nowMs / 1000),
    transactionHash: `0x${randomBytes(32).toString("hex")}`,
  };
}

/**
 * A trade as `GET /data/trades` gives it (clob-client-v2's `Trade`): settled
 * at once (`CONFIRMED`, with a transaction hash), no fees. A MAKER trade
 * lists the user's order in `maker_orders`; the taker is the emulated book.
 */
export function tradeView(t: EmulatorTrade): Record<string, unknown> {
  const o = t.order;
  const size = unitsText(t.units);
  const common = {
    id: t.id,
    market: EMULATOR_CONDITION_ID,
    asset_id: o.tokenId,
    size,
    fee_rate_bps: "0",
    price: t.price,
    status: "CONFIRMED",
    match_time: String(t.matchTime),
    last_update: String(t.matchTime),
    outcome: "YES",
    bucket_index: 0,
    owner: o.owner,
    maker_address: o.maker,
    transaction_hash: t.transactionHash,
    trader_side: t.traderSide,
  };
  if (t.traderSide === "TAKER")
    return { ...common, taker_order_id: o.orderHash, side: o.side, maker_orders: [] };
  return {
    ...common,
    taker_order_id: `0x${"f".repeat(64)}`,
    side: o.side === "BUY" ? "SELL" : "BUY",
    maker_orders: [
      {
        order_id: o.orderHash,
        owner: o.owner,
        maker_address: o.maker,
        matched_amount: size,
        price: t.price,
        fee_rate_bps: "0",
        asset_id: o.tokenId,
        outcome: "YES",
        side: o.side,
      },
    ],
  };
}
