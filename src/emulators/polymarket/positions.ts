import { DECIMAL_ONE, parseDecimal } from "../../core/decimal.js";
import { parseAddress } from "../../core/evm/address.js";
import { DECIMAL_PER_UNIT } from "../../core/polymarket/ctfOrder.js";
import { type EmulatorExchange, unitsText } from "./emulatorExchange.js";

/** The data API's positions: `size` and `avgPrice` as JSON numbers written from exact decimals. */
export function positionsOf(
  exchange: EmulatorExchange,
  q: { readonly user: string; readonly threshold: string; readonly limit: string; readonly offset: string },
): string {
  const { user, threshold, limit, offset } = q;
  const address = parseAddress(user);
  if (address === undefined) return "[]";
  const min = parseDecimal(threshold === "" ? "1" : threshold) ?? DECIMAL_ONE;
  const lim = Math.min(Math.max(Number.parseInt(limit || "100", 10) || 100, 0), 500);
  const off = Math.max(Number.parseInt(offset || "0", 10) || 0, 0);
  const rows = [...exchange.holdings(address)]
    .filter(([, units]) => units > 0n && units * DECIMAL_PER_UNIT >= min)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .slice(off, off + lim)
    .map(
      ([token, units]) =>
        `{"proxyWallet":${JSON.stringify(user.toLowerCase())},"asset":${JSON.stringify(token)},"conditionId":"0x${"0".repeat(64)}","size":${unitsText(units)},"avgPrice":0,"curPrice":0.5,"negativeRisk":${exchange.markets.get(token)?.negRisk ?? false}}`,
    );
  return `[${rows.join(",")}]`;
}
