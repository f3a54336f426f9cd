/**
 * `npm run bench:limits-core`: what the optional gate-9 limits cost in the
 * decision path alone, with no bus: per plan, gate 1 (parse), the gate chain
 * (HMAC verified), the batch's facts overlay, the decision and the Redis
 * commit script's arguments (commitArgs.ts), on facts as an empty ledger
 * returns them. The executor bench's figure (`npm run bench:limits`) mixes
 * this with ioredis, Redis' own time and the waits between them; this one is
 * the executor's own CPU in the decision path, and the commit's arguments
 * per plan (exact: each costs ioredis and Redis again). Rounds alternate
 * without/with (ABBA) in one process on the same signed plans, after a full
 * collection each; the figure is the median per-round ratio of CPU
 * per plan (with / without), with its spread; ONE JSON line last.
 *
 * Environment (all optional):
 *   BENCH_N        plans per run (default 20000, in batches of 100)
 *   BENCH_ROUNDS   rounds (default 8; each runs both sides once, after one unmeasured warm-up round)
 *   BENCH_LIMITS   what the variant turns on (lib/limitsVariant.ts; default all three groups)
 *   BENCH_SIDE     without | with: run only that side, ROUNDS times (to profile it with
 *                  `node --cpu-prof`, then compare two profiles with bench/profileDiff.ts)
 *
 * On a noisy VM every run is slowed by whatever else the host does, never
 * sped up: the minimum per side is printed beside the medians.
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { buildCommitCall } from "../src/adapters/redis/commitArgs.js";
import { redisKeys } from "../src/adapters/redis/redisKeys.js";
import { parseConfigText } from "../src/config/loadConfig.js";
import type { BusEntry } from "../src/core/busEntry.js";
import { classifyEntry, decideEntry, factsQueryFor } from "../src/core/decide.js";
import type { Decision } from "../src/core/decision.js";
import type { Facts, FactsQuery } from "../src/core/facts.js";
import { FactsOverlay } from "../src/core/factsOverlay.js";
import type { Policy } from "../src/core/policy.js";
import { makeFacts } from "../test/support/coreFixtures.js";
import { intEnv } from "./lib/intEnv.js";
import { limitsVariant, median } from "./lib/limitsVariant.js";
import { benchConfig, HMAC_SECRET_ENV, HMAC_SOURCE, makeKeys, signedPlans } from "./lib/workload.js";

const N = intEnv("BENCH_N", 20_000);
const ROUNDS = intEnv("BENCH_ROUNDS", 8);
const BATCH = 100;
const PREFIX = "bench:core:";

// A full collection before each run, so no run pays for the garbage of the one before it.
setFlagsFromString("--expose-gc");
const collectGarbage = runInNewContext("gc") as () => void;

const log = (msg: string) => process.stderr.write(`[bench:limits-core] ${msg}\n`);

/** What an empty ledger returns for `query` (every account asked for: no open order, empty books). */
function emptyFacts(query: FactsQuery): Facts {
  return makeFacts({
    openOrders: Object.fromEntries((query.openOrderAccounts ?? []).map((a) => [a, 0])),
    exposure: Object.fromEntries((query.exposureAccounts ?? []).map((a) => [a, []])),
  });
}

/** One run over every entry: CPU µs per plan, and the commit arguments per plan. */
function run(entries: readonly BusEntry[], policy: Policy, now: number): { us: number; args: number } {
  const keys = redisKeys(PREFIX);
  let args = 0;
  let executed = 0;
  collectGarbage();
  const cpu0 = process.cpuUsage();
  for (let b = 0; b < entries.length; b += BATCH) {
    const open = entries.slice(b, b + BATCH).map((e) => classifyEntry(e));
    const query = factsQueryFor(open, now, { limits: policy.limits });
    const facts = new FactsOverlay(emptyFacts(query));
    const decisions: Decision[] = [];
    for (const item of open) {
      const decision = decideEntry(item, policy, facts, now);
      facts.apply(decision);
      decisions.push(decision);
      if (decision.result.decision === "EXECUTED") executed++;
    }
    const call = buildCommitCall({ keys, decisions, deployment: "bench", consumer: "bench" });
    args += call.keys.length + call.argv.length;
  }
  const cpu = process.cpuUsage(cpu0);
  if (executed !== entries.length) throw new Error(`only ${executed} of ${entries.length} EXECUTED`);
  return { us: (cpu.user + cpu.system) / entries.length, args: args / entries.length };
}

async function main(): Promise<void> {
  const { names, limits } = limitsVariant();
  const keys = makeKeys();
  const env = { [HMAC_SECRET_ENV]: keys.hmacSecret };
  const policyOf = async (extra: Record<string, unknown> | undefined) => {
    const config = benchConfig({
      bus: "redis://127.0.0.1:1",
      prefix: PREFIX,
      keys,
      ...(extra ? { limits: extra } : {}),
    });
    return (await parseConfigText(JSON.stringify(config), "json", env)).policy;
  };
  const without = await policyOf(undefined);
  const withLimits = await policyOf(limits);
  const now = Date.now();
  const plans = signedPlans({
    n: N,
    tag: "core",
    key: keys.hmac,
    source: HMAC_SOURCE,
    unique: true,
    createdAt: now,
  });
  const entries: BusEntry[] = plans.map(([plan, auth], i) => ({
    lane: "main",
    id: `${now}-${i}`,
    fields: [
      ["plan", Buffer.from(plan)],
      ["auth", Buffer.from(auth)],
    ],
    deliveries: 1,
  }));
  log(`N=${N} per run, batch ${BATCH}, ${ROUNDS} rounds after a warm-up; variant: ${names.join(", ")}`);
  const side = process.env.BENCH_SIDE;
  if (side !== undefined) {
    if (side !== "without" && side !== "with") throw new Error("BENCH_SIDE must be without or with");
    const policy = side === "with" ? withLimits : without;
    const us: number[] = [];
    for (let round = 0; round <= ROUNDS; round++) us.push(run(entries, policy, now).us);
    log(
      `${side} only: ${us
        .slice(1)
        .map((u) => u.toFixed(1))
        .join(", ")} µs/plan (after a warm-up)`,
    );
    return;
  }
  run(entries, without, now);
  run(entries, withLimits, now);
  const base: number[] = [];
  const variant: number[] = [];
  const ratios: number[] = [];
  let argsBase = 0;
  let argsVariant = 0;
  for (let round = 1; round <= ROUNDS; round++) {
    const sides = round % 2 === 1 ? [without, withLimits] : [withLimits, without];
    const [first, second] = sides.map((policy) => run(entries, policy as Policy, now)) as [
      ReturnType<typeof run>,
      ReturnType<typeof run>,
    ];
    const [a, b] = round % 2 === 1 ? [first, second] : [second, first];
    base.push(a.us);
    variant.push(b.us);
    ratios.push(b.us / a.us);
    argsBase = a.args;
    argsVariant = b.args;
    log(
      `round ${round}: without ${a.us.toFixed(1)} µs/plan, with ${b.us.toFixed(1)} µs/plan, ratio ${(b.us / a.us).toFixed(3)}`,
    );
  }
  const fmt = (xs: number[]) =>
    `${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)} (median ${median(xs).toFixed(1)})`;
  log(`without: ${fmt(base)} µs/plan, ${argsBase.toFixed(1)} commit arguments/plan`);
  log(`with ${names.join("+")}: ${fmt(variant)} µs/plan, ${argsVariant.toFixed(1)} commit arguments/plan`);
  log(`ratio per round: ${ratios.map((r) => r.toFixed(3)).join(", ")}; median ${median(ratios).toFixed(3)}`);
  const [minBase, minVariant] = [Math.min(...base), Math.min(...variant)];
  log(
    `fastest runs: ${minBase.toFixed(1)} and ${minVariant.toFixed(1)} µs/plan, +${(minVariant - minBase).toFixed(1)} µs (ratio ${(minVariant / minBase).toFixed(3)})`,
  );
  console.log(
    JSON.stringify({
      limits: names,
      n: N,
      rounds: ROUNDS,
      without_us_median: Number(median(base).toFixed(2)),
      with_us_median: Number(median(variant).toFixed(2)),
      extra_us_median: Number((median(variant) - median(base)).toFixed(2)),
      ratio_median: Number(median(ratios).toFixed(3)),
      ratio_min: Number(Math.min(...ratios).toFixed(3)),
      ratio_max: Number(Math.max(...ratios).toFixed(3)),
      without_us_min: Number(minBase.toFixed(2)),
      with_us_min: Number(minVariant.toFixed(2)),
      args_without: Number(argsBase.toFixed(1)),
      args_with: Number(argsVariant.toFixed(1)),
    }),
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
