import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { openRedisBackend } from "../../src/adapters/redis/redisBackend.js";
import { client, dropPrefix, tallyResults } from "./redisUtil.js";
import type { PlanFields } from "./workload.js";

export interface LatencyResult {
  readonly offeredPerS: number;
  readonly measured: number;
  readonly warmup: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  readonly maxMs: number;
  /** Largest delay of a send behind its schedule (the load generator's own lag). */
  readonly maxSendLagMs: number;
  /** Achieved send rate over the measured window. */
  readonly sentPerS: number;
  readonly rssMaxMb: number;
  readonly rssIdleMb: number;
  readonly tally: Map<string, number>;
  readonly childExit: number | null;
}

/** Resident set size of a process in MB, from /proc/<pid>/status (VmRSS, kB). */
export function rssMb(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

/**
 * Open-loop latency at a fixed offered load against the real executor as a
 * child process (`intentgate executor --config F`). Plans are sent on a
 * clock-anchored schedule (plan i is due at t0 + i / rate; every timer wake
 * sends all plans due, so the schedule never drifts); each send time is kept
 * by stream id; a blocking XREAD on its own connection sees the results.
 * Latency = result seen − XADD sent. The first `warmupPlans` are excluded.
 */
export async function runLatency(opts: {
  repoRoot: string;
  workDir: string;
  url: string;
  prefix: string;
  config: Record<string, unknown>;
  env: Record<string, string>;
  plans: readonly PlanFields[];
  warmupPlans: number;
  ratePerS: number;
  childCpuProfDir?: string | undefined;
  /** The CLI entry to run (default `bin/intentgate.js`, the compiled CLI). */
  childJs?: string | undefined;
  /** Extra node options for the child (experiments: `--max-semi-space-size=2`, a memory probe preload). */
  childNodeArgs?: readonly string[] | undefined;
}): Promise<LatencyResult> {
  const configPath = join(opts.workDir, "executor-latency.json");
  await writeFile(configPath, JSON.stringify(opts.config, null, 2));
  const planStream = `${opts.prefix}stream:apply.plan`;
  const resultStream = `${opts.prefix}stream:apply.result`;
  const admin = client(opts.url, "bench-latency-admin");
  const pub = client(opts.url, "bench-latency-pub");
  const sub = client(opts.url, "bench-latency-sub");
  let child: ChildProcess | undefined;
  let childErr = "";
  let childExit: number | null = null;
  const exited = { done: false };
  try {
    // The executor decides only within a deployment (wire-v1 §7b): create it, as `intentgate init` does.
    const deployment = await openRedisBackend({ url: opts.url, prefix: opts.prefix });
    await deployment.initDeployment({ state: "ACTIVE", who: "bench" }).finally(() => deployment.close());
    const consumer = "bench-latency";
    // By default the installed CLI is executed as production runs it (`bin/intentgate.js`,
    // compiled by `npm run build`, with the node flags of its shebang); node flags or another
    // entry run it through `node` instead. tsx alone would add ~30 MB of RSS.
    const cliArgs = ["executor", "--config", configPath, "--consumer", consumer];
    const nodeArgs = [...(opts.childNodeArgs ?? [])];
    if (opts.childCpuProfDir) nodeArgs.push("--cpu-prof", "--cpu-prof-dir", opts.childCpuProfDir);
    const direct = opts.childJs === undefined && nodeArgs.length === 0;
    child = spawn(
      direct ? join(opts.repoRoot, "bin", "intentgate.js") : process.execPath,
      direct ? cliArgs : [...nodeArgs, opts.childJs ?? "bin/intentgate.js", ...cliArgs],
      { cwd: opts.repoRoot, env: { ...process.env, ...opts.env }, stdio: ["ignore", "ignore", "pipe"] },
    );
    child.stderr?.on("data", (d: Buffer) => {
      childErr = (childErr + d.toString("utf8")).slice(-4000);
    });
    const exitPromise = new Promise<void>((resolve) => {
      child!.once("exit", (code) => {
        childExit = code;
        exited.done = true;
        resolve();
      });
    });
    const pid = child.pid;
    if (pid === undefined) throw new Error("cannot spawn the executor child");

    // Ready once it has decided a probe plan (a consumer blocked in its first XREADGROUP is not yet
    // listed by XINFO CONSUMERS, so that cannot tell). The probe is plans[0], outside the measurement.
    const [probePlan, probeAuth] = opts.plans[0]!;
    await admin.call("XADD", planStream, "*", "plan", probePlan, "auth", probeAuth);
    const readyBy = Date.now() + 30_000;
    while (Number(await admin.call("XLEN", resultStream)) < 1) {
      if (exited.done) throw new Error(`executor child exited (${childExit}) before reading:\n${childErr}`);
      if (Date.now() > readyBy) throw new Error(`executor child decided nothing within 30 s:\n${childErr}`);
      await sleep(20);
    }
    await sleep(300);
    const rssIdleMb = rssMb(pid) ?? Number.NaN;

    const load = opts.plans.slice(1);
    const total = load.length;
    const warmupPlans = Math.max(0, opts.warmupPlans - 1);
    const sentAt = new Float64Array(total);
    const scheduledAt = new Float64Array(total);
    const idToIndex = new Map<string, number>();
    const seen: Array<{ streamId: string; at: number }> = [];
    let rssMax = 0;
    const sampler = setInterval(() => {
      const v = rssMb(pid);
      if (v !== undefined && v > rssMax) rssMax = v;
    }, 200);

    // Result reader: blocking XREAD on its own connection, from the stream's current end.
    let readerDone = false;
    const reader = (async () => {
      let last = "$";
      while (!readerDone) {
        const reply = (await sub.callBuffer(
          "XREAD",
          "COUNT",
          1000,
          "BLOCK",
          200,
          "STREAMS",
          resultStream,
          last,
        )) as Array<[Buffer, Array<[Buffer, Buffer[]]>]> | null;
        const at = performance.now();
        const entries = reply?.[0]?.[1];
        if (!entries) continue;
        for (const [id, fields] of entries) {
          const text = fields[fields.findIndex((f, i) => i % 2 === 0 && f.toString() === "result") + 1];
          const res = JSON.parse(text?.toString("utf8") ?? "{}") as { stream_id?: string };
          seen.push({ streamId: res.stream_id ?? "", at });
          last = id.toString("latin1");
        }
        if (seen.length >= total) break;
      }
    })();
    await sleep(50); // let the reader's first XREAD ($) reach the server before any send

    // Open-loop publisher, anchored to the clock.
    const intervalMs = 1000 / opts.ratePerS;
    let maxLag = 0;
    const sends: Array<Promise<void>> = [];
    const t0 = performance.now() + 5;
    await new Promise<void>((resolve) => {
      let i = 0;
      const tick = () => {
        const now = performance.now();
        const due = Math.min(total, Math.floor((now - t0) / intervalMs) + 1);
        while (i < due) {
          const k = i++;
          const [plan, auth] = load[k]!;
          scheduledAt[k] = t0 + k * intervalMs;
          sentAt[k] = performance.now();
          maxLag = Math.max(maxLag, sentAt[k]! - scheduledAt[k]!);
          sends.push(
            (pub.call("XADD", planStream, "*", "plan", plan, "auth", auth) as Promise<string>).then((id) => {
              idToIndex.set(id, k);
            }),
          );
        }
        if (i >= total) resolve();
        else setTimeout(tick, Math.max(0, t0 + i * intervalMs - performance.now()));
      };
      setTimeout(tick, Math.max(0, t0 - performance.now()));
    });
    await Promise.all(sends);
    const deadline = Date.now() + 30_000;
    while (seen.length < total && Date.now() < deadline && !exited.done) await sleep(20);
    readerDone = true;
    clearInterval(sampler);
    await reader;
    if (seen.length < total) throw new Error(`only ${seen.length} of ${total} results arrived:\n${childErr}`);

    const lat: number[] = [];
    for (const s of seen) {
      const k = idToIndex.get(s.streamId);
      if (k === undefined) throw new Error(`result for unknown stream id ${s.streamId}`);
      if (k >= warmupPlans) lat.push(s.at - sentAt[k]!);
    }
    lat.sort((a, b) => a - b);
    const measuredSpanS = (sentAt[total - 1]! - sentAt[warmupPlans]!) / 1000;
    const tally = await tallyResults(admin, resultStream);

    child.kill("SIGTERM");
    await Promise.race([exitPromise, sleep(15_000)]);
    if (!exited.done) child.kill("SIGKILL");
    return {
      offeredPerS: opts.ratePerS,
      measured: lat.length,
      warmup: opts.warmupPlans,
      p50Ms: quantile(lat, 0.5),
      p90Ms: quantile(lat, 0.9),
      p99Ms: quantile(lat, 0.99),
      p999Ms: quantile(lat, 0.999),
      maxMs: lat[lat.length - 1] ?? Number.NaN,
      maxSendLagMs: maxLag,
      sentPerS: (total - warmupPlans - 1) / measuredSpanS,
      rssMaxMb: rssMax,
      rssIdleMb,
      tally,
      childExit,
    };
  } finally {
    if (child && !exited.done) child.kill("SIGKILL");
    await dropPrefix(admin, opts.prefix);
    for (const c of [pub, sub, admin]) c.disconnect();
  }
}
