/**
 * Live routing never fills a live plan on paper (wire-v1 §6 gate 10, §8):
 * with `live: true`, executor + signer process + both venue emulators, the
 * signer process is stopped; a Polymarket plan and a Binance plan are then
 * both `DENIED venue_not_ready:<venue>` with `mode: "live"`, nothing reaches
 * a venue or the paper ledger, and the executor's decision lines and metrics
 * carry the venue and the mode. Without `INTENTGATE_LIVE=1` the same plans
 * are denied the same way.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PlanResult } from "../../src/core/result.js";
import { type LiveStack, type Proc, startLiveStack, stopProc } from "../support/liveStack.js";

const only = (rs: PlanResult[], id: string) => {
  const mine = rs.filter((r) => r.stream_id === id);
  expect(mine).toHaveLength(1);
  return mine[0]!;
};

/** The executor's JSON decision lines. */
function decisionLines(p: Proc): Array<Record<string, unknown>> {
  return p
    .output()
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.msg === "decision");
}

describe("live plans while the signer is down (sqlite bus)", () => {
  let stack: LiveStack;
  let exec: Proc;

  beforeAll(async () => {
    stack = await startLiveStack({ executor: { metrics_port: 0 } });
    exec = await stack.startExecutor("nr-1");
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
  }, 60_000);

  const settle = (id: string) => stack.waitFor((rs) => rs.some((r) => r.stream_id === id));

  it("both venues: DENIED venue_not_ready, mode live, no order anywhere, never a paper fill", async () => {
    // Live first, to show the venues work.
    const ok = await stack.publish({ qty: "0.01" });
    expect(only(await settle(ok), ok)).toMatchObject({ decision: "EXECUTED", mode: "live" });
    const binanceOrders = stack.emulator.state.orders().length;
    const pmOrders = stack.polymarket.orders().length;

    await stopProc(stack.signer);
    const pm = await stack.publishPm({ qty: "10", price: "0.5" });
    const bn = await stack.publish({ qty: "0.02" });
    const rs = await stack.waitFor(
      (x) => x.some((r) => r.stream_id === pm) && x.some((r) => r.stream_id === bn),
    );
    expect(only(rs, pm)).toMatchObject({
      decision: "DENIED",
      executed: false,
      mode: "live",
      venue: "polymarket",
      error: "venue_not_ready:polymarket",
      fill_qty: null,
    });
    expect(only(rs, bn)).toMatchObject({
      decision: "DENIED",
      executed: false,
      mode: "live",
      venue: "binance-usdm",
      error: "venue_not_ready:binance-usdm",
      fill_qty: null,
    });
    expect(stack.emulator.state.orders().length).toBe(binanceOrders);
    expect(stack.polymarket.orders().length).toBe(pmOrders);
    expect((await stack.backend.positions()).filter((p) => p.mode === "paper")).toEqual([]);
    expect(rs.filter((r) => r.mode === "paper" && r.decision === "EXECUTED")).toEqual([]);

    // The decision lines say where each plan went (logs are flushed every 100 ms).
    let lines = decisionLines(exec);
    for (let i = 0; i < 100 && !lines.some((l) => l.stream_id === bn); i++) {
      await new Promise((r) => setTimeout(r, 50));
      lines = decisionLines(exec);
    }
    expect(lines.find((l) => l.stream_id === pm)).toMatchObject({ venue: "polymarket", mode: "live" });
    expect(lines.find((l) => l.stream_id === bn)).toMatchObject({ venue: "binance-usdm", mode: "live" });

    // And the metrics: decisions by venue and mode, the signer seen down, readiness per venue.
    const port = Number(exec.output().match(/"metrics_port":(\d+)/)?.[1]);
    const body = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(body).toMatch(
      /intentgate_decisions_total\{decision="DENIED",error_code="venue_not_ready",lane="main",source="live_src",venue="polymarket",mode="live"\} 1/,
    );
    expect(body).toMatch(/^intentgate_signer_up 0$/m);
    expect(body).toMatch(/^intentgate_venue_ready\{venue="binance-usdm",account="\*"\} [01]$/m);
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(ready.status).toBe(503);
  }, 60_000);

  it("without INTENTGATE_LIVE=1 a live plan is denied venue_not_ready too, never filled on paper", async () => {
    for (const p of [...stack.executors()]) await stopProc(p);
    await stack.startExecutor("nr-2", { INTENTGATE_LIVE: "" });
    const bn = await stack.publish({ qty: "0.03" });
    expect(only(await settle(bn), bn)).toMatchObject({
      decision: "DENIED",
      mode: "live",
      error: "venue_not_ready:binance-usdm",
    });
    expect((await stack.backend.positions()).filter((p) => p.mode === "paper")).toEqual([]);
  }, 60_000);
});
