import { DECIMAL_ONE, type Decimal } from "../../core/decimal.js";
import type { Params } from "./emulatorAuth.js";
import type { EmulatorBook } from "./emulatorBook.js";
import { binanceError } from "./emulatorErrors.js";
import { tradeJson } from "./emulatorJson.js";
import type { Answer } from "./emulatorOrders.js";
import { fixed } from "./emulatorSymbols.js";

/** The leverage every emulated position runs at (initial margin = notional / 20). */
const LEVERAGE = 20n;
const ok = (body: unknown): Answer => ({ status: 200, body });

/** What the account endpoints read: the book, and the account's USDT wallet balance. */
export interface AccountContext {
  readonly book: EmulatorBook;
  readonly account: string;
  readonly wallet: Decimal;
  readonly now: number;
}

interface Totals {
  readonly wallet: Decimal;
  readonly upnl: Decimal;
  readonly initial: Decimal;
  readonly available: Decimal;
  readonly positions: readonly {
    symbol: string;
    qty: Decimal;
    entry: Decimal;
    upnl: Decimal;
    notional: Decimal;
    updateTime: number;
  }[];
}

/** Unrealized PnL at the mark, initial margin at 20x, and what is left available. */
function totals(c: AccountContext): Totals {
  const positions = c.book.positionRows(c.account).map((r) => {
    const mark = c.book.markPrice(r.symbol) ?? (0n as Decimal);
    return {
      symbol: r.symbol,
      qty: r.qty,
      entry: r.entryPrice,
      upnl: (((mark - r.entryPrice) * r.qty) / DECIMAL_ONE) as Decimal,
      notional: ((mark * r.qty) / DECIMAL_ONE) as Decimal,
      updateTime: r.updateTime,
    };
  });
  const upnl = positions.reduce((n, p) => n + p.upnl, 0n) as Decimal;
  const initial = positions.reduce((n, p) => n + abs(p.notional) / LEVERAGE, 0n) as Decimal;
  const available = (c.wallet + upnl - initial) as Decimal;
  return { wallet: c.wallet, upnl, initial, available, positions };
}

/** `GET /fapi/v2/account` and `/fapi/v3/account` (v2 adds the older per-position fields). */
export function accountInfo(c: AccountContext, version: 2 | 3): Answer {
  const t = totals(c);
  const f = (v: Decimal) => fixed(v, 8);
  const asset = {
    asset: "USDT",
    walletBalance: f(t.wallet),
    unrealizedProfit: f(t.upnl),
    marginBalance: f((t.wallet + t.upnl) as Decimal),
    maintMargin: f(0n as Decimal),
    initialMargin: f(t.initial),
    positionInitialMargin: f(t.initial),
    openOrderInitialMargin: f(0n as Decimal),
    crossWalletBalance: f(t.wallet),
    crossUnPnl: f(t.upnl),
    availableBalance: f(t.available),
    maxWithdrawAmount: f(t.available),
    ...(version === 2 ? { marginAvailable: true } : {}),
    updateTime: c.now,
  };
  const positions = t.positions
    .filter((p) => version === 2 || p.qty !== 0n)
    .map((p) => ({
      symbol: p.symbol,
      positionSide: "BOTH",
      positionAmt: fixed(p.qty, c.book.symbol(p.symbol)?.quantityPrecision ?? 3),
      unrealizedProfit: f(p.upnl),
      isolatedMargin: "0",
      notional: f(p.notional),
      isolatedWallet: "0",
      initialMargin: f((abs(p.notional) / LEVERAGE) as Decimal),
      maintMargin: "0",
      updateTime: p.updateTime,
      ...(version === 2
        ? {
            leverage: LEVERAGE.toString(),
            entryPrice: f(p.entry),
            maxNotional: "25000000",
            isolated: false,
            positionInitialMargin: f((abs(p.notional) / LEVERAGE) as Decimal),
            openOrderInitialMargin: "0",
            breakEvenPrice: f(p.entry),
            bidNotional: "0",
            askNotional: "0",
          }
        : {}),
    }));
  return ok({
    ...(version === 2
      ? {
          feeTier: 0,
          canTrade: true,
          canDeposit: true,
          canWithdraw: true,
          updateTime: 0,
          multiAssetsMargin: false,
          tradeGroupId: -1,
        }
      : {}),
    totalInitialMargin: f(t.initial),
    totalMaintMargin: f(0n as Decimal),
    totalWalletBalance: f(t.wallet),
    totalUnrealizedProfit: f(t.upnl),
    totalMarginBalance: f((t.wallet + t.upnl) as Decimal),
    totalPositionInitialMargin: f(t.initial),
    totalOpenOrderInitialMargin: f(0n as Decimal),
    totalCrossWalletBalance: f(t.wallet),
    totalCrossUnPnl: f(t.upnl),
    availableBalance: f(t.available),
    maxWithdrawAmount: f(t.available),
    assets: [asset],
    positions,
  });
}

/** `GET /fapi/v2/balance` and `/fapi/v3/balance`: one row, USDT. */
export function balance(c: AccountContext): Answer {
  const t = totals(c);
  return ok([
    {
      accountAlias: "SgsR",
      asset: "USDT",
      balance: fixed(t.wallet, 8),
      crossWalletBalance: fixed(t.wallet, 8),
      crossUnPnl: fixed(t.upnl, 8),
      availableBalance: fixed(t.available, 8),
      maxWithdrawAmount: fixed(t.available, 8),
      marginAvailable: true,
      updateTime: c.now,
    },
  ]);
}

/**
 * `GET /fapi/v1/userTrades`: the account's fills on `symbol` (mandatory),
 * optionally of one `orderId`, at or after `fromId`, the last `limit`
 * (default 500, at most 1000) oldest first.
 */
export function userTrades(c: AccountContext, p: Params): Answer {
  const symbol = p.get("symbol");
  if (!symbol) return binanceError(-1102, "symbol");
  if (c.book.symbol(symbol) === undefined) return binanceError(-1121);
  const limitText = p.get("limit") ?? "500";
  if (!/^[0-9]{1,4}$/.test(limitText) || Number(limitText) < 1 || Number(limitText) > 1000)
    return binanceError(-1130, "limit");
  const orderId = p.get("orderId");
  const fromId = p.get("fromId");
  const startTime = p.get("startTime");
  const endTime = p.get("endTime");
  const rows = c.book
    .trades(c.account, symbol)
    .filter(
      (t) =>
        (orderId === undefined || String(t.orderId) === orderId) &&
        (fromId === undefined || t.id >= Number(fromId)) &&
        (startTime === undefined || t.time >= Number(startTime)) &&
        (endTime === undefined || t.time <= Number(endTime)),
    );
  const limited = fromId === undefined ? rows.slice(-Number(limitText)) : rows.slice(0, Number(limitText));
  return ok(limited.map((t) => tradeJson(c.book, t)));
}

/** `GET /fapi/v1/leverageBracket`: one bracket per symbol (what ccxt loads before reading positions). */
export function leverageBracket(book: EmulatorBook, p: Params): Answer {
  const symbol = p.get("symbol");
  if (symbol !== undefined && book.symbol(symbol) === undefined) return binanceError(-1121);
  const rows = book
    .symbols()
    .filter((s) => symbol === undefined || s.symbol === symbol)
    .map((s) => ({
      symbol: s.symbol,
      brackets: [
        {
          bracket: 1,
          initialLeverage: 125,
          notionalCap: 50000000,
          notionalFloor: 0,
          maintMarginRatio: 0.004,
          cum: 0,
        },
      ],
    }));
  return ok(symbol === undefined ? rows : rows[0]);
}

function abs(v: bigint): bigint {
  return v < 0n ? -v : v;
}
