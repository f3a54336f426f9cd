/**
 * ResultReader's waits on a real embedded bus: many waits share one read
 * loop; a wait whose position the loop already passed still finds its
 * result; an UNKNOWN is followed to its reconciled result; a timeout says
 * what it saw. Results are committed through the backend as the executor
 * commits them.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  decisionFor,
  planFields,
  resultFor,
  sendRecordFor,
} from "../../test/conformance/backendConformance.js";
import { openBackend } from "../adapters/openBackend.js";
import type { Backend } from "../ports/backend.js";
import type { BusEntry } from "../ports/bus.js";
import { compareStreamIds, ResultReader, ResultTimeoutError } from "./resultReader.js";

describe("ResultReader.awaitResult (sqlite bus)", () => {
  let dir: string;
  let b: Backend;
  let n = 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "ig-reader-"));
    b = await openBackend({ url: `sqlite:${join(dir, "bus.db")}`, prefix: "t:", create: "deployment" });
    await b.ensureGroups();
  });
  afterAll(async () => {
    await b?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Publishes a plan entry and hands it out, as an executor would take it. */
  async function take(): Promise<BusEntry> {
    const id = await b.publish("main", planFields(`r-${++n}`));
    const got = await b.readNew("reader-test", 100, 0);
    const entry = got.find((e) => e.id === id);
    if (!entry) throw new Error("entry not handed out");
    return entry;
  }

  it("200 concurrent waits each get their own result, in any order", async () => {
    const reader = new ResultReader({ bus: b });
    const after = await b.lastResultId();
    const entries: BusEntry[] = [];
    for (let i = 0; i < 200; i++) entries.push(await take());
    const waits = entries.map((e) =>
      reader.awaitResult({ lane: "main", streamId: e.id, after, timeoutMs: 10_000 }),
    );
    for (const e of [...entries].reverse()) await b.commit([decisionFor(e, { result: { order_id: e.id } })]);
    const results = await Promise.all(waits);
    results.forEach((r, i) => {
      expect([r.stream_id, r.order_id]).toEqual([entries[i]!.id, entries[i]!.id]);
    });
  });

  it("a wait from a position the loop already read past still finds its result", async () => {
    const reader = new ResultReader({ bus: b });
    const early = await b.lastResultId();
    // A wait that never ends keeps the read loop going past every result below.
    const keep = new AbortController();
    const keeper = reader
      .awaitResult({ lane: "manual", streamId: "1-1", after: early, timeoutMs: 60_000, signal: keep.signal })
      .catch(() => "aborted");
    const first = await take();
    const second = await take();
    await b.commit([decisionFor(first, {})]);
    const w2 = reader.awaitResult({ lane: "main", streamId: second.id, after: early, timeoutMs: 10_000 });
    await b.commit([decisionFor(second, {})]);
    expect((await w2).stream_id).toBe(second.id);
    // The loop is now past `first`'s result; a late wait from before it still gets it.
    const late = await reader.awaitResult({
      lane: "main",
      streamId: first.id,
      after: early,
      timeoutMs: 10_000,
    });
    expect(late.stream_id).toBe(first.id);
    keep.abort();
    expect(await keeper).toBe("aborted");
  });

  it("an UNKNOWN is followed to its reconciled result (unless final: false); a timeout carries the UNKNOWN", async () => {
    const reader = new ResultReader({ bus: b });
    const after = await b.lastResultId();
    const e = await take();
    const waitFinal = reader.awaitResult({ lane: "main", streamId: e.id, after, timeoutMs: 10_000 });
    const waitFirst = reader.awaitResult({
      lane: "main",
      streamId: e.id,
      after,
      timeoutMs: 10_000,
      final: false,
    });
    const short = reader.awaitResult({ lane: "main", streamId: e.id, after, timeoutMs: 300 });
    // A live order's path through the ledger: stage 1, an UNKNOWN result, then the reconciled follow-up.
    const record = sendRecordFor(e);
    await b.commit([{ ...decisionFor(e, {}), sendRecord: record }]);
    await b.finishSend(
      record,
      resultFor(e, { decision: "UNKNOWN", executed: false, error: "venue_error:timeout" }),
    );
    expect((await waitFirst).decision).toBe("UNKNOWN");
    const timedOut = await short.catch((err: unknown) => err);
    expect(timedOut).toBeInstanceOf(ResultTimeoutError);
    expect((timedOut as ResultTimeoutError).unknown?.decision).toBe("UNKNOWN");
    expect(String((timedOut as Error).message)).toMatch(/no reconciled result/);
    await b.reconcile(record, resultFor(e, { reconciled: true, order_id: "77" }));
    expect(await waitFinal).toMatchObject({ decision: "EXECUTED", reconciled: true, order_id: "77" });
  });

  it("a malformed position is refused for that wait alone", async () => {
    const reader = new ResultReader({ bus: b });
    await expect(reader.awaitResult({ lane: "main", streamId: "1-0", after: "$" })).rejects.toThrow(
      /after: expected a stream id/,
    );
  });

  it("orders stream ids numerically", () => {
    expect(compareStreamIds("9-0", "10-0")).toBe(-1);
    expect(compareStreamIds("10-2", "10-10")).toBe(-1);
    expect(compareStreamIds("0", "0-0")).toBe(0);
    expect(compareStreamIds("1700000000000-1", "1700000000000")).toBe(1);
  });
});
