/**
 * The TypeScript producer SDK (layer 1) against a real executor process, on
 * Redis and on the embedded SQLite bus: publish and wait for the own result,
 * pre-check with the executor's own gates (nothing published when it is sure
 * of a denial), read results filtered, permits from the PermitIssuer.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { PlanResult } from "../../src/core/result.js";
import type { SigningKey } from "../../src/sdk/keys.js";
import { PermitIssuer } from "../../src/sdk/permitIssuer.js";
import { PlanInputError } from "../../src/sdk/planInput.js";
import { PlanPublisher, PrecheckDeniedError } from "../../src/sdk/planPublisher.js";
import { PlanPrechecker } from "../../src/sdk/prechecker.js";
import { ResultReader } from "../../src/sdk/resultReader.js";
import {
  type BusKind,
  ExecutorHarness,
  LOAD_KEY_ID,
  LOAD_SOURCE,
  SECRET_ENV,
} from "../support/executorHarness.js";

const UNSIGNED_SOURCE = "unsigned_src";
const GOV_KEY_ID = "gov-k1";
const GOV_SECRET = "governor-secret-0123456789abcdefghijklmnop";

describe.each<BusKind>(["redis", "sqlite"])("producer SDK against a real executor (%s bus)", (bus) => {
  let h: ExecutorHarness;
  let key: SigningKey;
  let configPath: string;

  const planCount = async (): Promise<number> => {
    if (h.redis)
      return (await h.redis.xlen(h.streamKey("main"))) + (await h.redis.xlen(h.streamKey("manual")));
    const row = h
      .sqlite!.prepare(
        "SELECT count(*) AS n FROM ig_stream WHERE prefix = ? AND stream IN ('stream:apply.plan', 'stream:apply.plan.manual')",
      )
      .get(h.prefix) as { n: number };
    return row.n;
  };

  beforeAll(async () => {
    h = await ExecutorHarness.create({ bus, redisUrl: inject("redisUrl") });
    key = { keyId: LOAD_KEY_ID, alg: "hmac-sha256", secret: h.secret };
    configPath = h.writeConfig({
      require_auth: true,
      keys: {
        [LOAD_KEY_ID]: { alg: "hmac-sha256", secret_env: SECRET_ENV, source: LOAD_SOURCE },
        [GOV_KEY_ID]: { alg: "hmac-sha256", secret_env: "IG_TEST_GOV_SECRET", role: "permit_issuer" },
      },
      sources: {
        [LOAD_SOURCE]: { lanes: ["main", "manual"] },
        [UNSIGNED_SOURCE]: { lanes: ["main"], require_auth: false },
      },
      exit_owner: LOAD_SOURCE,
      permits: { required: false, issuers: [GOV_KEY_ID] },
    });
    await h.start(["sdk-1"], { config: configPath, env: h.childEnv({ IG_TEST_GOV_SECRET: GOV_SECRET }) });
  }, 60_000);

  afterAll(async () => {
    await h?.close();
  }, 30_000);

  it("publishAndWait returns the plan's own result; decimals stay exact", async () => {
    const publisher = new PlanPublisher({ bus: h.backend, key });
    const result = await publisher.publishAndWait(
      { source: LOAD_SOURCE, symbol: "BTCUSDT", side: "BUY", qty: "0.3" },
      { timeoutMs: 20_000 },
    );
    expect(result).toMatchObject({ decision: "EXECUTED", qty: "0.3", source: LOAD_SOURCE, lane: "main" });
  });

  it("a float quantity or created_at in seconds is refused with the field named, and nothing is published", async () => {
    const publisher = new PlanPublisher({ bus: h.backend, key });
    const before = await planCount();
    await expect(
      publisher.publish({
        source: LOAD_SOURCE,
        symbol: "BTCUSDT",
        side: "BUY",
        qty: (0.1 + 0.2) as unknown as string,
      }),
    ).rejects.toMatchObject({ name: "PlanInputError", field: "qty" });
    await expect(
      publisher.publish({
        source: LOAD_SOURCE,
        symbol: "BTCUSDT",
        side: "BUY",
        qty: "1",
        created_at: 1_700_000_000,
      }),
    ).rejects.toThrow(/created_at: 1700000000 looks like seconds/);
    await expect(publisher.publish('{"v":1,"qty":0.3}')).rejects.toBeInstanceOf(PlanInputError);
    await expect(publisher.publish("{not json")).rejects.toThrow(/plan: not a valid JSON plan/);
    expect(await planCount()).toBe(before);
  });

  it("with a pre-check, a plan the executor would certainly deny is not published (HALTED, a claimed plan_id); a passing one is", async () => {
    const prechecker = await PlanPrechecker.fromConfig({
      configPath,
      ledger: h.backend,
      ownKey: key,
      env: {},
    });
    const publisher = new PlanPublisher({ bus: h.backend, key, prechecker });
    const first = await publisher.publishAndWait(
      { plan_id: `dup-${bus}`, source: LOAD_SOURCE, symbol: "BTCUSDT", side: "BUY", qty: "1" },
      { timeoutMs: 20_000 },
    );
    expect(first.decision).toBe("EXECUTED");
    const before = await planCount();
    const again = publisher.publish({
      plan_id: `dup-${bus}`,
      source: LOAD_SOURCE,
      symbol: "BTCUSDT",
      side: "BUY",
      qty: "1",
    });
    await expect(again).rejects.toBeInstanceOf(PrecheckDeniedError);
    await expect(again).rejects.toMatchObject({
      outcome: { ok: false, reason: "duplicate_plan_id", gate: 7 },
    });
    await h.backend.setTradingState("HALTED", "test");
    try {
      await expect(
        publisher.publish({ source: LOAD_SOURCE, symbol: "BTCUSDT", side: "BUY", qty: "1" }),
      ).rejects.toMatchObject({ outcome: { reason: "trading_halted" } });
    } finally {
      await h.backend.setTradingState("ACTIVE", "test");
    }
    expect(await planCount()).toBe(before);
  });

  it("a permit from the PermitIssuer is accepted; the pre-check cannot judge a permit whose issuer key it lacks and lets it through", async () => {
    const issuer = new PermitIssuer({ key: { keyId: GOV_KEY_ID, alg: "hmac-sha256", secret: GOV_SECRET } });
    const planId = `permitted-${bus}`;
    const permit = issuer.issue({
      permit_id: `pm-${bus}`,
      plan_id: planId,
      symbol: "BTCUSDT",
      side: "BUY",
      max_qty: "2",
      reduce_only: false,
      ttlMs: 60_000,
    });
    const prechecker = await PlanPrechecker.fromConfig({
      configPath,
      ledger: h.backend,
      ownKey: key,
      env: {},
    });
    const forged = `${permit.split(".")[0]}.AAAA`;
    const outcome = await prechecker.check({
      lane: "main",
      fields: [
        [
          "plan",
          JSON.stringify({
            v: 1,
            plan_id: "x-1",
            source: UNSIGNED_SOURCE,
            venue: "paper",
            symbol: "BTCUSDT",
            side: "BUY",
            qty: "1",
            permit: forged,
            created_at: Date.now(),
          }),
        ],
      ],
    });
    expect(outcome).toMatchObject({
      ok: true,
      uncertain: { reason: expect.stringMatching(/^permit_invalid/) },
    });
    const publisher = new PlanPublisher({ bus: h.backend, key, prechecker });
    const result = await publisher.publishAndWait(
      { plan_id: planId, source: LOAD_SOURCE, symbol: "BTCUSDT", side: "BUY", qty: "2", permit },
      { timeoutMs: 20_000 },
    );
    expect(result).toMatchObject({ decision: "EXECUTED", error: null });
  });

  it("two publishers, the same plan_ids, one signed and one unsigned: 2 × 500 plans, every result reaches its own publisher", async () => {
    const signed = new PlanPublisher({ bus: h.backend, key });
    const unsigned = new PlanPublisher({ bus: h.backend });
    const jobs: Array<Promise<{ who: string; result: PlanResult }>> = [];
    for (let i = 0; i < 500; i++) {
      const plan_id = `same-${bus}-${i}`;
      jobs.push(
        signed
          .publishAndWait(
            { plan_id, source: LOAD_SOURCE, symbol: "BTCUSDT", side: "BUY", qty: "0.001" },
            { timeoutMs: 60_000 },
          )
          .then((result) => ({ who: LOAD_SOURCE, result })),
        unsigned
          .publishAndWait(
            { plan_id, source: UNSIGNED_SOURCE, symbol: "BTCUSDT", side: "SELL", qty: "0.001" },
            { timeoutMs: 60_000 },
          )
          .then((result) => ({ who: UNSIGNED_SOURCE, result })),
      );
    }
    const got = await Promise.all(jobs);
    for (const { who, result } of got) {
      expect(result.source).toBe(who);
      expect(result.decision).toBe("EXECUTED");
      expect(result.authenticated).toBe(who === LOAD_SOURCE);
    }
    expect(new Set(got.map((g) => `${g.result.lane}:${g.result.stream_id}`)).size).toBe(1000);
  }, 120_000);

  it("ResultReader: from the start filtered, from now, and from an id", async () => {
    const reader = new ResultReader({ bus: h.backend });
    const all: string[] = [];
    for await (const e of reader.read({ from: "start", follow: false, filter: { source: UNSIGNED_SOURCE } }))
      all.push(e.result.source ?? "");
    expect(all.length).toBeGreaterThanOrEqual(100);
    expect(new Set(all)).toEqual(new Set([UNSIGNED_SOURCE]));
    const now = await reader.position("now");
    const publisher = new PlanPublisher({ bus: h.backend, key });
    const published = await publisher.publish({
      source: LOAD_SOURCE,
      symbol: "BTCUSDT",
      side: "BUY",
      qty: "0.002",
    });
    const ac = new AbortController();
    const seen: PlanResult[] = [];
    for await (const e of reader.read({
      from: now,
      filter: { streamId: published.streamId },
      signal: ac.signal,
    })) {
      seen.push(e.result);
      ac.abort();
    }
    expect(seen).toEqual([expect.objectContaining({ plan_id: published.planId, qty: "0.002" })]);
    await expect(reader.read({ from: "yesterday" }).next()).rejects.toThrow(
      /from: expected "start", "now" or a stream id/,
    );
  });
});
