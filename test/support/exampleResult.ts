import type { PlanResult } from "../../src/core/result.js";

/**
 * A well-formed `DENIED` result (wire §4) with `overrides` applied: the
 * input the rules' tests and examples are built from.
 */
export function exampleResult(overrides: Partial<PlanResult> = {}): PlanResult {
  return {
    v: 1,
    plan_id: "p-1",
    stream_id: "1700000000000-0",
    lane: "main",
    authenticated: true,
    action: "place",
    source: "bot_a",
    venue: "paper",
    account: "default",
    symbol: "BTCUSDT",
    side: "SELL",
    qty: "1",
    reduce_only: true,
    executed: false,
    decision: "DENIED",
    error: "NOT_EXIT_OWNER:source=bot_a",
    mode: "paper",
    client_order_id: null,
    order_id: null,
    fill_qty: null,
    avg_price: null,
    timestamp: 1_700_000_000_000,
    ...overrides,
  };
}
