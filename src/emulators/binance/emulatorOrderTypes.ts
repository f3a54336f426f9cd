import type { Decimal } from "../../core/decimal.js";

/** Binance order statuses the emulator uses. */
export type EmulatorOrderStatus = "NEW" | "PARTIALLY_FILLED" | "FILLED" | "CANCELED" | "EXPIRED";

/** A new order, parsed from `POST /fapi/v1/order`. */
export interface NewOrder {
  readonly symbol: string;
  readonly side: "BUY" | "SELL";
  readonly type: "MARKET" | "LIMIT";
  readonly timeInForce: "GTC" | "IOC" | "FOK" | "GTX" | undefined;
  readonly qty: Decimal;
  readonly qtyText: string;
  readonly price: Decimal | undefined;
  readonly priceText: string | undefined;
  readonly reduceOnly: boolean;
  readonly clientOrderId: string | undefined;
}

/** One order the emulator accepted, as it stands (decimals as canonical text). */
export interface EmulatorOrder {
  readonly account: string;
  readonly orderId: number;
  readonly clientOrderId: string;
  readonly symbol: string;
  readonly side: "BUY" | "SELL";
  readonly type: "MARKET" | "LIMIT";
  readonly timeInForce: string;
  readonly origQty: string;
  readonly price: string;
  readonly reduceOnly: boolean;
  readonly status: EmulatorOrderStatus;
  readonly executedQty: string;
  readonly avgPrice: string;
  readonly time: number;
  readonly updateTime: number;
}

/** One fill of an account's order (a row of `GET /fapi/v1/userTrades`). */
export interface EmulatorTrade {
  readonly id: number;
  readonly account: string;
  readonly orderId: number;
  readonly symbol: string;
  readonly side: "BUY" | "SELL";
  readonly price: Decimal;
  readonly qty: Decimal;
  /** True when the order was resting (maker) when it filled. */
  readonly maker: boolean;
  readonly time: number;
}
