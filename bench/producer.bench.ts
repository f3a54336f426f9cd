/**
 * `npm run bench:producer`: publish-to-own-result latency of a producer at a
 * fixed offered load (default 100 plans/s), through real processes: one
 * executor (child process) on its own redis-server, the paper venue.
 *
 * Three producers, each offered the same schedule (plan i due at t0 + i/rate),
 * latency = the moment the producer has the plan's own result − its due time:
 * - **baseline**: a bare XADD per plan and one shared blocking XREAD of the
 *   result stream (what the executor itself costs; no per-plan wait);
 * - **TypeScript SDK**: `PlanPublisher.publishAndWait` per plan (read the
 *   last result id, sign, XADD, wait for its own result);
 * - **Python SDK**: `intentgate_producer` `Producer.submit` per plan, from a
 *   pool of threads, each with its own connection.
 *
 * Prints a table (p50, p99, ratio to the baseline's p50), then ONE JSON line.
 * Environment: BENCH_PRODUCER_RATE (100), BENCH_PRODUCER_COUNT (1000 per
 * producer), BENCH_PRODUCER_WARMUP (100), REDIS_URL (use that server).
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { openBackend } from "../src/adapters/openBackend.js";
import { PlanPublisher } from "../src/sdk/planPublisher.js";
import { signPlan } from "../src/sdk/signPlan.js";
import { type RedisServer, startRedisServer } from "../test/support/redisServer.js";
import { quantile } from "./lib/latency.js";
import { client } from "./lib/redisUtil.js";

const ROOT = resolve(import.meta.dirname, "..");
const RATE = Number(process.env.BENCH_PRODUCER_RATE ?? 100);
const COUNT = Number(process.env.BENCH_PRODUCER_COUNT ?? 1000);
const WARMUP = Number(process.env.BENCH_PRODUCER_WARMUP ?? 100);
const KEY_ID = "bench-k1";
const SOURCE = "bench_src";
const log = (m: string) => process.stderr.write(`[bench:producer] ${m}\n`);

/** Runs `send(i, due)` for every plan on the open-loop schedule; resolves with the latencies (ms) after warm-up. */
async function schedule(send: (i: number) => Promise<void>): Promise<number[]> {
  const lat: number[] = new Array(COUNT).fill(Number.NaN);
  const jobs: Promise<void>[] = [];
  const t0 = performance.now() + 200;
  for (let i = 0; i < COUNT; i++) {
    const due = t0 + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    jobs.push(
      send(i).then(() => {
        lat[i] = performance.now() - due;
      }),
    );
  }
  await Promise.all(jobs);
  return lat.slice(WARMUP);
}

function pythonWithRedis(): string | undefined {
  for (const py of existsSync("/usr/bin/python3") ? ["/usr/bin/python3", "python3"] : ["python3"])
    if (spawnSync(py, ["-c", "import redis"]).status === 0) return py;
  return undefined;
}

async function main(): Promise<void> {
  let server: RedisServer | undefined;
  let url = process.env.REDIS_URL;
  if (!url) {
    server = await startRedisServer();
    url = server.url;
  }
  const dir = mkdtempSync(join(tmpdir(), "ig-bench-producer-"));
  const prefix = `igbp${randomBytes(3).toString("hex")}:`;
  const secret = randomBytes(32).toString("base64url");
  const admin = client(url, "bench-producer-admin");
  const sub = client(url, "bench-producer-sub");
  let child: ChildProcess | undefined;
  const backend = await openBackend({ url, prefix, create: "none" });
  try {
    await backend.initDeployment({ state: "ACTIVE", who: "bench" });
    const configPath = join(dir, "config.json");
    writeFileSync(
      configPath,
      JSON.stringify({
        bus: url,
        prefix,
        keys: { [KEY_ID]: { alg: "hmac-sha256", secret_env: "IG_BENCH_SECRET", source: SOURCE } },
        sources: { [SOURCE]: { lanes: ["main"] } },
        limits: { max_qty: { BTCUSDT: "1000" } },
        venues: { paper: { prices: { BTCUSDT: "65000" } } },
        log_level: "warn",
      }),
    );
    child = spawn(
      process.execPath,
      ["--import", "tsx", "src/apps/cli/main.ts", "executor", "--config", configPath, "--consumer", "bench"],
      { cwd: ROOT, env: { ...process.env, IG_BENCH_SECRET: secret }, stdio: ["ignore", "ignore", "inherit"] },
    );
    const key = { keyId: KEY_ID, alg: "hmac-sha256", secret } as const;
    const publisher = new PlanPublisher({ bus: backend, key });
    const plan = (tag: string, i: number) => ({
      plan_id: `${tag}-${i}`,
      source: SOURCE,
      symbol: "BTCUSDT",
      side: i % 2 ? ("BUY" as const) : ("SELL" as const),
      qty: "0.001",
    });
    // Ready once a probe plan is decided.
    await publisher.publishAndWait(plan("probe", 0), { timeoutMs: 60_000 });
    log(`executor ready; ${COUNT} plans per producer at ${RATE}/s, warm-up ${WARMUP}`);

    // Baseline: bare XADD, one shared reader.
    const resultStream = `${prefix}stream:apply.result`;
    const planStream = `${prefix}stream:apply.plan`;
    const waiting = new Map<string, () => void>();
    const seen = new Set<string>();
    let reading = true;
    const reader = (async () => {
      let last = "$";
      while (reading) {
        const reply = (await sub.call(
          "XREAD",
          "COUNT",
          1000,
          "BLOCK",
          200,
          "STREAMS",
          resultStream,
          last,
        )) as Array<[string, Array<[string, string[]]>]> | null;
        for (const [id, fields] of reply?.[0]?.[1] ?? []) {
          last = id;
          const r = JSON.parse(fields[1] ?? "{}") as { stream_id?: string };
          seen.add(r.stream_id ?? "");
          waiting.get(r.stream_id ?? "")?.();
        }
      }
    })();
    const base = await schedule(async (i) => {
      const text = JSON.stringify({ v: 1, venue: "paper", created_at: Date.now(), ...plan("base", i) });
      const { auth } = signPlan({ plan: text, key });
      const done = new Promise<void>((res) => {
        void admin.call("XADD", planStream, "*", "plan", text, "auth", auth).then((id) => {
          // The result may be read before this runs.
          if (seen.has(String(id))) res();
          else waiting.set(String(id), res);
        });
      });
      await done;
    });
    reading = false;
    await reader;
    log("baseline done");

    const ts = await schedule(async (i) => {
      const r = await publisher.publishAndWait(plan("ts", i), { timeoutMs: 30_000 });
      if (r.decision !== "EXECUTED") throw new Error(`ts plan ${i}: ${r.decision} ${r.error}`);
    });
    log("TypeScript SDK done");

    const py = pythonWithRedis();
    let python: number[] = [];
    if (py === undefined)
      log("no python3 with redis: the Python row is skipped (apt-get install python3-redis)");
    else {
      const run = spawnSync(py, [join(ROOT, "bench", "producer", "pyProducer.py")], {
        input: JSON.stringify({
          url,
          prefix,
          key_id: KEY_ID,
          secret,
          source: SOURCE,
          rate: RATE,
          count: COUNT,
          warmup: WARMUP,
          workers: 32,
          package_dir: join(ROOT, "python"),
          plan_prefix: "py",
        }),
        encoding: "utf8",
        maxBuffer: 64 * 1024 * 1024,
      });
      if (run.status !== 0) throw new Error(`python producer failed:\n${run.stderr}`);
      const out = JSON.parse(run.stdout.trim().split("\n").pop() ?? "{}") as {
        latencies_ms: number[];
        decisions: Record<string, number>;
      };
      if ((out.decisions.EXECUTED ?? 0) !== COUNT)
        throw new Error(`python: ${JSON.stringify(out.decisions)}`);
      python = out.latencies_ms;
      log("Python SDK done");
    }

    const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
    const p = (xs: number[], q: number) => quantile(sorted(xs), q);
    const baseP50 = p(base, 0.5);
    const row = (name: string, xs: number[]) =>
      xs.length === 0
        ? `${name.padEnd(22)} (not run)`
        : `${name.padEnd(22)} p50 ${p(xs, 0.5).toFixed(1).padStart(7)} ms  p99 ${p(xs, 0.99).toFixed(1).padStart(7)} ms  max ${Math.max(
            ...xs,
          )
            .toFixed(1)
            .padStart(7)}  ×baseline p50 ${(p(xs, 0.5) / baseP50).toFixed(2)}`;
    console.log(
      `publish → own result at ${RATE} plans/s, ${COUNT - WARMUP} measured per producer (one executor, paper)`,
    );
    console.log(row("baseline (XADD+XREAD)", base));
    console.log(row("TypeScript SDK", ts));
    console.log(row("Python SDK", python));
    const round = (x: number) => Math.round(x * 10) / 10;
    console.log(
      JSON.stringify({
        rate: RATE,
        measured: COUNT - WARMUP,
        baseline_p50_ms: round(baseP50),
        baseline_p99_ms: round(p(base, 0.99)),
        ts_p50_ms: round(p(ts, 0.5)),
        ts_p99_ms: round(p(ts, 0.99)),
        ts_over_baseline: round(p(ts, 0.5) / baseP50),
        py_p50_ms: python.length ? round(p(python, 0.5)) : null,
        py_p99_ms: python.length ? round(p(python, 0.99)) : null,
        py_over_baseline: python.length ? round(p(python, 0.5) / baseP50) : null,
      }),
    );
  } finally {
    child?.kill("SIGTERM");
    await backend.close();
    admin.disconnect();
    sub.disconnect();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
