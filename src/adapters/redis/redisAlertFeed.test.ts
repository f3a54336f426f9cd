import { Redis } from "ioredis";
import { describe, expect, inject, it } from "vitest";
import { uniquePrefix } from "../../../test/support/uniquePrefix.js";
import { openBackend } from "../openBackend.js";
import { alertStateKey, openRedisAlertFeed, RedisAlertFeed } from "./redisAlertFeed.js";

const url = inject("redisUrl");

describe("RedisAlertFeed", () => {
  it("reads the alert stream after a cursor, waits for a new one, and stores values under its prefix", async () => {
    const prefix = uniquePrefix();
    const backend = await openBackend({ url, prefix });
    const feed = await openRedisAlertFeed({ url, prefix });
    const raw = new Redis(url);
    try {
      expect(await feed.readAlerts("0", 10, 0)).toEqual([]);
      expect(await feed.lastAlertId()).toBe("0");
      const a = await backend.publishAlert({ v: 1, kind: "k", n: 1 });
      const b = await backend.publishAlert({ v: 1, kind: "k", n: 2 });
      // An entry without the alert field (not written by IntentGate) still comes back, without text.
      const c = String(await raw.call("XADD", `${prefix}stream:exit.alert`, "*", "other", "x"));
      expect(await feed.readAlerts("0", 10, 0)).toEqual([
        { id: a, text: '{"v":1,"kind":"k","n":1}' },
        { id: b, text: '{"v":1,"kind":"k","n":2}' },
        { id: c, text: undefined },
      ]);
      expect((await feed.readAlerts(a, 1, 0)).map((e) => e.id)).toEqual([b]);
      expect(await feed.lastAlertId()).toBe(c);

      const waiting = feed.readAlerts(c, 10, 5_000);
      setTimeout(() => void backend.publishAlert({ v: 1, kind: "late" }), 100);
      expect((await waiting).map((e) => JSON.parse(e.text!).kind)).toEqual(["late"]);

      await feed.setState("default", '{"v":1}');
      expect(await feed.getState("default")).toBe('{"v":1}');
      expect(await raw.get(alertStateKey(prefix, "default"))).toBe('{"v":1}');
      expect(await raw.get(`${prefix}alert_delivery:default`)).toBe('{"v":1}');
      expect(await feed.getState("other")).toBeUndefined();
    } finally {
      await feed.close();
      await backend.close();
      raw.disconnect();
    }
  });

  it("leaves a connection it was given open; close interrupts a blocked read", async () => {
    const conn = new Redis(url);
    const feed = new RedisAlertFeed(conn, uniquePrefix());
    const blocked = feed.readAlerts("$", 1, 10_000).catch((err: unknown) => err);
    await new Promise((r) => setTimeout(r, 100));
    const t0 = Date.now();
    await feed.close();
    expect(await blocked).toBeInstanceOf(Error);
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect(await conn.ping()).toBe("PONG");
    conn.disconnect();
  });

  it("fails to open on an unreachable server without showing the URL's password", async () => {
    const err = await openRedisAlertFeed({ url: "redis://:CanaryPass@127.0.0.1:9", prefix: "p:" }).catch(
      (e: unknown) => e,
    );
    expect(String((err as Error).message)).toMatch(/cannot connect to redis:\/\/\[REDACTED\]@127.0.0.1:9/);
    expect(String((err as Error).message)).not.toContain("CanaryPass");
  });
});
