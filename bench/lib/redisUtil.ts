import { Redis } from "ioredis";
import type { PlanFields } from "./workload.js";

/** A plain client on RESP2 like the executor's backend (ioredis 6 defaults to RESP3, whose stream replies are maps). */
export function client(url: string, name: string): Redis {
  const r = new Redis(url, { connectionName: name, maxRetriesPerRequest: 1, protocol: 2 });
  r.on("error", () => {
    // reported through the failing command
  });
  return r;
}

/** Appends every plan to `stream` with pipelines of `chunk` XADDs; returns the ids in order. */
export async function prefill(
  r: Redis,
  stream: string,
  plans: readonly PlanFields[],
  chunk = 1000,
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < plans.length; i += chunk) {
    const p = r.pipeline();
    for (const [plan, auth] of plans.slice(i, i + chunk))
      p.call("XADD", stream, "*", "plan", plan, "auth", auth);
    for (const [err, id] of (await p.exec()) ?? []) {
      if (err) throw err;
      ids.push(String(id));
    }
  }
  return ids;
}

/** Deletes every key under `prefix` (the bench's own keys only). */
export async function dropPrefix(r: Redis, prefix: string): Promise<void> {
  let cursor = "0";
  do {
    const [next, keys] = (await r.call("SCAN", cursor, "MATCH", `${globEscape(prefix)}*`, "COUNT", 1000)) as [
      string,
      string[],
    ];
    cursor = next;
    if (keys.length > 0) await r.call("UNLINK", ...keys);
  } while (cursor !== "0");
}

function globEscape(s: string): string {
  return s.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

/** Counts decisions in a result stream (read back from Redis, not from what the executor reported). */
export async function tallyResults(r: Redis, resultStream: string): Promise<Map<string, number>> {
  const tally = new Map<string, number>();
  let start = "-";
  for (;;) {
    const page = (await r.call("XRANGE", resultStream, start, "+", "COUNT", 5000)) as Array<
      [string, string[]]
    >;
    for (const [, fields] of page) {
      const at = fields.indexOf("result");
      const res = JSON.parse(fields[at + 1] ?? "null") as { decision?: string; error?: string | null } | null;
      const key = res?.decision === "EXECUTED" ? "EXECUTED" : `${res?.decision}:${res?.error}`;
      tally.set(key, (tally.get(key) ?? 0) + 1);
    }
    if (page.length < 5000) break;
    start = `(${page[page.length - 1]![0]}`;
  }
  return tally;
}

/** Average byte length of the `result` field of the first `n` result entries. */
export async function averageResultBytes(r: Redis, resultStream: string, n = 200): Promise<number> {
  const page = (await r.call("XRANGE", resultStream, "-", "+", "COUNT", n)) as Array<[string, string[]]>;
  if (page.length === 0) return 0;
  let total = 0;
  for (const [, fields] of page) total += Buffer.byteLength(fields[fields.indexOf("result") + 1] ?? "");
  return total / page.length;
}

export function describeTally(t: Map<string, number>): string {
  return [...t.entries()].map(([k, v]) => `${k}=${v}`).join(", ");
}

/** Redis-side cost of a phase: server CPU seconds and the commands that took it. */
export interface ServerCost {
  readonly cpuSeconds: number;
  /** Bytes the server received and sent. */
  readonly netIn: number;
  readonly netOut: number;
  /** Command → [calls, total µs], heaviest first. */
  readonly commands: Array<[string, number, number]>;
}

/** Starts measuring the server's CPU and per-command time (CONFIG RESETSTAT; tolerated when refused). */
export async function serverCostStart(url: string): Promise<() => Promise<ServerCost>> {
  const r = client(url, "bench-stats");
  const sample = async () => {
    const info = String(await r.call("INFO", "all"));
    const get = (k: string) => Number(new RegExp(`^${k}:([0-9.]+)`, "m").exec(info)?.[1] ?? 0);
    return {
      cpu: get("used_cpu_user") + get("used_cpu_sys"),
      netIn: get("total_net_input_bytes"),
      netOut: get("total_net_output_bytes"),
    };
  };
  try {
    await r.call("CONFIG", "RESETSTAT");
  } catch {
    // managed servers may refuse it: command stats then include earlier traffic
  }
  const s0 = await sample();
  return async () => {
    try {
      const s1 = await sample();
      const info = String(await r.call("INFO", "commandstats"));
      const commands: Array<[string, number, number]> = [];
      for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
        commands.push([m[1]!, Number(m[2]), Number(m[3])]);
      }
      commands.sort((a, b) => b[2] - a[2]);
      return {
        cpuSeconds: s1.cpu - s0.cpu,
        netIn: s1.netIn - s0.netIn,
        netOut: s1.netOut - s0.netOut,
        commands,
      };
    } finally {
      r.disconnect();
    }
  };
}

export function describeServerCost(c: ServerCost, entries: number): string {
  const top = c.commands
    .slice(0, Number(process.env.BENCH_TOP ?? 5))
    .map(([cmd, calls, usec]) => `${cmd} ${calls}× ${(usec / calls).toFixed(0)} µs`)
    .join(", ");
  const kb = (b: number) => `${(b / entries / 1024).toFixed(2)} KB/entry`;
  return `redis CPU ${c.cpuSeconds.toFixed(2)} s (${((c.cpuSeconds * 1e6) / entries).toFixed(1)} µs/entry); net in ${kb(c.netIn)}, out ${kb(c.netOut)}; ${top}`;
}
