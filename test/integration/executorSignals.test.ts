/**
 * The executor process's life cycle, through the real CLI:
 * - SIGTERM while entries flow: exit 0, nothing it read left pending; a fresh
 *   executor finishes the rest, exactly one result per entry overall;
 * - SIGHUP with a changed valid config applies to later plans; SIGHUP with an
 *   invalid config keeps the old one and logs a line naming the field;
 * - an invalid config at start: non-zero exit, message naming the field;
 * - `--metrics-port 0`: the bound port is logged and GET /metrics shows the
 *   decision counter (EXECUTED / DENIED with the base reason code), the
 *   latency histogram and the pending / DLQ gauges.
 */
import { afterEach, describe, expect, inject, it } from "vitest";
import {
  type BusKind,
  checkExactlyOnce,
  ExecutorHarness,
  entryFields,
  LOAD_SOURCE,
  makePlans,
  type PlanSpec,
  type Published,
} from "../support/executorHarness.js";

let h: ExecutorHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const btc = (planId: string, qty: string, over: Partial<PlanSpec> = {}): PlanSpec => ({
  planId,
  lane: "main",
  account: "acct-sig",
  symbol: "BTCUSDT",
  side: "BUY",
  qty,
  auth: "ok",
  ...over,
});

describe.each<BusKind>(["redis", "sqlite"])("SIGTERM while entries flow (%s)", (bus) => {
  it("exits 0 with nothing pending; a fresh executor finishes the rest exactly once", async () => {
    const harness = await ExecutorHarness.create({ bus, redisUrl: inject("redisUrl") });
    h = harness;
    const config = harness.writeConfig({ claim_idle_ms: 60_000, batch_size: 50 });
    const [first] = await harness.start(["term-1"], { config });
    let publishing = true;
    const publishDone: Promise<Published[]> = harness
      .publish(makePlans(3000, { dupEvery: 25, badEvery: 61, manualEvery: 6 }), { burst: 50, pauseMs: 25 })
      .finally(() => {
        publishing = false;
      });
    const before = await harness.waitForResults(300, 30_000);
    expect(publishing, "the SIGTERM must come while entries still flow").toBe(true);
    first!.kill("SIGTERM");
    const status = await first!.exited;
    expect(status, first!.describe()).toEqual({ code: 0, signal: null });
    expect(first!.logsWith("executor stopped: batch in hand committed")).toHaveLength(1);
    // claim_idle_ms is 60 s and no other executor runs: anything it read and did not answer would still be pending.
    expect(await harness.backend.pendingCount()).toBe(0);
    const atExit = (await harness.results.poll()).length;
    expect(atExit).toBeGreaterThanOrEqual(before.length);
    expect(atExit, "everything it decided was logged, and nothing else").toBe(
      first!.logsWith("decision").length,
    );

    const published = await publishDone;
    expect(atExit, "the executor stopped before the stream ended").toBeLessThan(published.length);
    const [second] = await harness.start(["term-2"], { config });
    const results = await harness.waitForResults(published.length, 60_000);
    const summary = await checkExactlyOnce(harness, published, results);
    expect(await second!.stop()).toEqual({ code: 0, signal: null });
    console.log(
      `[${bus}] SIGTERM after ${atExit}/${published.length} results; the fresh executor decided ` +
        `${second!.logsWith("decision").length}; ${JSON.stringify(summary.decisions)}`,
    );
  }, 90_000);
});

describe("executor signals and config (redis)", () => {
  it("SIGHUP applies a changed valid config to later plans, and keeps the old one when the new is invalid", async () => {
    const harness = await ExecutorHarness.create({ bus: "redis", redisUrl: inject("redisUrl") });
    h = harness;
    const config = harness.writeConfig({ limits: { max_qty: { BTCUSDT: "10" } } });
    const [exec] = await harness.start(["hup-1"], { config });

    const r1 = await harness.decide(btc("hup-a", "5"));
    expect([r1.result.decision, r1.result.error]).toEqual(["EXECUTED", null]);

    // A valid change: max_qty 10 → 1.
    harness.writeConfig({ limits: { max_qty: { BTCUSDT: "1" } } });
    exec!.kill("SIGHUP");
    await exec!.waitForLog((l) => l.msg === "config reloaded", "'config reloaded'");
    const r2 = await harness.decide(btc("hup-b", "5"));
    expect([r2.result.decision, r2.result.error]).toEqual(["DENIED", "limit:max_qty"]);
    const r3 = await harness.decide(btc("hup-c", "0.5"));
    expect([r3.result.decision, r3.result.error]).toEqual(["EXECUTED", null]);

    // An invalid change (a negative max_qty, which would also lift the limit) is refused and logged by field.
    harness.writeConfig({ limits: { max_qty: { BTCUSDT: "-100" } } });
    exec!.kill("SIGHUP");
    const refused = await exec!.waitForLog(
      (l) => typeof l.msg === "string" && l.msg.startsWith("config reload refused"),
      "'config reload refused'",
    );
    expect(JSON.stringify(refused)).toContain("limits.max_qty.BTCUSDT");
    expect(refused.level).toBeGreaterThanOrEqual(50); // pino error
    // A file that is not even JSON is refused too.
    harness.writeFile("config.json", '{"bus": ');
    exec!.kill("SIGHUP");
    await exec!.waitForLog(
      (l) => l !== refused && typeof l.msg === "string" && l.msg.startsWith("config reload refused"),
      "a second 'config reload refused'",
    );
    expect(exec!.alive, exec!.describe()).toBe(true);
    // The last good config (max_qty 1) still applies.
    const r4 = await harness.decide(btc("hup-d", "5"));
    expect([r4.result.decision, r4.result.error]).toEqual(["DENIED", "limit:max_qty"]);
    const r5 = await harness.decide(btc("hup-e", "0.25"));
    expect([r5.result.decision, r5.result.error]).toEqual(["EXECUTED", null]);
    expect(exec!.logsWith("config reloaded")).toHaveLength(1);

    expect(await exec!.stop()).toEqual({ code: 0, signal: null });
    expect(await harness.backend.positions()).toEqual([
      { venue: "paper", mode: "paper", account: "acct-sig", symbol: "BTCUSDT", qty: "5.75" },
    ]);
  }, 60_000);

  it("an invalid config at start: non-zero exit and a message naming the field", async () => {
    const harness = await ExecutorHarness.create({ bus: "redis", redisUrl: inject("redisUrl") });
    h = harness;
    const cases: Array<{
      file: string;
      overrides: Record<string, unknown>;
      env?: NodeJS.ProcessEnv;
      field: string;
    }> = [
      { file: "bad-claim.json", overrides: { claim_idle_ms: "fast" }, field: "claim_idle_ms" },
      {
        file: "bad-qty.json",
        overrides: { limits: { max_qty: { BTCUSDT: "1e3" } } },
        field: "limits.max_qty.BTCUSDT",
      },
      { file: "bad-key.json", overrides: { limitz: {} }, field: "limitz" },
      {
        file: "no-secret.json",
        overrides: {},
        env: { ...process.env, IG_TEST_HMAC_SECRET: "" },
        field: "keys.load-k1.secret_env",
      },
      // Weak or wrong keys (wire-v1 §8): a 1-byte HMAC secret, an exit owner that is a typo, the
      // identity point as a permit issuer's key.
      {
        file: "short-secret.json",
        overrides: {},
        env: { ...process.env, IG_TEST_HMAC_SECRET: "x" },
        field: "keys.load-k1.secret_env",
      },
      { file: "owner-typo.json", overrides: { exit_owner: "exit_srcc" }, field: "exit_owner" },
      {
        file: "identity-issuer.json",
        overrides: {
          keys: {
            "load-k1": { alg: "hmac-sha256", secret_env: "IG_TEST_HMAC_SECRET", source: "load_src" },
            "exit-k1": { alg: "hmac-sha256", secret_env: "IG_TEST_HMAC_SECRET", source: "exit_src" },
            "gov-k1": {
              alg: "ed25519",
              public_key: Buffer.from([1, ...Array(31).fill(0)]).toString("base64url"),
              role: "permit_issuer",
            },
          },
          permits: { issuers: ["gov-k1"] },
        },
        field: "keys.gov-k1.public_key",
      },
    ];
    const procs = cases.map((c) =>
      harness.spawn(`bad-${c.file}`, {
        config: harness.writeConfig(c.overrides, c.file),
        ...(c.env ? { env: c.env } : {}),
      }),
    );
    for (const [i, p] of procs.entries()) {
      const status = await p.exited;
      expect(status.code, p.describe()).toBe(78);
      expect(p.stderr, p.describe()).toContain(cases[i]!.field);
      expect(p.logsWith("executor started"), p.describe()).toHaveLength(0);
    }
  }, 60_000);

  it("--metrics-port 0: GET /metrics shows decisions by code, the latency histogram and the gauges", async () => {
    const harness = await ExecutorHarness.create({ bus: "redis", redisUrl: inject("redisUrl") });
    h = harness;
    const config = harness.writeConfig({ limits: { max_qty: { BTCUSDT: "1" } } });
    const exec = harness.spawn("metrics-1", { config, args: ["--metrics-port", "0"] });
    const started = await exec.ready();
    const port = Number(started.metrics_port);
    expect(port, exec.describe()).toBeGreaterThan(0);

    const specs = [btc("m-1", "0.5"), btc("m-2", "0.25"), btc("m-3", "0.125", { lane: "manual" })];
    const denied = [btc("m-4", "5"), btc("m-5", "0.5", { auth: "bad_signature" })];
    const bad = btc("m-6", "0.5", { auth: "malformed_auth" });
    for (const s of [...specs, ...denied]) await harness.decide(s);
    const r6 = await harness.decide(bad, entryFields(bad, harness.secret));
    expect(r6.result.error).toBe("unauthenticated:malformed_auth");

    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(res.status).toBe(200);
    const body = await res.text();
    const counter = (labels: Record<string, string>): number | undefined => {
      for (const line of body.split("\n")) {
        const m = /^intentgate_decisions_total\{([^}]*)\} (\S+)$/.exec(line);
        if (!m) continue;
        const got = Object.fromEntries([...m[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
        if (Object.entries(labels).every(([k, v]) => got[k] === v) && Object.keys(got).length === 6)
          return Number(m[2]);
      }
      return undefined;
    };
    expect(
      counter({
        decision: "EXECUTED",
        error_code: "none",
        lane: "main",
        source: LOAD_SOURCE,
        venue: "paper",
        mode: "paper",
      }),
      body,
    ).toBe(2);
    expect(
      counter({
        decision: "EXECUTED",
        error_code: "none",
        lane: "manual",
        source: LOAD_SOURCE,
        venue: "paper",
        mode: "paper",
      }),
      body,
    ).toBe(1);
    expect(
      counter({
        decision: "DENIED",
        error_code: "limit",
        lane: "main",
        source: LOAD_SOURCE,
        venue: "paper",
        mode: "paper",
      }),
      body,
    ).toBe(1);
    expect(
      counter({
        decision: "DENIED",
        error_code: "unauthenticated",
        lane: "main",
        source: "unauthenticated",
        venue: "paper",
        mode: "paper",
      }),
      body,
    ).toBe(2);
    expect(body).toMatch(/^# TYPE intentgate_decision_seconds histogram$/m);
    expect(body).toMatch(/^intentgate_decision_seconds_bucket\{le="\+Inf"\} 6$/m);
    expect(body).toMatch(/^intentgate_decision_seconds_count 6$/m);
    expect(body).toMatch(/^intentgate_pending_entries 0$/m);
    expect(body).toMatch(/^intentgate_dlq_length 0$/m);
    expect(body).toMatch(/^intentgate_bus_up 1$/m);
    expect(body).toMatch(/^intentgate_deployment_ok 1$/m);
    for (const probe of ["healthz", "readyz"]) {
      const r = await fetch(`http://127.0.0.1:${port}/${probe}`);
      expect(r.status, probe).toBe(200);
      expect(((await r.json()) as { ok: boolean }).ok).toBe(true);
    }
    expect(await exec.stop()).toEqual({ code: 0, signal: null });
  }, 60_000);
});
