/**
 * `npm run bench`: IntentGate's executor against a raw Redis Streams loop on
 * the same server, then latency and memory of the real executor process at a
 * fixed offered load. Prints a table, then ONE JSON line last.
 *
 * Environment (all optional):
 *   REDIS_URL        use this server instead of starting redis-server on a free port
 *   BENCH_N          plans per throughput run (default 40000)
 *   BENCH_RATE       offered load of the latency run, plans/s (default 1000)
 *   BENCH_SECONDS    measured length of the latency run (default 10; plus 1 s warm-up)
 *   BENCH_PHASES     comma list of raw,hmac,ed25519,latency (default all)
 *   BENCH_DUP_WINDOW_MS   turn on limits.duplicate_window_ms (with BENCH_UNIQUE_ORDERS=1, so none is a duplicate)
 *   BENCH_UNIQUE_ORDERS   1: every plan a different order (a unique qty)
 *   BENCH_ACCOUNT_CAPS    1: turn on limits.max_daily_notional and limits.max_open_orders (never reached)
 *   BENCH_EXPOSURE_CAPS   1: turn on limits.max_position and limits.max_gross_notional (never reached)
 *   BENCH_BG_BOOKS        paper positions other accounts hold before each in-process run (unset: none)
 *   BENCH_BG_ORDERS       resting paper orders other accounts hold before each in-process run (unset: none):
 *                         with these, the exposure and open-order caps' cost as the ledger grows
 *   BENCH_OWN_ORDERS      resting paper orders (none fills) on the bench plans' own accounts before each
 *                         in-process run (unset: none): what an account's own orders cost the caps
 *   BENCH_TOP             Redis commands listed per run, heaviest first (default 5)
 *   BENCH_PROFILE_DIR     directory: CPU-profile exactly the measured window of the in-process
 *                         runs into <dir>/hmac.cpuprofile and <dir>/ed25519.cpuprofile
 *   BENCH_CHILD_CPU_PROF  directory: run the latency child with --cpu-prof into it
 *   BENCH_CHILD_JS        compiled CLI entry for the latency child (e.g. a `tsc -p tsconfig.build.json`
 *                         output's apps/cli/main.js) instead of `--import tsx src/apps/cli/main.ts`
 *   BENCH_CHILD_NODE_ARGS extra node options for the latency child, space-separated (e.g.
 *                         `--max-semi-space-size=2`, or `--import ./bench/fixtures/memProbe.mjs` with
 *                         MEM_PROBE_FILE set to log its heap every 200 ms)
 * Summarise a profile with:
 *   node --import tsx bench/profileSummary.ts <dir>/hmac.cpuprofile
 * and compare two configs (several runs each) with bench/profileDiff.ts.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type RedisServer, startRedisServer } from "../test/support/redisServer.js";
import { type InProcessResult, runInProcess } from "./lib/inProcess.js";
import { intEnv } from "./lib/intEnv.js";
import { type LatencyResult, runLatency } from "./lib/latency.js";
import { type RawResult, runRawLoop } from "./lib/rawLoop.js";
import { describeServerCost, describeTally, serverCostStart } from "./lib/redisUtil.js";
import {
  benchConfig,
  ED25519_SOURCE,
  HMAC_SECRET_ENV,
  HMAC_SOURCE,
  makeKeys,
  resultTemplate,
  signedPlans,
} from "./lib/workload.js";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const N = intEnv("BENCH_N", 40_000);
const RATE = intEnv("BENCH_RATE", 1000);
const SECONDS = intEnv("BENCH_SECONDS", 10);
const BATCH = 100;
const PHASES = new Set(
  (process.env.BENCH_PHASES ?? "raw,hmac,ed25519,latency").split(",").map((s) => s.trim()),
);

const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);

async function main(): Promise<void> {
  const tag = randomBytes(4).toString("hex");
  let server: RedisServer | undefined;
  let url = process.env.REDIS_URL;
  if (!url) {
    server = await startRedisServer();
    url = server.url;
  }
  const workDir = await mkdtemp(join(tmpdir(), "intentgate-bench-"));
  const keys = makeKeys();
  const env = { [HMAC_SECRET_ENV]: keys.hmacSecret };
  let raw: RawResult | undefined;
  let hmac: InProcessResult | undefined;
  let ed: InProcessResult | undefined;
  let lat: LatencyResult | undefined;
  try {
    log(`redis ${server ? `redis-server on ${url} (own)` : url}; N=${N}, batch ${BATCH}; ${machineLoad()}`);
    const t = performance.now();
    const hmacPlans = signedPlans({ n: N, tag: `${tag}h`, key: keys.hmac, source: HMAC_SOURCE });
    const planBytes = hmacPlans.reduce((s, [p]) => s + Buffer.byteLength(p), 0) / N;
    const authBytes = hmacPlans.reduce((s, [, a]) => s + Buffer.byteLength(a), 0) / N;
    log(
      `signed ${N} HMAC plans in ${((performance.now() - t) / 1000).toFixed(1)} s (plan ${planBytes.toFixed(0)} B, auth ${authBytes.toFixed(0)} B)`,
    );

    if (PHASES.has("raw")) {
      const template = resultTemplate(tag);
      log(`raw loop: result ${Buffer.byteLength(`${template.head}1700000000000-0${template.tail}`)} B`);
      const cost = await serverCostStart(url);
      const cpu0 = process.cpuUsage();
      raw = await runRawLoop({
        url,
        prefix: `bench:${tag}:raw:`,
        plans: hmacPlans,
        result: template,
        batch: BATCH,
      });
      log(`raw loop: ${fmt(raw.perS)} entries/s (${raw.seconds.toFixed(2)} s)`);
      log(`raw loop (incl. pre-fill): node CPU ${cpuS(cpu0)} s; ${describeServerCost(await cost(), N)}`);
    }
    if (PHASES.has("hmac")) {
      const prefix = `bench:${tag}:hmac:`;
      const cost = await serverCostStart(url);
      const cpu0 = process.cpuUsage();
      hmac = await runInProcess({
        url,
        prefix,
        config: benchConfig({ bus: url, prefix, keys }),
        env,
        plans: hmacPlans,
        profile: profileAs("hmac"),
      });
      log(
        `hmac: ${fmt(hmac.perS)} plans/s (${hmac.seconds.toFixed(2)} s); ${describeTally(hmac.tally)}; result ${hmac.resultBytes.toFixed(0)} B`,
      );
      log(`hmac (incl. pre-fill): node CPU ${cpuS(cpu0)} s; ${describeServerCost(await cost(), N)}`);
      if (hmac.executed !== N)
        throw new Error(`HMAC run: only ${hmac.executed} of ${N} EXECUTED (${describeTally(hmac.tally)})`);
    }
    if (PHASES.has("ed25519")) {
      const t2 = performance.now();
      const edPlans = signedPlans({ n: N, tag: `${tag}e`, key: keys.ed25519, source: ED25519_SOURCE });
      log(`signed ${N} ed25519 plans in ${((performance.now() - t2) / 1000).toFixed(1)} s`);
      const prefix = `bench:${tag}:ed:`;
      const cost = await serverCostStart(url);
      const cpu0 = process.cpuUsage();
      ed = await runInProcess({
        url,
        prefix,
        config: benchConfig({ bus: url, prefix, keys }),
        env,
        plans: edPlans,
        profile: profileAs("ed25519"),
      });
      log(`ed25519: ${fmt(ed.perS)} plans/s (${ed.seconds.toFixed(2)} s); ${describeTally(ed.tally)}`);
      log(`ed25519 (incl. pre-fill): node CPU ${cpuS(cpu0)} s; ${describeServerCost(await cost(), N)}`);
      if (ed.executed !== N)
        throw new Error(`ed25519 run: only ${ed.executed} of ${N} EXECUTED (${describeTally(ed.tally)})`);
    }
    if (PHASES.has("latency")) {
      const warmup = RATE; // one second of load, not measured
      const total = warmup + RATE * SECONDS;
      const plans = signedPlans({ n: total, tag: `${tag}l`, key: keys.hmac, source: HMAC_SOURCE });
      const prefix = `bench:${tag}:lat:`;
      const childWhat =
        `${process.env.BENCH_CHILD_NODE_ARGS ?? ""} ${process.env.BENCH_CHILD_JS ?? "bin/intentgate.js"}`.trim();
      log(`latency: executor child (${childWhat}), ${RATE} plans/s for ${SECONDS} s (+1 s warm-up)`);
      lat = await runLatency({
        repoRoot,
        workDir,
        url,
        prefix,
        config: benchConfig({ bus: url, prefix, keys }),
        env,
        plans,
        warmupPlans: warmup,
        ratePerS: RATE,
        childCpuProfDir: process.env.BENCH_CHILD_CPU_PROF,
        childJs: process.env.BENCH_CHILD_JS,
        childNodeArgs: process.env.BENCH_CHILD_NODE_ARGS?.split(" ").filter((a) => a !== ""),
      });
      log(
        `latency: p50 ${lat.p50Ms.toFixed(2)} ms, p99 ${lat.p99Ms.toFixed(2)} ms, max ${lat.maxMs.toFixed(2)} ms; ` +
          `sent ${fmt(lat.sentPerS)}/s (max send lag ${lat.maxSendLagMs.toFixed(2)} ms); ` +
          `RSS idle ${lat.rssIdleMb.toFixed(1)} MB, max ${lat.rssMaxMb.toFixed(1)} MB; ${describeTally(lat.tally)}; child exit ${lat.childExit}`,
      );
      if ((lat.tally.get("EXECUTED") ?? 0) !== total)
        throw new Error(`latency run: not every plan EXECUTED (${describeTally(lat.tally)})`);
    }
    log(`done; ${machineLoad()}`);
  } finally {
    await rm(workDir, { recursive: true, force: true });
    await server?.stop();
  }
  report(raw, hmac, ed, lat);
}

/** Other processes competing for the CPUs make every figure here slower and noisier: say so. */
function machineLoad(): string {
  const [one] = loadavg();
  const cpus = availableParallelism();
  const busy = (one ?? 0) > cpus * 0.5 ? " (BUSY machine: figures are pessimistic and noisy)" : "";
  return `load average ${(one ?? 0).toFixed(2)} on ${cpus} CPUs${busy}`;
}

function profileAs(name: string): { dir: string; name: string } | undefined {
  const dir = process.env.BENCH_PROFILE_DIR;
  return dir ? { dir, name } : undefined;
}

function cpuS(since: NodeJS.CpuUsage): string {
  const d = process.cpuUsage(since);
  return ((d.user + d.system) / 1e6).toFixed(2);
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

function round(n: number | undefined, digits: number): number | null {
  if (n === undefined || !Number.isFinite(n)) return null;
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

function report(
  raw: RawResult | undefined,
  hmac: InProcessResult | undefined,
  ed: InProcessResult | undefined,
  lat: LatencyResult | undefined,
): void {
  const ratio = (x: InProcessResult | undefined) => (x && raw ? x.perS / raw.perS : undefined);
  const pass = (ok: boolean | undefined) => (ok === undefined ? "" : ok ? "ok" : "MISSED");
  const rows: string[][] = [];
  if (raw) rows.push(["raw Redis Streams loop", fmt(raw.perS), "1.00", "", ""]);
  if (hmac) {
    const r = ratio(hmac);
    rows.push([
      "IntentGate HMAC",
      fmt(hmac.perS),
      r?.toFixed(2) ?? "-",
      "≥ 0.60",
      pass(r === undefined ? undefined : r >= 0.6),
    ]);
  }
  if (ed) rows.push(["IntentGate ed25519", fmt(ed.perS), ratio(ed)?.toFixed(2) ?? "-", "", ""]);
  const out: string[] = [];
  out.push("");
  out.push(`Throughput (N=${N} per run, batch ${BATCH}, one consumer, same redis-server)`);
  out.push(table(["path", "entries/s", "ratio vs raw", "target", ""], rows));
  if (lat) {
    out.push("");
    out.push(
      `Latency: executor child process, ${lat.offeredPerS} plans/s offered open-loop ` +
        `(${fmt(lat.sentPerS)}/s achieved), ${lat.measured} plans measured after ${lat.warmup} warm-up`,
    );
    out.push(
      table(
        ["metric", "value", "target", ""],
        [
          ["p50 latency", `${lat.p50Ms.toFixed(2)} ms`, "", ""],
          ["p90 latency", `${lat.p90Ms.toFixed(2)} ms`, "", ""],
          ["p99 latency", `${lat.p99Ms.toFixed(2)} ms`, "≤ 5 ms", pass(lat.p99Ms <= 5)],
          ["p99.9 latency", `${lat.p999Ms.toFixed(2)} ms`, "", ""],
          ["max latency", `${lat.maxMs.toFixed(2)} ms`, "", ""],
          ["max send lag (load generator)", `${lat.maxSendLagMs.toFixed(2)} ms`, "", ""],
          ["executor RSS idle", `${lat.rssIdleMb.toFixed(1)} MB`, "", ""],
          [
            "executor RSS max under load",
            `${lat.rssMaxMb.toFixed(1)} MB`,
            "≤ 80 MB",
            pass(lat.rssMaxMb <= 80),
          ],
        ],
      ),
    );
  }
  out.push("");
  process.stdout.write(`${out.join("\n")}\n`);
  const json = {
    plans_per_s: round(hmac?.perS, 0),
    raw_per_s: round(raw?.perS, 0),
    ratio: round(ratio(hmac), 3),
    p99_ms: round(lat?.p99Ms, 3),
    rss_mb: round(lat?.rssMaxMb, 1),
    ed25519_per_s: round(ed?.perS, 0),
    p50_ms: round(lat?.p50Ms, 3),
  };
  process.stdout.write(`${JSON.stringify(json)}\n`);
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, c) => (c > 0 && c < 3 ? cell.padStart(widths[c] ?? 0) : cell.padEnd(widths[c] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  // main's own clean-up has run; whatever a failed run left open (a client that reconnects to the
  // server main just stopped, forever) must not keep a failed bench alive
  process.exit(1);
});
