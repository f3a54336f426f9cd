/**
 * `npm run bench:killswitch`: how fast working orders at live venues are
 * cancelled, through real processes (one executor, the signer process, both
 * venue emulators, a SQLite bus in a temp dir).
 *
 * - **HALT**: N resting orders per venue, then `HALTED`; the time until the
 *   venues hold none open. Baseline, measured in the same run: the same N
 *   orders per venue cancelled by N cancel plans published at once (the
 *   executor cancels each at the venue before committing), i.e. what the
 *   cancels themselves cost without waiting for a follower pass.
 * - **Dead-man**: resting orders, the executor SIGKILLed; the time until
 *   each venue's own switch cancelled them. Baseline: the configured
 *   countdown / heartbeat timeout.
 *
 * Prints a table, then ONE JSON line last. Environment: BENCH_KS_N orders per
 * venue (default 20), BENCH_KS_ROUNDS (default 3), BENCH_KS_RECONCILE_MS (default 2000).
 */
import type { PlanResult } from "../src/core/result.js";
import { BINANCE_ACCOUNT, type LiveStack, startLiveStack, warmUpLive } from "../test/support/liveStack.js";
import { PM_ACCOUNT, PM_CANARY, PM_TOKEN } from "../test/support/polymarketWorld.js";
import { waitUntil } from "../test/support/waitUntil.js";
import { quantile } from "./lib/latency.js";

const N = Number(process.env.BENCH_KS_N ?? 20);
const ROUNDS = Number(process.env.BENCH_KS_ROUNDS ?? 3);
const RECONCILE_MS = Number(process.env.BENCH_KS_RECONCILE_MS ?? 2000);
/** Binance's countdown and the CLOB's heartbeat window: 10 s, as the CLOB's, so a loaded machine never lets one lapse. */
const COUNTDOWN_MS = 10_000;
const HEARTBEAT_TIMEOUT_MS = 10_000;
const log = (m: string) => process.stderr.write(`[bench:killswitch] ${m}\n`);

/** Waits until `fn` answers (the bench's own pace: every 20 ms, at most `ms`). */
const until = <T>(fn: () => Promise<T | undefined> | T | undefined, ms = 60_000): Promise<T> =>
  waitUntil("the bench's condition", fn, { timeoutMs: ms, pollMs: 20 });

function openCount(stack: LiveStack): number {
  const b = stack.emulator.state
    .orders({ account: BINANCE_ACCOUNT })
    .filter((o) => o.status === "NEW" || o.status === "PARTIALLY_FILLED").length;
  return b + stack.polymarket.orders().filter((o) => o.status === "LIVE").length;
}

/** The final results of `ids`, in order: one poll of the result stream for all of them. */
async function resultsOf(stack: LiveStack, ids: readonly string[]): Promise<PlanResult[]> {
  return until(async () => {
    const final = new Map<string, PlanResult>();
    for (const r of await stack.results()) if (r.decision !== "UNKNOWN") final.set(r.stream_id, r);
    const out = ids.map((id) => final.get(id));
    return out.every((r) => r !== undefined) ? (out as PlanResult[]) : undefined;
  });
}

/** N resting orders per venue; returns their results once all are working. */
async function rest(stack: LiveStack): Promise<PlanResult[]> {
  const ids: string[] = [];
  for (let i = 0; i < N; i++) {
    ids.push(await stack.publish({ type: "LIMIT", price: "60000", qty: "0.01" }));
    ids.push(await stack.publishPm({ price: "0.5", qty: "10" }));
  }
  const placed = await resultsOf(stack, ids);
  for (const r of placed)
    if (r.decision !== "EXECUTED") throw new Error(`bench: not placed: ${JSON.stringify(r)}`);
  await until(async () => ((await stack.backend.workingOrders()).length === 2 * N ? true : undefined));
  return placed;
}

async function main(): Promise<void> {
  const stack = await startLiveStack({
    executor: { reconcile_interval_ms: RECONCILE_MS },
    binance: { countdown_ms: COUNTDOWN_MS },
    polymarket: { heartbeat_every_ms: 4000 },
    polymarketEmulator: { heartbeatTimeoutMs: HEARTBEAT_TIMEOUT_MS },
    signerPolicy: { cex_api_signer: { cancel_rate_per_account_per_s: 1000 } },
  });
  const halts: number[] = [];
  const plans: number[] = [];
  let deadBinance = 0;
  let deadPm = 0;
  try {
    await stack.startExecutor("ks-1");
    await warmUpLive(stack, "binance-usdm");
    await warmUpLive(stack, "polymarket");
    stack.polymarket.setMarket(PM_TOKEN, {
      tickSize: "0.01",
      minOrderSize: "5",
      liquidity: { bids: [{ price: "0.3", size: "100000" }], asks: [{ price: "0.7", size: "100000" }] },
    });
    for (let r = 0; r < ROUNDS; r++) {
      // Baseline: cancel plans, all published at once.
      const placed = await rest(stack);
      let t0 = performance.now();
      const ids = await Promise.all(
        placed.map((p) =>
          stack.publish({
            action: "cancel",
            target_plan_id: p.plan_id,
            venue: p.venue,
            account: p.venue === "polymarket" ? PM_ACCOUNT : BINANCE_ACCOUNT,
            symbol: p.symbol,
            side: undefined,
            qty: undefined,
          }),
        ),
      );
      await until(() => (openCount(stack) === 0 ? true : undefined));
      plans.push(performance.now() - t0);
      await resultsOf(stack, ids);
      // HALT: the follower cancels at its next pass.
      await rest(stack);
      t0 = performance.now();
      await stack.backend.setTradingState("HALTED", "bench");
      await until(() => (openCount(stack) === 0 ? true : undefined));
      halts.push(performance.now() - t0);
      await until(async () => ((await stack.backend.workingOrders()).length === 0 ? true : undefined));
      await stack.backend.setTradingState("ACTIVE", "bench");
      log(`round ${r + 1}: cancel plans ${plans.at(-1)?.toFixed(0)} ms, HALT ${halts.at(-1)?.toFixed(0)} ms`);
    }
    // Dead-man: the executor SIGKILLed with resting orders.
    await rest(stack);
    await until(() =>
      stack.emulator.state.countdownArmed(BINANCE_ACCOUNT, "BTCUSDT") &&
      stack.polymarket.heartbeatActive(PM_CANARY.apiKey)
        ? true
        : undefined,
    );
    const [exec] = stack.executors();
    const t0 = performance.now();
    exec?.child.kill("SIGKILL");
    const pmOpen = () => stack.polymarket.orders().filter((o) => o.status === "LIVE").length;
    const bnOpen = () => openCount(stack) - pmOpen();
    await Promise.all([
      until(() => (bnOpen() === 0 ? true : undefined)).then(() => {
        deadBinance = performance.now() - t0;
      }),
      until(() => (pmOpen() === 0 ? true : undefined)).then(() => {
        deadPm = performance.now() - t0;
      }),
    ]);
  } finally {
    await stack.close();
  }
  const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
  const p50 = (xs: number[]) => quantile(sorted(xs), 0.5);
  const p99 = (xs: number[]) => quantile(sorted(xs), 0.99);
  const row = (name: string, xs: number[], base: number) =>
    `${name.padEnd(34)} p50 ${p50(xs).toFixed(0).padStart(6)} ms  p99 ${p99(xs).toFixed(0).padStart(6)}  min ${Math.min(
      ...xs,
    )
      .toFixed(0)
      .padStart(6)}  max ${Math.max(...xs)
      .toFixed(0)
      .padStart(6)}  ×baseline ${(p50(xs) / base).toFixed(2)}`;
  const planP50 = p50(plans);
  console.log(`${2 * N} orders (${N} per venue), ${ROUNDS} rounds, reconcile_interval_ms ${RECONCILE_MS}`);
  console.log(row("cancel plans (baseline)", plans, planP50));
  console.log(row("HALTED → all cancelled", halts, planP50));
  console.log(row("dead-man Binance (countdown base)", [deadBinance], COUNTDOWN_MS));
  console.log(row("dead-man Polymarket (timeout base)", [deadPm], HEARTBEAT_TIMEOUT_MS));
  console.log(
    JSON.stringify({
      orders: 2 * N,
      reconcile_interval_ms: RECONCILE_MS,
      cancel_plans_p50_ms: Math.round(planP50),
      halt_p50_ms: Math.round(p50(halts)),
      halt_p99_ms: Math.round(p99(halts)),
      halt_over_plans: Number((p50(halts) / planP50).toFixed(2)),
      halt_over_interval: Number((p50(halts) / RECONCILE_MS).toFixed(2)),
      deadman_binance_ms: Math.round(deadBinance),
      deadman_binance_over_countdown: Number((deadBinance / COUNTDOWN_MS).toFixed(2)),
      deadman_polymarket_ms: Math.round(deadPm),
      deadman_polymarket_over_timeout: Number((deadPm / HEARTBEAT_TIMEOUT_MS).toFixed(2)),
    }),
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
