/**
 * The executor's edges, each observation of the fail-closed review (issue
 * "Executor fails closed at every edge") reproduced against a real executor
 * process on both buses:
 * - one unsigned entry nesting 5,500 arrays in `meta` no longer stops the
 *   executor: it gets `invalid_plan:too_deep`, and every entry read with it
 *   gets its own result; nothing stays pending;
 * - a bus writer without keys copies a genuine signed plan onto the manual
 *   lane before the executor reads it: the copy claims nothing
 *   (`source_not_allowed`), the genuine plan executes;
 * - a `require_auth: false` source sends an unsigned entry with another
 *   source's plan_id first: it says `authenticated: false`, claims only in its
 *   own namespace, and the genuine signed plan executes;
 * - `created_at` in seconds is stale (the default `max_plan_age_ms`);
 * - corrupt shared state (a rate counter that is not a count) fails only the
 *   entries that read it; a batch the store refuses is committed one by one,
 *   and only the entry it still refuses gets `internal_error`.
 */
import { Redis } from "ioredis";
import { afterEach, describe, expect, inject, it } from "vitest";
import { parseConfigText } from "../../src/config/loadConfig.js";
import type { Decision } from "../../src/core/decision.js";
import type { PlanResult } from "../../src/core/result.js";
import { Executor } from "../../src/executor/executor.js";
import type { Backend } from "../../src/ports/backend.js";
import { CommitRefusedError } from "../../src/ports/ledger.js";
import { signPlan } from "../../src/sdk/signPlan.js";
import {
  type BusKind,
  EXIT_SOURCE,
  ExecutorHarness,
  LOAD_KEY_ID,
  LOAD_SOURCE,
  SECRET_ENV,
} from "../support/executorHarness.js";

let h: ExecutorHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const plan = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  v: 1,
  plan_id: `fc-${Math.random().toString(36).slice(2, 10)}`,
  source: LOAD_SOURCE,
  venue: "paper",
  account: "acct-fc",
  symbol: "BTCUSDT",
  side: "BUY",
  qty: "1",
  created_at: Date.now(),
  ...over,
});

/** A plan entry signed with the harness's producer key. */
function signed(harness: ExecutorHarness, p: Record<string, unknown> | string): Array<[string, string]> {
  const s = signPlan({ plan: p, key: { keyId: LOAD_KEY_ID, alg: "hmac-sha256", secret: harness.secret } });
  return [
    ["plan", s.plan],
    ["auth", s.auth],
  ];
}

describe.each<BusKind>(["redis", "sqlite"])("executor fails closed (%s)", (bus) => {
  it("a poison entry (5,500 nested arrays in meta, 11 KB, unsigned) is denied and its batch neighbours answered", async () => {
    const harness = await ExecutorHarness.create({ bus, redisUrl: inject("redisUrl") });
    h = harness;
    const config = harness.writeConfig({ batch_size: 50 });
    const poisonText = `${JSON.stringify(plan()).slice(0, -1)},"meta":{"x":${"[".repeat(5500)}${"]".repeat(5500)}}}`;
    expect(Buffer.byteLength(poisonText)).toBeGreaterThan(11_000);
    expect(Buffer.byteLength(poisonText)).toBeLessThan(16 * 1024);
    // Published before the executor starts, so the poison and its neighbours are read in one batch.
    const before = await harness.backend.publish("main", signed(harness, plan({ plan_id: "fc-before" })));
    const poison = await harness.backend.publish("main", [["plan", poisonText]]);
    const after = [];
    for (let i = 0; i < 10; i++)
      after.push(await harness.backend.publish("main", signed(harness, plan({ plan_id: `fc-after-${i}` }))));
    const [exec] = await harness.start(["poison-1"], { config });

    const results = await harness.waitForResults(12, 20_000);
    const byId = new Map(results.map((r) => [r.result.stream_id, r.result]));
    expect(byId.get(poison)).toMatchObject({ decision: "DENIED", error: "invalid_plan:too_deep" });
    expect(byId.get(before)).toMatchObject({ decision: "EXECUTED" });
    for (const id of after) expect(byId.get(id)).toMatchObject({ decision: "EXECUTED" });
    expect(results).toHaveLength(12);
    expect(await harness.backend.pendingCount()).toBe(0);
    expect(await harness.backend.dlqLength()).toBe(0);
    expect(exec!.alive).toBe(true);
    expect(exec!.stderr).not.toMatch(/RangeError|Maximum call stack/);
  });

  it("a copy of a signed plan on the manual lane claims nothing; the genuine plan executes", async () => {
    const harness = await ExecutorHarness.create({ bus, redisUrl: inject("redisUrl") });
    h = harness;
    // The load source may publish on main only; Redis lanes are read manual first.
    const config = harness.writeConfig({
      sources: { [LOAD_SOURCE]: { lanes: ["main"] }, [EXIT_SOURCE]: { lanes: ["main"] } },
    });
    const genuine = signed(harness, plan({ plan_id: "fc-copied" }));
    const copy = await harness.backend.publish("manual", genuine);
    const original = await harness.backend.publish("main", genuine);
    await harness.start(["copy-1"], { config });
    const results = await harness.waitForResults(2);
    const byLane = new Map(results.map((r) => [r.result.lane, r.result]));
    expect(byLane.get("manual")).toMatchObject({
      stream_id: copy,
      decision: "DENIED",
      error: `source_not_allowed:${LOAD_SOURCE}`,
    });
    expect(byLane.get("main")).toMatchObject({ stream_id: original, decision: "EXECUTED", error: null });
  });

  it("an unsigned entry of an auth-free source cannot take a signed plan's plan_id, and says authenticated: false", async () => {
    const harness = await ExecutorHarness.create({ bus, redisUrl: inject("redisUrl") });
    h = harness;
    const config = harness.writeConfig({
      sources: {
        [LOAD_SOURCE]: { lanes: ["main"] },
        [EXIT_SOURCE]: { lanes: ["main"] },
        dev_bot: { lanes: ["main"], require_auth: false },
      },
    });
    const unsigned = await harness.backend.publish("main", [
      ["plan", JSON.stringify(plan({ plan_id: "fc-taken", source: "dev_bot" }))],
    ]);
    const genuine = await harness.backend.publish("main", signed(harness, plan({ plan_id: "fc-taken" })));
    // The same unsigned plan again: a duplicate within its own source's namespace.
    const again = await harness.backend.publish("main", [
      ["plan", JSON.stringify(plan({ plan_id: "fc-taken", source: "dev_bot" }))],
    ]);
    await harness.start(["unsigned-1"], { config });
    const results = new Map((await harness.waitForResults(3)).map((r) => [r.result.stream_id, r.result]));
    expect(results.get(unsigned)).toMatchObject({
      decision: "EXECUTED",
      authenticated: false,
      source: "dev_bot",
    });
    expect(results.get(genuine)).toMatchObject({ decision: "EXECUTED", authenticated: true, error: null });
    expect(results.get(again)).toMatchObject({
      decision: "DENIED",
      error: "duplicate_plan_id",
      authenticated: false,
    });
  });

  it("created_at in seconds is stale by default (max_plan_age_ms 60000)", async () => {
    const harness = await ExecutorHarness.create({ bus, redisUrl: inject("redisUrl") });
    h = harness;
    await harness.start(["stale-1"], { config: harness.writeConfig() });
    const id = await harness.backend.publish(
      "main",
      signed(harness, plan({ plan_id: "fc-seconds", created_at: Math.floor(Date.now() / 1000) })),
    );
    const r = await harness.waitForResult("main", id);
    expect(r.result).toMatchObject({ decision: "DENIED", error: "stale_plan" });
  });
});

describe("corrupt shared state and a refusing store (redis)", () => {
  /** An executor on the harness's backend (or a wrapper of it), collecting results and failures. */
  async function executorOn(harness: ExecutorHarness, backend: Backend) {
    const configText = JSON.stringify(
      harness.config({
        sources: {
          [LOAD_SOURCE]: { lanes: ["main"] },
          [EXIT_SOURCE]: { lanes: ["main"] },
          other_src: { lanes: ["main"], require_auth: false },
        },
        limits: { rate_per_source_per_s: 1000 },
      }),
    );
    const { policy } = await parseConfigText(configText, "json", { [SECRET_ENV]: harness.secret });
    const decided: PlanResult[] = [];
    const failures: string[] = [];
    const executor = new Executor({
      backend,
      consumer: "refused-1",
      policy: () => policy,
      settings: {
        batchSize: 50,
        claimIdleMs: 60_000,
        maxDeliveries: 10,
        blockMs: 0,
        maxConflictRetries: 5,
        maxBusClockSkewMs: 1000,
      },
      observer: {
        decided: (r) => decided.push(r),
        duplicate() {},
        gaveUp: (n) => failures.push(`gave up on ${n}`),
        failed: (err, during) => failures.push(`${during}: ${(err as Error).name}`),
      },
    });
    return { executor, decided, failures };
  }

  /** The poisoned entry alone failed (internal_error), every other one executed, each answered once. */
  function expectOnlyPoisonedFailed(decided: PlanResult[], mix: { poisoned: string; fine: string[] }): void {
    const byId = new Map(decided.map((r) => [r.stream_id, r]));
    expect(byId.get(mix.poisoned)).toMatchObject({
      decision: "FAILED",
      error: "internal_error",
      executed: false,
    });
    for (const id of mix.fine) expect(byId.get(id)).toMatchObject({ decision: "EXECUTED" });
    expect(decided).toHaveLength(mix.fine.length + 1);
  }

  async function publishMix(harness: ExecutorHarness): Promise<{ poisoned: string; fine: string[] }> {
    const poisoned = await harness.backend.publish("main", signed(harness, plan({ plan_id: "fc-rate" })));
    const fine: string[] = [];
    for (let i = 0; i < 5; i++)
      fine.push(
        await harness.backend.publish("main", [
          ["plan", JSON.stringify(plan({ plan_id: `fc-other-${i}`, source: "other_src" }))],
        ]),
      );
    return { poisoned, fine };
  }

  it("a corrupt rate counter fails the entries that read it (internal_error), never the batch", async () => {
    const harness = await ExecutorHarness.create({ bus: "redis", redisUrl: inject("redisUrl") });
    h = harness;
    const raw = new Redis(harness.busUrl);
    try {
      const now = Math.floor(Date.now() / 1000);
      for (let w = now - 1; w < now + 30; w++)
        await raw.set(`${harness.prefix}rate:${LOAD_SOURCE}:${w}`, "x");
    } finally {
      raw.disconnect();
    }
    const { poisoned, fine } = await publishMix(harness);
    const { executor, decided, failures } = await executorOn(harness, harness.backend);
    expect(await executor.step()).toBe(6);
    expectOnlyPoisonedFailed(decided, { poisoned, fine });
    expect(failures).toEqual([]);
    expect(await harness.backend.pendingCount()).toBe(0);
  });

  it("a batch the store refuses is committed one by one; only the entry it still refuses gets internal_error", async () => {
    const harness = await ExecutorHarness.create({ bus: "redis", redisUrl: inject("redisUrl") });
    h = harness;
    const { poisoned, fine } = await publishMix(harness);
    // The real store, refusing (as a script error on its content would) any batch holding the poisoned entry.
    const real = harness.backend;
    const refusing = new Proxy(real, {
      get(target, prop, receiver) {
        if (prop === "commit")
          return async (ds: readonly Decision[]) => {
            if (ds.some((d) => d.streamId === poisoned && d.result.error !== "internal_error"))
              throw new CommitRefusedError("commit: ERR user_script: refused for this entry");
            return target.commit(ds);
          };
        const v = Reflect.get(target, prop, receiver);
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
    const { executor, decided, failures } = await executorOn(harness, refusing);
    expect(await executor.step()).toBe(6);
    expectOnlyPoisonedFailed(decided, { poisoned, fine });
    expect(failures.filter((f) => f === "commit: CommitRefusedError").length).toBeGreaterThanOrEqual(2);
    expect(await real.pendingCount()).toBe(0);
  });
});
