import { DECIMAL_ONE, formatDecimal, parseDecimal } from "../../core/decimal.js";
import { type AdminCommand, levelsArg, stringArg } from "../adminServer.js";
import type { PolymarketEmulator } from "./polymarketEmulator.js";

const DEFAULT_SIZE = "1000";

/**
 * The Polymarket emulator's admin commands (see `startAdminServer`); a
 * market is named by its outcome token id (`symbol`):
 *
 * | command | body | does |
 * |---|---|---|
 * | `book` | `{symbol, bids: [[p, size]…], asks: [[p, size]…]}` | replaces the market's book; resting orders it crosses fill |
 * | `price` | `{symbol, price, size?}` | the market at `price`: one ask at `price` and one bid a tick below, `size` shares each (default 1000) |
 * | `balance` | `{address, symbol, shares}` | sets an address's token balance |
 * | `collateral` | `{address, usdc}` | sets an address's USDC (`usdc: null`: unlimited) |
 */
export function polymarketAdminCommands(emu: PolymarketEmulator): Record<string, AdminCommand> {
  const listed = (body: Readonly<Record<string, unknown>>): { token: string; tick: string } => {
    const token = stringArg(body, "symbol");
    const tick = emu.tickSize(token);
    if (tick === undefined) throw new TypeError(`market ${token} is not listed`);
    return { token, tick };
  };
  return {
    book: (b) => {
      const { token } = listed(b);
      emu.setBook(token, { bids: levelsArg(b, "bids"), asks: levelsArg(b, "asks") });
      return { symbol: token };
    },
    price: (b) => {
      const { token, tick } = listed(b);
      const priceText = stringArg(b, "price");
      const size = b.size === undefined ? DEFAULT_SIZE : stringArg(b, "size");
      const price = parseDecimal(priceText);
      const t = parseDecimal(tick)!;
      if (price === undefined || price < t || price > DECIMAL_ONE - t)
        throw new TypeError(`price must be a decimal between ${tick} and 1 - ${tick}`);
      const bid = price - t;
      emu.setBook(token, {
        bids: bid >= t ? [{ price: formatDecimal(bid as typeof price), size }] : [],
        asks: [{ price: priceText, size }],
      });
      return { symbol: token, bid: bid >= t ? formatDecimal(bid as typeof price) : null, ask: priceText };
    },
    balance: (b) => {
      const { token } = listed(b);
      const address = stringArg(b, "address");
      emu.setBalance(address, token, stringArg(b, "shares"));
      return { address, symbol: token, shares: emu.balance(address, token) };
    },
    collateral: (b) => {
      const address = stringArg(b, "address");
      emu.setCollateral(address, b.usdc === null ? undefined : stringArg(b, "usdc"));
      return { address };
    },
  };
}
