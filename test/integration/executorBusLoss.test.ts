/**
 * Bus data loss and outages, against real executor processes (wire-v1 §7b, §8):
 * - Redis restarted without its data under a running executor (state HALTED
 *   before): one warn line for the lost connection with its real cause and one
 *   for its return, `deployment lost` logged and alerted, no group, state or
 *   claim recreated, nothing decided, `/readyz` 503 saying why; `intentgate
 *   init` (choosing the state) lets it resume, and the plans that waited are
 *   decided in the state init chose;
 * - Redis down when the executor starts: it waits (does not exit), `/healthz`
 *   200 and `/readyz` 503 meanwhile, and decides once Redis and `init` are there;
 * - the embedded bus file deleted, or replaced by another deployment's file,
 *   under a running executor: the same loss, resumed after `init` (`--force`
 *   for a replaced file).
 */
import { renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { Redis } from "ioredis";
import { afterEach, describe, expect, inject, it } from "vitest";
import { openBackend } from "../../src/adapters/openBackend.js";
import { decodeFields } from "../../src/adapters/sqlite/fieldCodec.js";
import { STREAMS } from "../../src/adapters/sqlite/sqliteStreams.js";
import type { PlanResult } from "../../src/core/result.js";
import { signPlan } from "../../src/sdk/signPlan.js";
import {
  ExecutorHarness,
  type ExecutorProcess,
  LOAD_KEY_ID,
  LOAD_SOURCE,
  type LogLine,
} from "../support/executorHarness.js";
import { readProbe } from "../support/readProbe.js";
import { freePort, type RedisServer, startRedisServer } from "../support/redisServer.js";
import { runCli } from "../support/runCli.js";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

let h: ExecutorHarness | undefined;
const servers: RedisServer[] = [];
afterEach(async () => {
  await h?.close();
  h = undefined;
  for (const s of servers.splice(0)) await s.stop();
});

let planCounter = 0;
function signedPlan(secret: string, over: Record<string, unknown> = {}): Array<[string, string]> {
  const s = signPlan({
    plan: {
      v: 1,
      plan_id: `bl-${process.pid}-${planCounter++}`,
      source: LOAD_SOURCE,
      venue: "paper",
      account: "acct-bl",
      symbol: "BTCUSDT",
      side: "BUY",
      qty: "1",
      created_at: Date.now(),
      ...over,
    },
    key: { keyId: LOAD_KEY_ID, alg: "hmac-sha256", secret },
  });
  return [
    ["plan", s.plan],
    ["auth", s.auth],
  ];
}

/** Waits until `pred` holds, or fails with `what`. */
async function until(pred: () => Promise<boolean> | boolean, what: string, ms = 20_000): Promise<void> {
  const t0 = Date.now();
  while (!(await pred())) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Publishes one signed plan through a new producer handle on `url` and waits for its result. */
async function decideOne(url: string, harness: ExecutorHarness): Promise<PlanResult> {
  const producer = await openBackend({ url, prefix: harness.prefix });
  try {
    const id = await producer.publish("main", signedPlan(harness.secret));
    let found: PlanResult | undefined;
    await until(async () => {
      found = (await producer.readResults("0", 1000)).find((r) => r.result.stream_id === id)?.result;
      return found !== undefined;
    }, `the result of ${id}`);
    return found!;
  } finally {
    await producer.close();
  }
}

/** The `deployment_lost` alert (wire-v1 §1a) for a marker that is gone. */
const lossAlert = (lostId: string | undefined) =>
  expect.objectContaining({
    v: 1,
    kind: "deployment_lost",
    severity: "critical",
    expected: lostId,
    found: null,
    dedup_key: `deployment_lost:${lostId}`,
  });

const msgIs = (msg: string) => (l: LogLine) => l.msg === msg;
const msgStarts = (prefix: string) => (l: LogLine) => typeof l.msg === "string" && l.msg.startsWith(prefix);

describe("Redis restarted without its data under a running executor", () => {
  it("is detected, alerted and never papered over; init lets the executor resume", async () => {
    const server = await startRedisServer();
    servers.push(server);
    const harness = await ExecutorHarness.create({ bus: "redis", redisUrl: server.url });
    h = harness;
    await harness.backend.setTradingState("HALTED", "ops");
    const config = harness.writeConfig();
    const [exec] = (await harness.start(["loss-1"], { config, args: ["--metrics-port", "0"] })) as [
      ExecutorProcess,
    ];
    const port = Number((await exec.ready()).metrics_port);
    const before = await harness.decide({
      planId: "x",
      lane: "main",
      account: "a",
      symbol: "BTCUSDT",
      side: "BUY",
      qty: "1",
      auth: "ok",
    });
    expect(before.result.error).toBe("trading_halted");
    const lostId = await harness.backend.readDeployment();

    // SHUTDOWN NOSAVE, a pause (reconnects are refused), then a new empty Redis on the same port.
    const raw = new Redis(server.url, { maxRetriesPerRequest: 0, retryStrategy: () => null });
    raw.on("error", () => undefined);
    await raw.call("SHUTDOWN", "NOSAVE").catch(() => undefined);
    raw.disconnect();
    await exec.waitForLog(msgIs("bus connection lost"), "'bus connection lost'");
    await sleep(1500);
    servers.splice(0, 1, await startRedisServer({ port: server.port }));
    await exec.waitForLog(msgIs("bus connection restored"), "'bus connection restored'");
    const lost = await exec.waitForLog(msgStarts("deployment lost"), "'deployment lost'");
    expect(lost).toMatchObject({ level: 50, expected: lostId, found: null });

    // Plans published now wait: nothing is decided, nothing recreated.
    const waiting = [];
    for (let i = 0; i < 5; i++)
      waiting.push(await harness.backend.publish("main", signedPlan(harness.secret)));
    await sleep(2500);
    const fresh = new Redis(server.url);
    try {
      expect(await fresh.xlen(`${harness.prefix}stream:apply.result`)).toBe(0);
      expect(
        await fresh.exists(
          `${harness.prefix}state`,
          `${harness.prefix}plan_ids`,
          `${harness.prefix}deployment`,
        ),
      ).toBe(0);
      await expect(fresh.call("XINFO", "GROUPS", `${harness.prefix}stream:apply.plan`)).resolves.toEqual([]);
      const alerts = (await fresh.xrange(`${harness.prefix}stream:exit.alert`, "-", "+")).map(
        ([, f]) => JSON.parse(f[1]!) as Record<string, unknown>,
      );
      expect(alerts).toEqual([lossAlert(lostId)]);
    } finally {
      fresh.disconnect();
    }
    const notReady = await readProbe(port, "readyz");
    expect(notReady.status).toBe(503);
    expect(JSON.stringify(notReady.body)).toContain("deployment");
    expect(JSON.stringify(notReady.body)).toContain("intentgate init");
    expect((await readProbe(port, "healthz")).status).toBe(200);
    expect(exec.logsWith("bus connection lost")).toHaveLength(1);
    expect(exec.logsWith("bus connection lost")[0]).toMatchObject({ level: 40, cause: "ECONNREFUSED" });
    expect(exec.logsWith("bus connection restored")).toHaveLength(1);
    expect((await runCli(["state", "get", "--config", config])).code).toBe(69);

    // The operator creates the deployment again, choosing the state: the waiting plans are decided in it.
    const init = await runCli(["init", "--config", config, "--state", "HALTED"]);
    expect(init.code, init.stderr).toBe(0);
    const created = init.stdout.trim();
    await exec.waitForLog(
      (l) => l.msg === "deciding under deployment marker" && l.deployment === created,
      "resume",
    );
    for (const id of waiting)
      expect((await harness.waitForResult("main", id)).result.error).toBe("trading_halted");
    await until(async () => (await readProbe(port, "readyz")).status === 200, "readyz 200 after init");
    expect(await exec.stop()).toEqual({ code: 0, signal: null });
  }, 90_000);
});

describe("Redis down when the executor starts", () => {
  it("the executor waits (not ready), then decides once Redis and its deployment are there", async () => {
    const harness = await ExecutorHarness.create({ bus: "redis", redisUrl: inject("redisUrl") });
    h = harness;
    const redisPort = await freePort();
    const metricsPort = await freePort();
    const config = harness.writeConfig({ bus: `redis://127.0.0.1:${redisPort}` });
    const exec = harness.spawn("late-1", { config, args: ["--metrics-port", String(metricsPort)] });
    const unreachable = await exec.waitForLog(msgStarts("bus unreachable"), "'bus unreachable'");
    expect(String(unreachable.cause)).toContain("ECONNREFUSED");
    await until(
      async () =>
        (await fetch(`http://127.0.0.1:${metricsPort}/readyz`).catch(() => undefined)) !== undefined,
      "probes",
    );
    const r1 = await readProbe(metricsPort, "readyz");
    expect(r1.status).toBe(503);
    expect(JSON.stringify(r1.body)).toContain("unreachable");
    expect((await readProbe(metricsPort, "healthz")).status).toBe(200);
    await sleep(1500);
    expect(exec.alive, exec.describe()).toBe(true);
    expect(exec.logs.filter(msgStarts("bus unreachable"))).toHaveLength(1);

    const server = await startRedisServer({ port: redisPort });
    servers.push(server);
    await exec.waitForLog(msgIs("bus reached"), "'bus reached'");
    await exec.waitForLog(msgStarts("no deployment marker"), "'no deployment marker'");
    expect((await readProbe(metricsPort, "readyz")).status).toBe(503);
    const producer = await openBackend({ url: server.url, prefix: harness.prefix });
    try {
      const id = await producer.publish("main", signedPlan(harness.secret));
      const init = await runCli(["init", "--config", config, "--state", "ACTIVE"]);
      expect(init.code, init.stderr).toBe(0);
      await until(
        async () => (await producer.readResults("0", 10)).length === 1,
        "the waiting plan's result",
      );
      const [r] = await producer.readResults("0", 10);
      expect(r!.result).toMatchObject({ stream_id: id, decision: "EXECUTED" });
      await until(async () => (await readProbe(metricsPort, "readyz")).status === 200, "readyz 200");
    } finally {
      await producer.close();
    }
    expect(await exec.stop()).toEqual({ code: 0, signal: null });
  }, 60_000);
});

describe("the embedded bus file lost under a running executor", () => {
  it("deleted: detected and alerted; init creates a new file and the executor resumes on it", async () => {
    const harness = await ExecutorHarness.create({ bus: "sqlite" });
    h = harness;
    const config = harness.writeConfig();
    const [exec] = (await harness.start(["file-1"], { config })) as [ExecutorProcess];
    const first = await harness.backend.publish("main", signedPlan(harness.secret));
    expect((await harness.waitForResult("main", first)).result.decision).toBe("EXECUTED");
    const lostId = await harness.backend.readDeployment();
    const file = join(harness.dir, "bus.db");
    for (const suffix of ["", "-wal", "-shm"]) rmSync(`${file}${suffix}`, { force: true });
    await exec.waitForLog(msgStarts("deployment lost"), "'deployment lost'");
    // Producers cannot write to a bus nobody reads: the file is not silently re-created.
    const submit = await runCli(["state", "get", "--config", config]);
    expect(submit.code).toBe(69);
    expect(submit.stderr).toContain("no bus file");

    const init = await runCli(["init", "--config", config, "--state", "ACTIVE"]);
    expect(init.code, init.stderr).toBe(0);
    await exec.waitForLog((l) => l.msg === "deciding under deployment marker" && l.how === "init", "resume");
    expect((await decideOne(harness.busUrl, harness)).decision).toBe("EXECUTED");
    // The loss alert went to the deleted file; the new deployment gets it too (same dedup_key).
    const db = new Database(join(harness.dir, "bus.db"), { readonly: true });
    try {
      const rows = db
        .prepare("SELECT fields FROM ig_stream WHERE prefix = ? AND stream = ?")
        .all(harness.prefix, STREAMS.alert) as Array<{ fields: Buffer }>;
      const alerts = rows.map((row) => JSON.parse(decodeFields(row.fields)[0]![1].toString("utf8")));
      expect(alerts).toEqual([lossAlert(lostId)]);
    } finally {
      db.close();
    }
    const log = exec.logs.find(msgStarts("deployment lost"));
    expect(log).toMatchObject({ expected: lostId, found: null });
    expect(await exec.stop()).toEqual({ code: 0, signal: null });
  }, 60_000);

  it("replaced by another deployment's file: detected; init refuses without --force, resumes after it", async () => {
    const harness = await ExecutorHarness.create({ bus: "sqlite" });
    h = harness;
    const config = harness.writeConfig();
    const [exec] = (await harness.start(["file-2"], { config })) as [ExecutorProcess];
    const lostId = await harness.backend.readDeployment();
    const other = join(harness.dir, "other.db");
    const otherBus = await openBackend({ url: `sqlite:${other}`, prefix: harness.prefix, create: "file" });
    const otherId = await otherBus.initDeployment({ state: "ACTIVE", who: "elsewhere" });
    await otherBus.close();
    // Another deployment's file put in its place (with the old file's WAL and shared-memory files
    // removed: left beside a new file, SQLite would replay the old WAL into it).
    for (const suffix of ["-wal", "-shm"]) rmSync(join(harness.dir, `bus.db${suffix}`), { force: true });
    renameSync(other, join(harness.dir, "bus.db"));
    const lost = await exec.waitForLog(msgStarts("deployment lost"), "'deployment lost'");
    expect(lost).toMatchObject({ expected: lostId, found: otherId });

    const refused = await runCli(["init", "--config", config, "--state", "ACTIVE"]);
    expect(refused.code).toBe(73);
    const forced = await runCli(["init", "--config", config, "--state", "ACTIVE", "--force"]);
    expect(forced.code, forced.stderr).toBe(0);
    await exec.waitForLog(
      (l) => l.msg === "deciding under deployment marker" && l.deployment === forced.stdout.trim(),
      "resume",
    );
    expect((await decideOne(harness.busUrl, harness)).decision).toBe("EXECUTED");
    expect(await exec.stop()).toEqual({ code: 0, signal: null });
  }, 60_000);
});
