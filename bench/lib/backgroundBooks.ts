import type { Redis } from "ioredis";
import { positionKey } from "../../src/core/facts.js";
import { encodeWorkingOrder, type WorkingOrder } from "../../src/core/workingOrder.js";
import { intEnv } from "./intEnv.js";
import { ACCOUNTS } from "./workload.js";

/** Accounts the background books are spread over (none is a bench plan's account). */
const OTHER_ACCOUNTS = 500;

/**
 * Writes what other accounts hold before a run, so a bench can show what the
 * exposure and open-order caps cost as the ledger grows (README,
 * "Performance"): `BENCH_BG_BOOKS` paper
 * positions and `BENCH_BG_ORDERS` resting paper orders, spread over
 * {@link OTHER_ACCOUNTS} accounts (each a positive integer; unset: none);
 * and `BENCH_OWN_ORDERS` resting paper orders spread over the bench plans'
 * own accounts (BUY below the reference price, so none fills), which the
 * caps read for every batch that touches those accounts.
 */
export async function writeBackgroundBooks(raw: Redis, prefix: string): Promise<void> {
  const books = intEnv("BENCH_BG_BOOKS", 0);
  const orders = intEnv("BENCH_BG_ORDERS", 0);
  const own = intEnv("BENCH_OWN_ORDERS", 0);
  const account = (i: number) => `other-${i % OTHER_ACCOUNTS}`;
  const positions: string[] = [];
  for (let i = 0; i < books; i++)
    positions.push(
      positionKey({ account: account(i), symbol: `BG${i}`, venue: "paper", mode: "paper" }),
      "1.5",
    );
  if (positions.length > 0) await raw.call("HSET", `${prefix}positions`, ...positions);
  const resting: string[] = [];
  for (let i = 0; i < orders + own; i++) {
    const order: WorkingOrder = {
      key: `bg-${i}`,
      plan_id: `bg-${i}`,
      source: "background",
      lane: "main",
      stream_id: "1-0",
      venue: "paper",
      mode: "paper",
      account: i < orders ? account(i) : (ACCOUNTS[i % ACCOUNTS.length] as string),
      symbol: "BTCUSDT",
      side: "BUY",
      qty: "1",
      price: "60000",
      reduce_only: false,
      client_order_id: `bg-${i}`,
      order_id: `bg-${i}`,
      fill_qty: "0",
      placed_at: 1,
    };
    resting.push(order.key, encodeWorkingOrder(order));
  }
  if (resting.length > 0) await raw.call("HSET", `${prefix}orders`, ...resting);
}
