import { type AdminCommand, levelsArg, stringArg } from "../adminServer.js";
import type { BinanceEmulator } from "./binanceEmulator.js";

/**
 * The Binance emulator's admin commands (see `startAdminServer`):
 *
 * | command | body | does |
 * |---|---|---|
 * | `price` | `{symbol, price}` | sets the mark price (resting orders it reaches fill, on a symbol without a book) |
 * | `book` | `{symbol, bids: [[p, q]…], asks: [[p, q]…]}` or `{symbol, clear: true}` | sets the symbol's book (orders trade against it; resting orders it crosses fill), or removes it (trade at the mark again) |
 * | `position` | `{account, symbol, qty}` | sets a position (signed) |
 * | `wallet` | `{account, usdt}` | sets an account's USDT wallet balance |
 * | `orders` | `{account?, symbol?}` | lists the orders accepted |
 */
export function binanceAdminCommands(emu: BinanceEmulator): Record<string, AdminCommand> {
  const listed = (body: Readonly<Record<string, unknown>>): string => {
    const symbol = stringArg(body, "symbol");
    if (emu.state.symbol(symbol) === undefined) throw new TypeError(`symbol ${symbol} is not listed`);
    return symbol;
  };
  return {
    price: (b) => {
      const symbol = listed(b);
      emu.state.setMarkPrice(symbol, stringArg(b, "price"));
      return { symbol, markPrice: emu.state.markPrice(symbol) };
    },
    book: (b) => {
      const symbol = listed(b);
      if (b.clear === true) {
        emu.state.clearDepth(symbol);
        return { symbol, book: "cleared" };
      }
      const qty = (name: string) => levelsArg(b, name).map((l) => ({ price: l.price, qty: l.size }));
      emu.state.setDepth(symbol, { bids: qty("bids"), asks: qty("asks") });
      return { symbol };
    },
    position: (b) => {
      const symbol = listed(b);
      const account = stringArg(b, "account");
      emu.state.setPosition(account, symbol, stringArg(b, "qty"));
      return { account, symbol, position: emu.state.position(account, symbol) };
    },
    wallet: (b) => {
      const account = stringArg(b, "account");
      emu.state.setWalletBalance(account, stringArg(b, "usdt"));
      return { account };
    },
    orders: (b) =>
      emu.state.orders({
        ...(typeof b.account === "string" ? { account: b.account } : {}),
        ...(typeof b.symbol === "string" ? { symbol: b.symbol } : {}),
      }),
  };
}
