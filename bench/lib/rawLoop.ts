import { CONSUMER_GROUP } from "../../src/ports/bus.js";
import { client, dropPrefix, prefill } from "./redisUtil.js";
import type { PlanFields } from "./workload.js";

export interface RawResult {
  readonly n: number;
  readonly seconds: number;
  readonly perS: number;
}

/**
 * The baseline: what a bare Redis Streams consumer costs on this server.
 * One connection, Buffer replies (as the executor reads entries), no BLOCK
 * (the stream is pre-filled), XREADGROUP COUNT `batch`, then one pipeline of
 * one XADD per entry (a result of the executor's result size, carrying the
 * entry's id) plus one XACK of the batch's ids. No parsing, no signatures,
 * no ledger: an upper bound for anything that reads, answers and ACKs.
 */
export async function runRawLoop(opts: {
  url: string;
  prefix: string;
  plans: readonly PlanFields[];
  result: { head: string; tail: string };
  batch: number;
}): Promise<RawResult> {
  const r = client(opts.url, "bench-raw");
  const stream = `${opts.prefix}stream:apply.plan`;
  const results = `${opts.prefix}stream:apply.result`;
  try {
    await r.call("XGROUP", "CREATE", stream, CONSUMER_GROUP, "0", "MKSTREAM");
    await prefill(r, stream, opts.plans);
    const n = opts.plans.length;
    let done = 0;
    const t0 = performance.now();
    while (done < n) {
      const reply = (await r.callBuffer(
        "XREADGROUP",
        "GROUP",
        CONSUMER_GROUP,
        "raw",
        "COUNT",
        opts.batch,
        "STREAMS",
        stream,
        ">",
      )) as Array<[Buffer, Array<[Buffer, Buffer[]]>]> | null;
      const entries = reply?.[0]?.[1];
      if (!entries || entries.length === 0) throw new Error(`raw loop: stream ran dry after ${done} of ${n}`);
      const p = r.pipeline();
      const ids: Buffer[] = new Array(entries.length);
      for (let i = 0; i < entries.length; i++) {
        const id = entries[i]![0];
        ids[i] = id;
        p.callBuffer(
          "XADD",
          results,
          "*",
          "result",
          opts.result.head + id.toString("latin1") + opts.result.tail,
        );
      }
      p.callBuffer("XACK", stream, CONSUMER_GROUP, ...ids);
      const out = await p.exec();
      for (const [err] of out ?? []) if (err) throw err;
      done += entries.length;
    }
    const seconds = (performance.now() - t0) / 1000;
    const written = Number(await r.call("XLEN", results));
    if (written !== n) throw new Error(`raw loop: ${written} results for ${n} entries`);
    return { n, seconds, perS: n / seconds };
  } finally {
    await dropPrefix(r, opts.prefix);
    await r.quit();
  }
}
