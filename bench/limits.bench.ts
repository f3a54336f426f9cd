/**
 * `npm run bench:limits`: what the optional gate-9 limits cost on the HMAC
 * path (issue 13's budget: at most 10 %). The real executor runs in this
 * process on one redis-server, alternately without and with the limits, in
 * rounds (ABBA: odd rounds baseline first, even rounds variant first), each
 * run on its own prefix with the same signed plans. Machine drift hits both
 * sides of a round alike, so the figure is the median of the per-round
 * ratios (variant / baseline), printed with its spread; ONE JSON line last.
 *
 * Every plan is a different order (unique qty), so the duplicate window
 * never denies; the caps are set far above what a run places, so they only
 * cost what checking them costs.
 *
 * Environment (all optional):
 *   REDIS_URL      use this server instead of starting redis-server on a free port
 *   BENCH_N        plans per run (default 20000)
 *   BENCH_ROUNDS   rounds (default 6)
 *   BENCH_LIMITS   comma list of what the variant turns on: dup (duplicate_window_ms),
 *                  account (max_daily_notional, max_open_orders), exposure (max_position,
 *                  max_gross_notional), or one account cap alone: daily (max_daily_notional),
 *                  open (max_open_orders); default dup, account and exposure
 *   BENCH_ISOLATE  1: each run in a fresh child process (a warm-up of N/4 plans, then the
 *                  measured N), as a deployment runs one config per process; by default the
 *                  runs share this process, so the code they share has seen both configs
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { type RedisServer, startRedisServer } from "../test/support/redisServer.js";
import { runInProcess } from "./lib/inProcess.js";
import { intEnv } from "./lib/intEnv.js";
import { limitsVariant, median } from "./lib/limitsVariant.js";
import { benchConfig, HMAC_SECRET_ENV, HMAC_SOURCE, makeKeys, signedPlans } from "./lib/workload.js";

const N = intEnv("BENCH_N", 20_000);
const ROUNDS = intEnv("BENCH_ROUNDS", 6);
const ISOLATE = process.env.BENCH_ISOLATE === "1";
/** Set in a child of BENCH_ISOLATE=1: what to run, as JSON (see {@link runChild}). */
const CHILD = process.env.IG_BENCH_LIMITS_CHILD;

const log = (msg: string) => process.stderr.write(`[bench:limits] ${msg}\n`);

async function main(): Promise<void> {
  const { names, limits: variant } = limitsVariant();
  let server: RedisServer | undefined;
  let url = process.env.REDIS_URL;
  if (!url) {
    server = await startRedisServer();
    url = server.url;
  }
  const keys = makeKeys();
  const env = { [HMAC_SECRET_ENV]: keys.hmacSecret };
  const tag = randomBytes(4).toString("hex");
  const plans = signedPlans({ n: N, tag, key: keys.hmac, source: HMAC_SOURCE, unique: true });
  const base: number[] = [];
  const withLimits: number[] = [];
  const ratios: number[] = [];
  try {
    log(
      `N=${N} per run, ${ROUNDS} rounds${ISOLATE ? ", each run in its own process" : ""}; variant: ${names.join(", ")} (${JSON.stringify(variant)})`,
    );
    let run = 0;
    const once = async (limits: Record<string, unknown> | undefined): Promise<number> => {
      if (ISOLATE) return inChild({ url: url as string, tag: `${tag}-${run++}`, limits });
      const prefix = `bench:${tag}:${run++}:`;
      const r = await runInProcess({
        url: url as string,
        prefix,
        config: benchConfig({ bus: url as string, prefix, keys, ...(limits ? { limits } : {}) }),
        env,
        plans,
      });
      if (r.executed !== N) throw new Error(`only ${r.executed} of ${N} EXECUTED`);
      return r.perS;
    };
    for (let round = 1; round <= ROUNDS; round++) {
      let a: number;
      let b: number;
      if (round % 2 === 1) {
        a = await once(undefined);
        b = await once(variant);
      } else {
        b = await once(variant);
        a = await once(undefined);
      }
      base.push(a);
      withLimits.push(b);
      ratios.push(b / a);
      log(
        `round ${round}: without ${a.toFixed(0)} plans/s, with ${b.toFixed(0)} plans/s, ratio ${(b / a).toFixed(3)}`,
      );
    }
  } finally {
    await server?.stop();
  }
  const fmt = (xs: number[]) =>
    `${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)} (median ${median(xs).toFixed(0)})`;
  log(`without: ${fmt(base)} plans/s`);
  log(`with ${names.join("+")}: ${fmt(withLimits)} plans/s`);
  log(
    `ratio per round: ${ratios.map((r) => r.toFixed(3)).join(", ")}; median ${median(ratios).toFixed(3)} ` +
      `(cost ${((1 - median(ratios)) * 100).toFixed(1)} %, budget 10 %)`,
  );
  console.log(
    JSON.stringify({
      limits: names,
      isolate: ISOLATE,
      n: N,
      rounds: ROUNDS,
      without_median: Math.round(median(base)),
      with_median: Math.round(median(withLimits)),
      ratio_median: Number(median(ratios).toFixed(3)),
      ratio_min: Number(Math.min(...ratios).toFixed(3)),
      ratio_max: Number(Math.max(...ratios).toFixed(3)),
    }),
  );
}

/** What a child of BENCH_ISOLATE=1 runs. */
interface ChildJob {
  readonly url: string;
  readonly tag: string;
  readonly limits: Record<string, unknown> | undefined;
}

/** One run in a fresh process (this script, as a child): its plans/s. */
function inChild(job: ChildJob): number {
  const out = execFileSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url)], {
    env: { ...process.env, IG_BENCH_LIMITS_CHILD: JSON.stringify(job) },
    stdio: ["ignore", "pipe", "inherit"],
    maxBuffer: 1 << 20,
  });
  const perS = Number(JSON.parse(out.toString().trim().split("\n").at(-1) ?? "{}").perS);
  if (!Number.isFinite(perS)) throw new Error(`child ${job.tag} printed no plans/s`);
  return perS;
}

/** The child: a warm-up of N/4 plans on its own prefix, then the measured run; prints `{"perS": …}`. */
async function runChild(job: ChildJob): Promise<void> {
  const keys = makeKeys();
  const env = { [HMAC_SECRET_ENV]: keys.hmacSecret };
  for (const [phase, n] of [
    ["warm", Math.max(1, Math.floor(N / 4))],
    ["run", N],
  ] as const) {
    const prefix = `bench:${job.tag}:${phase}:`;
    const plans = signedPlans({
      n,
      tag: `${job.tag}-${phase}`,
      key: keys.hmac,
      source: HMAC_SOURCE,
      unique: true,
    });
    const r = await runInProcess({
      url: job.url,
      prefix,
      config: benchConfig({ bus: job.url, prefix, keys, ...(job.limits ? { limits: job.limits } : {}) }),
      env,
      plans,
    });
    if (r.executed !== n) throw new Error(`only ${r.executed} of ${n} EXECUTED`);
    if (phase === "run") console.log(JSON.stringify({ perS: r.perS }));
  }
}

(CHILD ? runChild(JSON.parse(CHILD) as ChildJob) : main()).catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
