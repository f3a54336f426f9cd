/**
 * `npm run bench:watch`: the position watcher through real processes (the
 * signer process, both venue emulators, `intentgate watch`, a SQLite bus in
 * a temp dir), at `watch.interval_ms` 1000.
 *
 * - **Drift latency**: BENCH_WATCH_RUNS times (default 20), one account's
 *   BTCUSDT position is changed at the Binance emulator with no plan behind
 *   it, at a random moment of the interval; the time until its
 *   `position_drift` is on the alert stream. Baseline, measured on the same
 *   changes: a bare poller in this process that reads the emulator's
 *   position every 1000 ms and reports the first reading that shows the
 *   change (one reading, no signing, no bus): what any 1 s poller costs.
 * - **Footprint**: the watcher's RSS and CPU over BENCH_WATCH_IDLE_S seconds
 *   (default 30) reading 11 venue accounts (10 Binance, 1 Polymarket; plus
 *   one Binance account whose reads the venue refuses, and the paper
 *   ledger). Baseline: the same watcher with `watch.positions.enabled:
 *   false` (rules and delivery only), measured first in the same run.
 *
 * Prints a table, then ONE JSON line last.
 */
import { readFileSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { SqliteAlertFeed } from "../src/adapters/sqlite/sqliteAlertFeed.js";
import { type LiveStack, type Proc, startLiveStack, stopProc } from "../test/support/liveStack.js";
import { waitUntil } from "../test/support/waitUntil.js";
import { quantile, rssMb } from "./lib/latency.js";

const RUNS = Number(process.env.BENCH_WATCH_RUNS ?? 20);
const IDLE_S = Number(process.env.BENCH_WATCH_IDLE_S ?? 30);
const INTERVAL_MS = 1000;
const EXTRA = 8;
const log = (m: string) => process.stderr.write(`[bench:watch] ${m}\n`);

/** CPU seconds (user + system) a process has used, from /proc/<pid>/stat. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // fields[11], [12] are utime, stime (the 14th and 15th of the whole line), in clock ticks.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

interface Footprint {
  readonly cpuPct: number;
  readonly rssMb: number;
}

/** A watcher's CPU share and peak RSS over `seconds`, once it leads. */
async function footprint(p: Proc, seconds: number): Promise<Footprint> {
  const pid = p.child.pid as number;
  await waitUntil("the watcher to lead", () => p.output().includes('"leading":true'), { timeoutMs: 60_000 });
  await sleep(3000); // past start-up and the first reads
  const c0 = cpuSeconds(pid);
  const t0 = performance.now();
  let rss = 0;
  while (performance.now() - t0 < seconds * 1000) {
    rss = Math.max(rss, rssMb(pid) ?? 0);
    await sleep(500);
  }
  return { cpuPct: (100 * (cpuSeconds(pid) - c0)) / ((performance.now() - t0) / 1000), rssMb: rss };
}

async function main(): Promise<void> {
  const stack: LiveStack = await startLiveStack({
    extraBinanceAccounts: EXTRA,
    executor: { watch: { interval_ms: INTERVAL_MS, lease_ms: 3000 } },
  });
  const config = JSON.parse(await readFile(stack.configPath, "utf8")) as Record<string, unknown>;
  const rulesOnly = join(stack.dir, "watch-rules-only.json");
  await writeFile(
    rulesOnly,
    JSON.stringify({
      ...config,
      watch: { interval_ms: INTERVAL_MS, lease_ms: 3000, positions: { enabled: false } },
    }),
  );
  const feed = await SqliteAlertFeed.open({ url: stack.busUrl, prefix: stack.prefix });
  const watcher: number[] = [];
  const poller: number[] = [];
  let base: Footprint;
  let full: Footprint;
  try {
    log(`baseline footprint: rules and delivery only, ${IDLE_S} s`);
    const idle = await stack.startWatch("bench-rules-only", [], rulesOnly);
    base = await footprint(idle, IDLE_S);
    await stopProc(idle);
    log(
      `footprint: ${EXTRA + 2} readable Binance accounts, 1 Polymarket, 1 refused, the paper ledger; ${IDLE_S} s`,
    );
    const w = await stack.startWatch("bench-positions");
    full = await footprint(w, IDLE_S);

    let cursor = await feed.lastAlertId();
    for (let r = 0; r < RUNS; r++) {
      const account = `acct-x${r % EXTRA}`;
      const qty = (r + 1) % 2 === 0 ? "0" : `0.0${(r % 9) + 1}`;
      const before = stack.emulator.state.position(account, "BTCUSDT");
      const target = qty === before ? "0.5" : qty;
      await sleep(Math.random() * INTERVAL_MS);
      stack.emulator.state.setPosition(account, "BTCUSDT", target);
      const t0 = performance.now();
      const pollerSeen = (async () => {
        // A 1 s poller whose phase is independent of the change: its first reading at or after it.
        await sleep(Math.random() * INTERVAL_MS);
        while (stack.emulator.state.position(account, "BTCUSDT") !== target) await sleep(INTERVAL_MS);
        return performance.now() - t0;
      })();
      const seen = await waitUntil(
        `the drift alert of run ${r + 1}`,
        async () => {
          const page = await feed.readAlerts(cursor, 100, 0);
          for (const e of page) {
            cursor = e.id;
            const a = JSON.parse(e.text ?? "{}") as Record<string, unknown>;
            if (a.kind === "position_drift" && a.account === account && a.actual === target)
              return performance.now() - t0;
          }
          return undefined;
        },
        { timeoutMs: 30_000, pollMs: 5 },
      );
      watcher.push(seen);
      poller.push(await pollerSeen);
      log(
        `run ${r + 1}/${RUNS}: alert after ${seen.toFixed(0)} ms (1 s poller ${poller.at(-1)!.toFixed(0)} ms)`,
      );
    }
  } finally {
    await feed.close();
    await stack.close();
  }
  const w = [...watcher].sort((a, b) => a - b);
  const p = [...poller].sort((a, b) => a - b);
  const row = (name: string, xs: number[]) =>
    `${name.padEnd(34)} p50 ${quantile(xs, 0.5).toFixed(0).padStart(6)} ms   p99 ${quantile(xs, 0.99).toFixed(0).padStart(6)} ms   max ${xs.at(-1)!.toFixed(0).padStart(6)} ms`;
  process.stdout.write(
    [
      `drift latency over ${RUNS} runs, interval ${INTERVAL_MS} ms`,
      row("  watcher (change → alert)", w),
      row("  baseline: bare 1 s poller", p),
      `  ratio p50 ${(quantile(w, 0.5) / quantile(p, 0.5)).toFixed(2)}×, p99 ${(quantile(w, 0.99) / quantile(p, 0.99)).toFixed(2)}×`,
      `footprint over ${IDLE_S} s at ${INTERVAL_MS} ms`,
      `  rules only (baseline)              CPU ${base.cpuPct.toFixed(1)} %   RSS ${base.rssMb.toFixed(0)} MB`,
      `  12 accounts + paper ledger         CPU ${full.cpuPct.toFixed(1)} %   RSS ${full.rssMb.toFixed(0)} MB`,
      "",
    ].join("\n"),
  );
  process.stdout.write(
    `${JSON.stringify({
      bench: "watch",
      runs: RUNS,
      interval_ms: INTERVAL_MS,
      watcher_p50_ms: Math.round(quantile(w, 0.5)),
      watcher_p99_ms: Math.round(quantile(w, 0.99)),
      poller_p50_ms: Math.round(quantile(p, 0.5)),
      poller_p99_ms: Math.round(quantile(p, 0.99)),
      baseline_cpu_pct: Number(base.cpuPct.toFixed(2)),
      baseline_rss_mb: Math.round(base.rssMb),
      cpu_pct: Number(full.cpuPct.toFixed(2)),
      rss_mb: Math.round(full.rssMb),
    })}\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(
    `bench:watch failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
