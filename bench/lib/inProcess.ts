import { mkdirSync, openSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import { join } from "node:path";
import { openRedisBackend } from "../../src/adapters/redis/redisBackend.js";
import { settingsOf } from "../../src/apps/executor/runExecutor.js";
import { parseConfigText } from "../../src/config/loadConfig.js";
import type { PlanResult } from "../../src/core/result.js";
import { Executor, type ExecutorObserver } from "../../src/executor/executor.js";
import { executorObserver } from "../../src/executor/executorObserver.js";
import { createLogger, flushLogger } from "../../src/ops/logger.js";
import { createMetrics } from "../../src/ops/metrics.js";
import { writeBackgroundBooks } from "./backgroundBooks.js";
import { averageResultBytes, client, dropPrefix, prefill, tallyResults } from "./redisUtil.js";
import type { PlanFields } from "./workload.js";

export interface InProcessResult {
  readonly n: number;
  readonly seconds: number;
  readonly perS: number;
  /** Decisions as read back from the result stream. */
  readonly tally: Map<string, number>;
  readonly executed: number;
  readonly failures: number;
  readonly resultBytes: number;
}

/**
 * The real executor, in this process, on a pre-filled plan stream: the real
 * Redis backend, config parsing, policy, gate chain, commit script and
 * observer (pino to /dev/null, prom-client metrics). Timed from the first
 * read to the Nth committed result.
 */
export async function runInProcess(opts: {
  url: string;
  prefix: string;
  config: Record<string, unknown>;
  env: Record<string, string>;
  plans: readonly PlanFields[];
  stallTimeoutMs?: number;
  /** When set, a CPU profile of exactly the measured window is written to `<dir>/<name>.cpuprofile`. */
  profile?: { dir: string; name: string } | undefined;
}): Promise<InProcessResult> {
  const loaded = await parseConfigText(JSON.stringify(opts.config), "json", opts.env);
  const raw = client(opts.url, "bench-inprocess");
  const backend = await openRedisBackend({ url: opts.url, prefix: loaded.config.prefix });
  const devNull = openSync("/dev/null", "w");
  const logger = createLogger({ level: "info", destination: devNull });
  const metrics = createMetrics();
  const n = opts.plans.length;
  const planStream = `${loaded.config.prefix}stream:apply.plan`;
  const resultStream = `${loaded.config.prefix}stream:apply.result`;
  try {
    await backend.initDeployment({ state: "ACTIVE", who: "bench" });
    await prefill(raw, planStream, opts.plans);
    await writeBackgroundBooks(raw, loaded.config.prefix);
    // written as an older deployment left them: one read for a cap builds every account's books
    // (lua/buildBooks.lua) here, so the timed run starts from built books as a running deployment does
    await backend.readFacts({
      planIds: [],
      permitIds: [],
      rates: [],
      positions: [],
      exposureAccounts: ["-"],
    });

    const real = executorObserver(logger, metrics);
    const stop = new AbortController();
    let decided = 0;
    let failures = 0;
    let lastProgress = performance.now();
    let tEnd = 0;
    let finish: () => void = () => undefined;
    const allDecided = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const observer: ExecutorObserver = {
      decided(result: PlanResult, seconds: number) {
        real.decided(result, seconds);
        decided++;
        lastProgress = performance.now();
        if (decided === n) {
          tEnd = lastProgress;
          stop.abort();
          finish();
        }
      },
      duplicate: (lane, id) => real.duplicate(lane, id),
      gaveUp: (count) => real.gaveUp(count),
      failed(err, during) {
        failures++;
        real.failed(err, during);
      },
    };
    const executor = new Executor({
      backend,
      consumer: "bench-inprocess",
      policy: () => loaded.policy,
      settings: settingsOf(loaded.config),
      observer,
    });
    // the profile's directory exists before the run, so a path that cannot be written fails here, not after it
    if (opts.profile) mkdirSync(opts.profile.dir, { recursive: true });
    const profiler = opts.profile ? await startProfiler() : undefined;
    const stall = opts.stallTimeoutMs ?? 30_000;
    const watchdog = setInterval(() => {
      if (performance.now() - lastProgress > stall) {
        stop.abort();
        finish();
      }
    }, 1000);
    const t0 = performance.now();
    lastProgress = t0;
    const running = executor.run(stop.signal);
    try {
      await allDecided;
      if (profiler && opts.profile) {
        writeFileSync(
          join(opts.profile.dir, `${opts.profile.name}.cpuprofile`),
          JSON.stringify(await profiler()),
        );
      }
    } finally {
      // a failure here must not leave the watchdog (and so the process) running, nor the executor
      clearInterval(watchdog);
      stop.abort();
      await running;
    }
    if (decided < n)
      throw new Error(`in-process executor stalled: ${decided} of ${n} decided, ${failures} failures`);
    const seconds = (tEnd - t0) / 1000;
    const tally = await tallyResults(raw, resultStream);
    const resultBytes = await averageResultBytes(raw, resultStream);
    return {
      n,
      seconds,
      perS: n / seconds,
      tally,
      executed: tally.get("EXECUTED") ?? 0,
      failures,
      resultBytes,
    };
  } finally {
    await backend.close();
    await flushLogger(logger);
    // /dev/null stays open: the logger's buffered destination may still write to it until exit.
    await dropPrefix(raw, loaded.config.prefix);
    await raw.quit();
  }
}

/** Starts the V8 sampling profiler on this thread; the returned function stops it and yields the profile. */
async function startProfiler(): Promise<() => Promise<object>> {
  const session = new Session();
  session.connect();
  const post = (method: string, params?: object) =>
    new Promise<unknown>((resolve, reject) => {
      session.post(method, params ?? {}, (err, res) => (err ? reject(err) : resolve(res)));
    });
  await post("Profiler.enable");
  await post("Profiler.setSamplingInterval", { interval: 200 });
  await post("Profiler.start");
  return async () => {
    const res = (await post("Profiler.stop")) as { profile: object };
    session.disconnect();
    return res.profile;
  };
}
