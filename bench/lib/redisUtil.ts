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
