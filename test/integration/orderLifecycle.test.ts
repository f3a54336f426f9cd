/**
 * The order lifecycle on the paper venue with `rest_limits`, through real
 * executor processes and the real CLI (wire-v1 §3 `action`, §4a, §7):
 * - LIMIT orders that do not cross rest; `intentgate orders` lists them;
 * - `intentgate cancel` cancels one (one CANCELED event, cause plan:<id>);
 *   a cancel of an order no longer working is FAILED order_not_open; a
 *   cancel by another source is DENIED not_order_owner;
 * - `state set HALTED` cancels every working order (cause state:HALTED)
 *   without waiting on anything; new orders are denied, cancels pass;
 * - a price move (SIGHUP) fills resting orders, racing cancel plans for the
 *   same orders: exactly one terminal event per order, positions right;
 * - three executors follow the same orders: every event is written once.
 */
import { afterEach, describe, expect, inject, it } from "vitest";
import type { OrderEvent } from "../../src/core/orderEvent.js";
import type { PlanResult } from "../../src/core/result.js";
import type { OrderEventEntry } from "../../src/ports/ledger.js";
import { signPlan } from "../../src/sdk/signPlan.js";
import {
  type BusKind,
  EXIT_SOURCE,
  ExecutorHarness,
  LOAD_KEY_ID,
  LOAD_SOURCE,
  SECRET_ENV,
} from "../support/executorHarness.js";
import { runCli } from "../support/runCli.js";

const OTHER_KEY_ID = "other-k1";
const OTHER_SOURCE = "other_src";
const FOLLOW_MS = 200;

let h: ExecutorHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function configFor(harness: ExecutorHarness, btcPrice: string): Record<string, unknown> {
  const base = harness.config();
  return {
    keys: {
      ...(base.keys as object),
      [OTHER_KEY_ID]: { alg: "hmac-sha256", secret_env: SECRET_ENV, source: OTHER_SOURCE },
    },
    sources: { ...(base.sources as object), [OTHER_SOURCE]: { lanes: ["main"] } },
    venues: { paper: { prices: { BTCUSDT: btcPrice }, rest_limits: true } },
    reconcile_interval_ms: FOLLOW_MS,
  };
}

/** Publishes one signed plan on `lane` and waits for its result. */
async function decide(
  harness: ExecutorHarness,
  plan: Record<string, unknown>,
  opts: { keyId?: string; lane?: "main" | "manual" } = {},
): Promise<PlanResult> {
  const signed = signPlan({
    plan: { v: 1, created_at: Date.now(), ...plan },
    key: { keyId: opts.keyId ?? LOAD_KEY_ID, alg: "hmac-sha256", secret: harness.secret },
  });
  const lane = opts.lane ?? "main";
  const id = await harness.backend.publish(lane, [
    ["plan", signed.plan],
    ["auth", signed.auth],
  ]);
  return (await harness.waitForResult(lane, id)).result;
}

const limitBuy = (planId: string, price = "60000") => ({
  plan_id: planId,
  source: LOAD_SOURCE,
  venue: "paper",
  account: "acct-o",
  symbol: "BTCUSDT",
  side: "BUY",
  type: "LIMIT",
  qty: "0.5",
  price,
});

async function allEvents(harness: ExecutorHarness): Promise<OrderEvent[]> {
  const out: OrderEventEntry[] = [];
  let after = "0";
  for (;;) {
    const page = await harness.backend.readOrderEvents(after, 500);
    if (page.length === 0) return out.map((e) => e.event);
    out.push(...page);
    after = page[page.length - 1]!.id;
  }
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

describe.each<BusKind>(["sqlite", "redis"])("order lifecycle on the paper venue (%s)", (bus) => {
  it("rest, list, cancel, HALT cancels the rest, price moves fill racing cancels; every event once", async () => {
    const harness = await ExecutorHarness.create({ bus, redisUrl: inject("redisUrl") });
    h = harness;
    const config = harness.writeConfig(configFor(harness, "65000"));
    const env = { [SECRET_ENV]: harness.secret };
    const procs = await harness.start(["follow-1", "follow-2", "follow-3"], { config });

    // 20 LIMIT BUYs under the price rest.
    const ids = Array.from({ length: 20 }, (_, i) => `rest-${i}`);
    for (const id of ids) {
      const r = await decide(harness, limitBuy(id));
      expect(r).toMatchObject({ decision: "EXECUTED", executed: true, fill_qty: "0", action: "place" });
    }
    const listed = await runCli(["orders", "--config", config], env);
    expect(listed.code, listed.stderr).toBe(0);
    const lines = listed.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.plan_id).sort()).toEqual([...ids].sort());
    expect(lines[0]).toMatchObject({
      venue: "paper",
      account: "acct-o",
      side: "BUY",
      qty: "0.5",
      fill_qty: "0",
    });

    // The operator cancels one from the CLI (manual lane).
    const cancelled = await runCli(
      ["cancel", "--config", config, "--plan-id", "rest-0", "--key", LOAD_KEY_ID, "--secret-env", SECRET_ENV],
      env,
    );
    expect(cancelled.code, cancelled.stderr).toBe(0);
    expect(JSON.parse(cancelled.stdout)).toMatchObject({
      action: "cancel",
      decision: "EXECUTED",
      lane: "manual",
      client_order_id: "ig-rest-0",
    });
    // Cancelled again: nothing working. From the CLI nothing is published; on the bus it is FAILED.
    const again = await runCli(
      ["cancel", "--config", config, "--plan-id", "rest-0", "--key", LOAD_KEY_ID, "--secret-env", SECRET_ENV],
      env,
    );
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("no working order");
    const cancelPlan = (planId: string, target: string, source = LOAD_SOURCE) => ({
      plan_id: planId,
      source,
      action: "cancel",
      venue: "paper",
      account: "acct-o",
      symbol: "BTCUSDT",
      target_plan_id: target,
    });
    expect(await decide(harness, cancelPlan("c-again", "rest-0"))).toMatchObject({
      decision: "FAILED",
      error: "venue_error:order_not_open",
    });
    // Another source may not cancel load_src's order.
    expect(
      await decide(harness, cancelPlan("c-other", "rest-1", OTHER_SOURCE), { keyId: OTHER_KEY_ID }),
    ).toMatchObject({ decision: "DENIED", error: `not_order_owner:source=${OTHER_SOURCE}` });

    // HALTED: every working order is cancelled by the followers; the state change itself returns at once.
    const halt = await runCli(["state", "set", "HALTED", "--config", config], env);
    expect(halt.code, halt.stderr).toBe(0);
    await until("HALTED to cancel every working order", async () =>
      (await harness.backend.workingOrders()).length === 0 ? true : undefined,
    );
    expect(await decide(harness, limitBuy("halted-new"))).toMatchObject({
      decision: "DENIED",
      error: "trading_halted",
    });
    expect(await decide(harness, cancelPlan("c-halted", "rest-2"))).toMatchObject({
      decision: "FAILED",
      error: "venue_error:order_not_open",
    });
    let events = await allEvents(harness);
    expect(events).toHaveLength(20);
    expect(new Set(events.map((e) => e.client_order_id)).size).toBe(20);
    expect(events.filter((e) => e.cause === "state:HALTED")).toHaveLength(19);
    expect(events.find((e) => e.plan_id === "rest-0")).toMatchObject({
      event: "CANCELED",
      cause: expect.stringMatching(/^plan:cli-cancel-/),
    });

    // ACTIVE again: 10 more rest; then the price moves under them while cancel plans race the fills.
    expect((await runCli(["state", "set", "ACTIVE", "--config", config], env)).code).toBe(0);
    const racing = Array.from({ length: 10 }, (_, i) => `race-${i}`);
    for (const id of racing) expect((await decide(harness, limitBuy(id))).fill_qty).toBe("0");
    harness.writeConfig(configFor(harness, "59000"));
    const cancels = racing.map((id, i) => decide(harness, cancelPlan(`c-race-${i}`, id)));
    for (const p of procs) p.kill("SIGHUP");
    const cancelResults = await Promise.all(cancels);
    await until("every racing order to end", async () =>
      (await harness.backend.workingOrders()).length === 0 ? true : undefined,
    );
    events = (await allEvents(harness)).slice(20);
    expect(events.map((e) => e.plan_id).sort()).toEqual([...racing].sort());
    const fills = events.filter((e) => e.event === "FILL");
    const executedCancels = cancelResults.filter((r) => r.decision === "EXECUTED");
    expect(fills.length + executedCancels.length).toBe(10);
    for (const r of cancelResults) expect(["EXECUTED", "FAILED"], JSON.stringify(r)).toContain(r.decision);
    for (const f of fills) expect(f).toMatchObject({ fill_qty: "0.5", avg_price: "60000", cause: null });
    const positions = await harness.backend.positions();
    const held = positions.find((p) => p.account === "acct-o" && p.symbol === "BTCUSDT")?.qty ?? "0";
    expect(Number(held)).toBe(fills.length * 0.5);
    expect(await harness.backend.pendingCount()).toBe(0);
    for (const p of procs) expect(p.alive, p.describe()).toBe(true);
  }, 120_000);
});

describe("a cancel from a source not allowed on the manual lane", () => {
  it("is refused by the CLI before anything is published (exit 64)", async () => {
    const harness = await ExecutorHarness.create({ bus: "sqlite" });
    h = harness;
    const config = harness.writeConfig(configFor(harness, "65000"));
    const r = await runCli(
      [
        "cancel-all",
        "--config",
        config,
        "--venue",
        "paper",
        "--account",
        "acct-o",
        "--key",
        "exit-k1",
        "--secret-env",
        SECRET_ENV,
      ],
      { [SECRET_ENV]: harness.secret },
    );
    expect(r.code).toBe(64);
    expect(r.stderr).toContain(`its source (${EXIT_SOURCE}) is not allowed on the manual lane`);
    expect(await harness.backend.readResults("0", 10)).toEqual([]);
  });
});
