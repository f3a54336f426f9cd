import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, inject, it } from "vitest";
import { openBackend } from "../../src/adapters/openBackend.js";
import { parseConfigText } from "../../src/config/loadConfig.js";
import type { PlanResult } from "../../src/core/result.js";
import { Executor, type ExecutorObserver } from "../../src/executor/executor.js";
import { signPlan } from "../../src/sdk/signPlan.js";
import { readAlerts } from "../support/readAlerts.js";
import { uniquePrefix } from "../support/uniquePrefix.js";

const SECRET = "dead-letter-test-secret-of-32-bytes+";
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const buses: Array<[string, () => { url: string; prefix: string }]> = [
  ["redis", () => ({ url: inject("redisUrl"), prefix: uniquePrefix() })],
  [
    "sqlite",
    () => {
      const dir = mkdtempSync(join(tmpdir(), "ig-dlq-"));
      dirs.push(dir);
      return { url: `sqlite:${join(dir, "bus.db")}`, prefix: "intentgate:" };
    },
  ],
];

describe.each(buses)("an entry delivered max_deliveries times (%s)", (_bus, where) => {
  it("gets FAILED internal_error:delivery_limit, a DLQ copy and an alert, and is never executed", async () => {
    const { url, prefix } = where();
    const config = {
      bus: url,
      prefix,
      keys: { k1: { alg: "hmac-sha256", secret_env: "DLQ_SECRET", source: "bot" } },
      sources: { bot: { lanes: ["main"] } },
      venues: { paper: { prices: { BTCUSDT: "100" } } },
    };
    const { policy } = await parseConfigText(JSON.stringify(config), "json", { DLQ_SECRET: SECRET });
    const backend = await openBackend({ url, prefix, create: "file" });
    try {
      await backend.initDeployment({ state: "ACTIVE", who: "test" });
      const signed = signPlan({
        plan: {
          v: 1,
          plan_id: "dlq-1",
          source: "bot",
          venue: "paper",
          symbol: "BTCUSDT",
          side: "BUY",
          qty: "1",
          created_at: Date.now(),
        },
        key: { keyId: "k1", alg: "hmac-sha256", secret: SECRET },
      });
      const streamId = await backend.publish("main", [
        ["plan", signed.plan],
        ["auth", signed.auth],
      ]);
      // Two deliveries to consumers that die without a result.
      expect(await backend.readNew("crashing-1", 10, 0)).toHaveLength(1);
      await new Promise((r) => setTimeout(r, 5));
      expect((await backend.reclaim("crashing-2", 1, 10))[0]?.deliveries).toBe(2);
      await new Promise((r) => setTimeout(r, 5));

      const decided: PlanResult[] = [];
      const observer: ExecutorObserver = {
        decided: (result) => decided.push(result),
        duplicate() {},
        gaveUp() {},
        failed(err) {
          throw err;
        },
      };
      const executor = new Executor({
        backend,
        consumer: "survivor",
        policy: () => policy,
        settings: {
          batchSize: 10,
          claimIdleMs: 1,
          maxDeliveries: 3,
          blockMs: 0,
          maxConflictRetries: 5,
          maxBusClockSkewMs: 1000,
        },
        observer,
      });
      expect(await executor.step()).toBe(1); // the third delivery: the limit
      await new Promise((r) => setTimeout(r, 50)); // the alert is sent after the commit

      expect(decided).toHaveLength(1);
      // Never parsed at the limit (it may be what kept failing): no plan fields; the DLQ copy holds the entry.
      expect(decided[0]).toMatchObject({
        stream_id: streamId,
        plan_id: null,
        authenticated: false,
        decision: "FAILED",
        executed: false,
        error: "internal_error:delivery_limit",
      });
      expect(await backend.dlqLength()).toBe(1);
      expect(await backend.pendingCount()).toBe(0);
      expect(await backend.positions()).toEqual([]);
      const results = await backend.readResults("0", 10);
      expect(results.map((r) => r.result.stream_id)).toEqual([streamId]);
      expect(await readAlerts(url, prefix)).toEqual([
        expect.objectContaining({
          kind: "dead_letter",
          stream_id: streamId,
          plan_id: null,
          deliveries: 3,
        }),
      ]);
    } finally {
      await backend.close();
    }
  });
});
