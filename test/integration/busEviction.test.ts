/**
 * An executor on a Redis that may evict keys decides nothing (wire-v1 §6's
 * claims, the duplicate-order marks, the rate counters, the accounts' books
 * must outlive what counts on them).
 *
 * The attack: an operator sets `maxmemory-policy volatile-lru` (a common
 * cache setting). Under memory pressure Redis then drops exactly the keys
 * with a time to live, the duplicate-order marks among them, and a copy of
 * an order executed a moment ago would execute again; with `allkeys-*` the
 * claims themselves can go. Nothing in the ledger would say so. With the
 * guard, the executor reads the policy (at start and once a second), decides
 * nothing while it evicts, says why (log line, `bus_eviction` alert,
 * `/readyz`), and decides again once Redis keeps its keys.
 */
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { ExecutorHarness, type PlanSpec } from "../support/executorHarness.js";
import { readAlerts } from "../support/readAlerts.js";
import { readProbe } from "../support/readProbe.js";
import { type RedisServer, startRedisServer } from "../support/redisServer.js";

let h: ExecutorHarness | undefined;
let server: RedisServer | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
  await server?.stop();
  server = undefined;
});

describe("an executor on a Redis that may evict keys (redis)", () => {
  it("decides nothing while the policy evicts, says why, and decides once it is noeviction again", async () => {
    // its own server: the policy is changed at run time, which no other test file may see
    server = await startRedisServer();
    const raw = new Redis(server.url);
    try {
      await raw.call("CONFIG", "SET", "maxmemory-policy", "volatile-lru");
      h = await ExecutorHarness.create({ bus: "redis", redisUrl: server.url });
      const harness = h;
      const config = harness.writeConfig({ metrics_port: 0 });
      const tag = randomBytes(3).toString("hex");
      const consumer = `evict-${tag}`;
      const [e] = await harness.start([consumer], { config });
      const line = await e!.waitForLog(
        (l) => l.msg?.includes("evict") === true && (l.level ?? 0) >= 50,
        "eviction error line",
      );
      expect(line.policy).toBe("volatile-lru");
      const port = (await e!.ready()).metrics_port as number;
      const readyz = await readProbe(port, "readyz");
      expect(readyz.status).toBe(503);
      expect(readyz.body.checks?.bus_eviction).toEqual({
        ok: false,
        detail: expect.stringContaining("maxmemory-policy volatile-lru"),
      });
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(metrics).toMatch(/^intentgate_bus_keeps_keys 0$/m);

      const spec: PlanSpec = {
        planId: `evict-${tag}`,
        lane: "main",
        account: "acct-evict",
        symbol: "BTCUSDT",
        side: "BUY",
        qty: "0.1",
        auth: "ok",
      };
      const [published] = await harness.publish([spec]);
      // a second and more of looking: the plan is not read, let alone decided
      await new Promise((r) => setTimeout(r, 1500));
      expect(await harness.pendingFor(consumer)).toBe(0);
      expect(await raw.xlen(`${harness.prefix}stream:apply.result`)).toBe(0);

      const alert = (await readAlerts(server.url, harness.prefix)).find((x) => x.kind === "bus_eviction");
      expect(alert).toMatchObject({
        v: 1,
        kind: "bus_eviction",
        severity: "critical",
        consumer,
        policy: "volatile-lru",
      });

      await raw.call("CONFIG", "SET", "maxmemory-policy", "noeviction");
      const { result } = await harness.waitForResult("main", published!.id);
      expect([result.decision, result.executed]).toEqual(["EXECUTED", true]);
      await e!.waitForLog((l) => l.msg?.includes("keeps its keys again") === true, "resumed line");
      expect((await readProbe(port, "readyz")).status).toBe(200);
      expect((await e!.stop()).code).toBe(0);
    } finally {
      raw.disconnect();
    }
  });
});
