/**
 * The position watcher end to end (issue 12): an executor, the signer
 * process, both venue emulators and `intentgate watch` on a real Redis.
 * Another bot trading on the Binance account through ccxt, and a Polymarket
 * position closed by hand, each raise exactly one `position_drift` within
 * two intervals; an authorized fill and an order in flight raise none; an
 * account whose reads the venue refuses is alerted `venue_unreadable`; with
 * `on_drift: halt`, drift sets HALTED (logged with who and why) and the
 * executor cancels the working orders at the venue.
 */
import { setTimeout as sleep } from "node:timers/promises";
import ccxt from "ccxt";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { PlanResult } from "../../src/core/result.js";
import {
  BAD_SIG_ACCOUNT,
  BINANCE_ACCOUNT,
  type LiveStack,
  type Proc,
  startLiveStack,
  warmUpLive,
} from "../support/liveStack.js";
import { PM_ACCOUNT, PM_ADDRESS, PM_CANARY, PM_TOKEN } from "../support/polymarketWorld.js";
import { freePort } from "../support/redisServer.js";
import { waitUntil } from "../support/waitUntil.js";

const INTERVAL_MS = 1000;
const PM_BOOK = { bids: [{ price: "0.3", size: "100000" }], asks: [{ price: "0.7", size: "100000" }] };

describe("intentgate watch: position drift at the venues (redis bus, executor, signer, emulators)", () => {
  let stack: LiveStack;
  let redis: Redis;
  let watch: Proc;
  let metricsPort: number;

  const alerts = async (kind?: string): Promise<Record<string, unknown>[]> =>
    (await redis.xrange(`${stack.prefix}stream:exit.alert`, "-", "+"))
      .map(([, fields]) => JSON.parse(fields[1] as string) as Record<string, unknown>)
      .filter((a) => kind === undefined || a.kind === kind);
  const resultOf = async (id: string): Promise<PlanResult> =>
    waitUntil(`the result of ${id}`, async () =>
      (await stack.results()).find((r) => r.stream_id === id && r.decision !== "UNKNOWN"),
    );
  /** Waits `n` watcher intervals (and a little), for "raises none" checks. */
  const intervals = (n: number) => sleep(n * INTERVAL_MS + 500);
  const metrics = async () => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();

  beforeAll(async () => {
    stack = await startLiveStack({
      redisUrl: inject("redisUrl"),
      executor: {
        reconcile_interval_ms: 500,
        watch: {
          interval_ms: INTERVAL_MS,
          lease_ms: 3000,
          positions: { settle_ms: 15_000, on_drift: { polymarket: "halt" } },
        },
      },
    });
    redis = new Redis(inject("redisUrl"), { lazyConnect: false });
    stack.polymarket.setMarket(PM_TOKEN, { tickSize: "0.01", minOrderSize: "5", liquidity: PM_BOOK });
    await stack.startExecutor("pw-1");
    await warmUpLive(stack, "binance-usdm");
    await warmUpLive(stack, "polymarket");
    metricsPort = await freePort();
    watch = await stack.startWatch("w-1", ["--metrics-port", String(metricsPort)]);
    // The watcher's first readings are its base: wait until every readable account was read.
    await waitUntil(
      () => `the first position reads (watcher said: ${watch.output().slice(-3000)})`,
      async () => {
        const m = await metrics().catch(() => "");
        return (
          m.includes(
            `intentgate_watch_position_reads_total{venue="binance-usdm",account="${BINANCE_ACCOUNT}",outcome="ok"}`,
          ) &&
          m.includes(
            `intentgate_watch_position_reads_total{venue="polymarket",account="${PM_ACCOUNT}",outcome="ok"}`,
          )
        );
      },
    );
  }, 120_000);

  afterAll(async () => {
    redis?.disconnect();
    await stack?.close();
  }, 60_000);

  it("an authorized plan's fill and an order in flight (accepted, its answer held 3 s) raise no drift", async () => {
    const market = await resultOf(await stack.publish({ type: "MARKET", qty: "0.01" }));
    expect(market).toMatchObject({
      decision: "EXECUTED",
      mode: "live",
      fill_qty: "0.01",
      account: BINANCE_ACCOUNT,
    });
    const pm = await resultOf(await stack.publishPm({ price: "0.7", qty: "10" }));
    expect(pm).toMatchObject({ decision: "EXECUTED", mode: "live", fill_qty: "10" });
    // In flight: the venue fills at once but answers after 3 s; the executor times out
    // (UNKNOWN) and reconciles; meanwhile the venue shows a position no result explains yet.
    stack.emulator.faults.inject("order", { kind: "timeout_after_accept", holdMs: 3000 });
    const id = await stack.publish({ type: "MARKET", qty: "0.02" });
    await waitUntil("the UNKNOWN", async () =>
      (await stack.results()).find((r) => r.stream_id === id && r.decision === "UNKNOWN"),
    );
    expect(await resultOf(id)).toMatchObject({ decision: "EXECUTED", reconciled: true, fill_qty: "0.02" });
    await intervals(3);
    expect(await alerts("position_drift")).toEqual([]);
    expect(await stack.backend.getTradingState()).toBe("ACTIVE");
  }, 60_000);

  it("an account the venue refuses to read (bad signature) is alerted venue_unreadable once, and counted", async () => {
    const unreadable = await waitUntil("venue_unreadable", async () => {
      const a = await alerts("venue_unreadable");
      return a.length > 0 ? a : undefined;
    });
    expect(unreadable).toEqual([
      expect.objectContaining({ venue: "binance-usdm", account: BAD_SIG_ACCOUNT, severity: "critical" }),
    ]);
    expect(await metrics()).toMatch(
      new RegExp(
        `intentgate_watch_position_reads_total\\{venue="binance-usdm",account="${BAD_SIG_ACCOUNT}",outcome="failed"\\} [1-9]`,
      ),
    );
  });

  it("another bot trading on the Binance account through ccxt raises exactly one position_drift within two intervals", async () => {
    const bot = new ccxt.binanceusdm({
      apiKey: stack.secrets.apiKey,
      secret: stack.secrets.binanceSecret,
      options: { fetchCurrencies: false },
    });
    const api = bot.urls.api as Record<string, string>;
    for (const k of Object.keys(api))
      if (k.startsWith("fapi")) api[k] = api[k]!.replace("https://fapi.binance.com", stack.emulator.url);
    await bot.loadMarkets();
    const before = await alerts("position_drift");
    const t0 = Date.now();
    await bot.createOrder("BTC/USDT:USDT", "market", "sell", 0.05);
    const [drift] = await waitUntil("the drift alert", async () => {
      const a = (await alerts("position_drift")).slice(before.length);
      return a.length > 0 ? a : undefined;
    });
    const latency = Date.now() - t0;
    expect(drift).toMatchObject({
      venue: "binance-usdm",
      account: BINANCE_ACCOUNT,
      symbol: "BTCUSDT",
      drift: "-0.05",
      action: "alert",
    });
    // What IntentGate explains (the warm-up order, 0.03 in this file's plans) less the bot's 0.05.
    expect(Number(drift!.actual)).toBeCloseTo(Number(drift!.expected) - 0.05, 10);
    expect(latency).toBeLessThan(2 * INTERVAL_MS + 1500);
    await intervals(3);
    expect((await alerts("position_drift")).slice(before.length)).toHaveLength(1);
    expect(await stack.backend.getTradingState()).toBe("ACTIVE");
    expect(await metrics()).toContain(
      `intentgate_watch_position_unexplained{venue="binance-usdm",account="${BINANCE_ACCOUNT}",symbol="BTCUSDT"} -0.05`,
    );
  }, 60_000);

  it("a Polymarket position closed by hand raises one position_drift; on_drift halt sets HALTED (who and why logged) and working orders are cancelled", async () => {
    const driftsBefore = (await alerts("position_drift")).length;
    const resting = await resultOf(await stack.publish({ type: "LIMIT", price: "60000", qty: "0.01" }));
    expect(resting).toMatchObject({ decision: "EXECUTED", fill_qty: "0" });
    await intervals(2);
    expect(await alerts("position_drift")).toHaveLength(driftsBefore); // a resting order is no drift
    expect(Number(stack.polymarket.balance(PM_ADDRESS, PM_TOKEN))).toBeGreaterThan(0);
    const states = (await stack.backend.tradingStateLog()).length;
    const t0 = Date.now();
    stack.polymarket.setBalance(PM_ADDRESS, PM_TOKEN, "0"); // sold by hand, outside IntentGate
    const drift = await waitUntil("the polymarket drift", async () =>
      (await alerts("position_drift")).find((a) => a.venue === "polymarket"),
    );
    expect(Date.now() - t0).toBeLessThan(2 * INTERVAL_MS + 1500);
    expect(drift).toMatchObject({ account: PM_ACCOUNT, symbol: PM_TOKEN, actual: "0", action: "halt" });
    await waitUntil("HALTED", async () => (await stack.backend.getTradingState()) === "HALTED");
    const change = (await stack.backend.tradingStateLog()).at(-1);
    expect(change?.who).toBe(
      `watch:w-1 (position_drift polymarket/${PM_ACCOUNT}/${PM_TOKEN}: expected ${String(drift.expected)}, actual 0)`.slice(
        0,
        200,
      ),
    );
    const logged = await waitUntil(
      () => `the watcher's log line; it said: ${watch.output().slice(-2000)}`,
      () => {
        const lines = watch
          .output()
          .split("\n")
          .filter((l) => l.includes("trading state set to HALTED"))
          .map((l) => JSON.parse(l) as Record<string, unknown>);
        return lines.length > 0 ? lines : undefined;
      },
      { timeoutMs: 10_000 },
    );
    expect(logged).toEqual([
      expect.objectContaining({
        state: "HALTED",
        who: change?.who,
        why: "position_drift",
        venue: "polymarket",
      }),
    ]);
    // HALTED cancels the working order at the venue (wire-v1 §7).
    await waitUntil("the cancel at the venue", () =>
      stack.emulator.state
        .orders({ account: BINANCE_ACCOUNT })
        .some((o) => o.clientOrderId === resting.client_order_id && o.status === "CANCELED"),
    );
    await intervals(3);
    expect((await alerts("position_drift")).filter((a) => a.venue === "polymarket")).toHaveLength(1);
    expect(await stack.backend.tradingStateLog()).toHaveLength(states + 1);
  }, 60_000);

  it("never shows a credential it holds (API keys, the L2 passphrase, the signer token) in its output", () => {
    const out = watch.output();
    for (const secret of [
      stack.secrets.apiKey,
      stack.secrets.badSigApiKey,
      stack.secrets.roReadApiKey,
      stack.secrets.signerToken,
      PM_CANARY.passphrase,
      PM_CANARY.apiKey,
      stack.secrets.binanceSecret,
      stack.secrets.roReadSecret,
      PM_CANARY.secret,
      PM_CANARY.privateKeyHex,
    ])
      expect(out.includes(secret), "a secret in the watcher's output").toBe(false);
  });
});
