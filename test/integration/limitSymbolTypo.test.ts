/**
 * The operator's typo: a per-symbol limit keyed by a symbol no venue lists
 * (`BTCUSTD` for `BTCUSDT`) caps nothing, and wire-v1 leaves a symbol a map
 * does not name unchecked, so the real symbol trades without the cap. The
 * executor cannot tell a typo from a deliberate omission, so it says so,
 * naming the entry, at start and on every reload (a real executor process).
 */
import { afterEach, describe, expect, inject, it } from "vitest";
import { ExecutorHarness } from "../support/executorHarness.js";

let h: ExecutorHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe("a per-symbol limit that names no listed symbol", () => {
  it("is named in a warning at start and after a reload that brings another", async () => {
    h = await ExecutorHarness.create({ bus: "sqlite", redisUrl: inject("redisUrl") });
    const harness = h;
    const config = harness.writeConfig({ limits: { max_position: { BTCUSTD: "1" } } });
    const [proc] = await harness.start(["typo-1"], { config });
    const typo = (path: string) => (l: { msg?: string; level?: number }) =>
      l.level === 40 && l.msg?.startsWith(`${path} names a symbol no configured venue lists`) === true;
    const first = await proc!.waitForLog(typo("limits.max_position.BTCUSTD"), "the typo's warning");
    expect(first).toMatchObject({ limit: "max_position", symbol: "BTCUSTD" });
    // the plan for the symbol meant is not capped by it: that is why the warning exists
    const { result } = await harness.decide({
      planId: "typo-plan",
      lane: "main",
      account: "acct-t",
      symbol: "BTCUSDT",
      side: "BUY",
      qty: "5",
      auth: "ok",
    });
    expect(result.decision).toBe("EXECUTED");

    harness.writeConfig({ limits: { max_position: { BTCUSDT: "1" }, price_band_pct: { ETHUSTD: "2" } } });
    proc!.kill("SIGHUP");
    await proc!.waitForLog((l) => l.msg === "config reloaded", "the reload");
    expect(proc!.logs.some(typo("limits.price_band_pct.ETHUSTD"))).toBe(true);
    expect(proc!.logs.filter(typo("limits.max_position.BTCUSDT"))).toEqual([]);
    expect((await proc!.stop()).code).toBe(0);
  });
});
