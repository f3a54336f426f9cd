/**
 * `npm run bench:live`: decision-to-venue latency per live venue, the order
 * signed through the remote signer process vs. the same order signed
 * in-process (the local plane over the same vault), the emulator on
 * loopback. One order at a time: `prepare` (venue rules; Polymarket signs the
 * EIP-712 order) + `send` (Binance signs the query; Polymarket signs the L2
 * headers; one HTTP request to the emulator), i.e. what the executor spends
 * between committing a decision and the venue's answer.
 *
 * Prints a table, then ONE JSON line last:
 *   {"binance_remote_p50_ms","binance_remote_p99_ms","binance_inproc_p50_ms",…,"polymarket_…"}
 *
 * Environment: BENCH_LIVE_N orders per configuration (default 400), BENCH_LIVE_WARMUP (default 50).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createBinanceVenue } from "../src/adapters/binance/binanceVenue.js";
import { createPolymarketVenue } from "../src/adapters/polymarket/polymarketVenue.js";
import { startBinanceEmulator } from "../src/emulators/binance/binanceEmulator.js";
import { startPolymarketEmulator } from "../src/emulators/polymarket/polymarketEmulator.js";
import type { OrderGuard, Venue, VenueOrder } from "../src/ports/venue.js";
import { newApiKey } from "../test/support/binanceHarness.js";
import { EXECUTOR_INTENTS } from "../test/support/liveStack.js";
import {
  PM_ACCOUNT,
  PM_ADDRESS,
  PM_CANARY,
  PM_TOKEN,
  polymarketScenario,
  worldEmulatorOptions,
} from "../test/support/polymarketWorld.js";
import {
  type PlaneHarness,
  type PlaneScenario,
  setUpLocalPlane,
  setUpRemotePlane,
} from "../test/support/signerPlanes.js";
import { quantile } from "./lib/latency.js";

const N = Number(process.env.BENCH_LIVE_N ?? 400);
const WARMUP = Number(process.env.BENCH_LIVE_WARMUP ?? 50);
const CALLER = "bench-exec";
const BN_ACCOUNT = "bench-binance";
const log = (m: string) => process.stderr.write(`[bench:live] ${m}\n`);

interface Row {
  readonly venue: string;
  readonly plane: string;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly meanMs: number;
}

let seq = 0;
const guard = (): OrderGuard => ({
  plan_id: `bench-${++seq}`,
  source: "bench",
  decision: "EXECUTE",
  trading_state: "ACTIVE",
  permit_id: null,
  mode: "live",
  lane: "main",
  stream_id: `${Date.now()}-${seq}`,
});

async function timeOrders(venue: Venue, make: (i: number) => VenueOrder): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < WARMUP + N; i++) {
    const order = make(i);
    const t0 = performance.now();
    const p = await venue.prepare(order, guard());
    if (!p.ok) throw new Error(`prepare refused: ${p.reason}`);
    const sent = await venue.send(p.prepared);
    const ms = performance.now() - t0;
    if (sent.kind !== "placed") throw new Error(`send: ${JSON.stringify(sent)}`);
    if (i >= WARMUP) samples.push(ms);
  }
  return samples.sort((a, b) => a - b);
}

function row(venue: string, plane: string, s: number[]): Row {
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  return { venue, plane, p50Ms: quantile(s, 0.5), p99Ms: quantile(s, 0.99), meanMs: mean };
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "ig-live-bench-"));
  const rows: Row[] = [];
  const harnesses: PlaneHarness[] = [];
  try {
    const secret = `bench-${Date.now()}`;
    const apiKey = newApiKey();
    const pm = polymarketScenario();
    const scenario: PlaneScenario = {
      callers: [CALLER],
      intents: EXECUTOR_INTENTS,
      accounts: { [BN_ACCOUNT]: { cex_api_signer: "bn" }, ...pm.accounts },
      // EXECUTOR_INTENTS binds a Binance cancel route: the signer needs a cancel rate for it
      // (generous: this account's replayable reads count against it too).
      policy: { cex_api_signer: { cancel_rate_per_account_per_s: 1000 } },
      keys: [{ id: "bn", kind: "hmac", secret, encoding: "raw" }, ...pm.keys],
    };
    const binanceEmu = await startBinanceEmulator({ accounts: [{ name: BN_ACCOUNT, apiKey, secret }] });
    const pmEmu = await startPolymarketEmulator(worldEmulatorOptions());
    for (const [name, setUp] of [
      ["in-process (local plane)", setUpLocalPlane],
      ["remote signer process", setUpRemotePlane],
    ] as const) {
      const sub = await mkdtemp(join(dir, "plane-"));
      const h = await setUp(scenario, sub);
      harnesses.push(h);
      log(`${name}: binance`);
      const bn = createBinanceVenue({
        baseUrl: binanceEmu.url,
        accounts: { [BN_ACCOUNT]: { apiKey } },
        plane: h.plane,
        caller: CALLER,
      });
      const bnSamples = await timeOrders(bn, (i) => ({
        account: BN_ACCOUNT,
        symbol: "BTCUSDT",
        side: i % 2 === 0 ? "BUY" : "SELL",
        type: "MARKET",
        qty: "0.01",
        price: undefined,
        referencePrice: "65000",
        reduceOnly: false,
        clientOrderId: `ig-bench-${name.length}-${i}-${Date.now()}`,
      }));
      rows.push(row("binance-usdm", name, bnSamples));
      await bn.close();
      log(`${name}: polymarket`);
      const pmVenue = createPolymarketVenue({
        baseUrl: pmEmu.url,
        accounts: {
          [PM_ACCOUNT]: { apiKey: PM_CANARY.apiKey, passphrase: PM_CANARY.passphrase, address: PM_ADDRESS },
        },
        plane: h.plane,
        caller: CALLER,
      });
      const pmSamples = await timeOrders(pmVenue, (i) => ({
        account: PM_ACCOUNT,
        symbol: PM_TOKEN,
        side: "BUY",
        type: "LIMIT",
        qty: "10",
        price: "0.5",
        referencePrice: undefined,
        reduceOnly: false,
        clientOrderId: `ig-pm-${name.length}-${i}`,
      }));
      rows.push(row("polymarket", name, pmSamples));
      await pmVenue.close();
    }
    await binanceEmu.close();
    await pmEmu.close();
  } finally {
    for (const h of harnesses) await h.close().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
  const f = (x: number) => x.toFixed(2).padStart(8);
  process.stdout.write(`\ndecision-to-venue latency, ${N} orders one at a time (ms)\n`);
  process.stdout.write(
    `${"venue".padEnd(14)}${"plane".padEnd(28)}${"p50".padStart(8)}${"p99".padStart(8)}${"mean".padStart(8)}\n`,
  );
  for (const r of rows)
    process.stdout.write(
      `${r.venue.padEnd(14)}${r.plane.padEnd(28)}${f(r.p50Ms)}${f(r.p99Ms)}${f(r.meanMs)}\n`,
    );
  const get = (venue: string, remote: boolean) =>
    rows.find((r) => r.venue === venue && r.plane.startsWith(remote ? "remote" : "in-process"))!;
  const out: Record<string, number> = {};
  for (const [key, venue] of [
    ["binance", "binance-usdm"],
    ["polymarket", "polymarket"],
  ] as const) {
    for (const remote of [true, false]) {
      const r = get(venue, remote);
      const tag = `${key}_${remote ? "remote" : "inproc"}`;
      out[`${tag}_p50_ms`] = Number(r.p50Ms.toFixed(3));
      out[`${tag}_p99_ms`] = Number(r.p99Ms.toFixed(3));
    }
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

await main();
