import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { uniquePrefix } from "../../../test/support/uniquePrefix.js";
import { openBackend } from "../openBackend.js";
import { SqliteAlertFeed } from "./sqliteAlertFeed.js";

const dir = mkdtempSync(join(tmpdir(), "ig-sqlite-alert-feed-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("SqliteAlertFeed", () => {
  it("reads the alert stream after a cursor, waits for a new one, and stores values under its prefix only", async () => {
    const url = `sqlite:${join(dir, "bus.db")}`;
    const prefix = uniquePrefix();
    const backend = await openBackend({ url, prefix, create: "file" });
    const other = await openBackend({ url, prefix: uniquePrefix(), create: "file" });
    const feed = await SqliteAlertFeed.open({ url, prefix });
    try {
      expect(await feed.readAlerts("0", 10, 0)).toEqual([]);
      expect(await feed.lastAlertId()).toBe("0");
      const a = await backend.publishAlert({ v: 1, kind: "k", n: 1 });
      await other.publishAlert({ v: 1, kind: "other prefix" });
      const b = await backend.publishAlert({ v: 1, kind: "k", n: 2 });
      expect(await feed.readAlerts("0", 10, 0)).toEqual([
        { id: a, text: '{"v":1,"kind":"k","n":1}' },
        { id: b, text: '{"v":1,"kind":"k","n":2}' },
      ]);
      expect((await feed.readAlerts(a, 10, 0)).map((e) => e.id)).toEqual([b]);
      expect(await feed.readAlerts("0", 1, 0)).toHaveLength(1);
      expect(await feed.lastAlertId()).toBe(b);

      const waiting = feed.readAlerts(b, 10, 5_000);
      setTimeout(() => void backend.publishAlert({ v: 1, kind: "late" }), 100);
      expect((await waiting).map((e) => JSON.parse(e.text!).kind)).toEqual(["late"]);
      const t0 = Date.now();
      expect(await feed.readAlerts(await feed.lastAlertId(), 10, 150)).toEqual([]);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(140);

      expect(await feed.getState("default")).toBeUndefined();
      await feed.setState("default", '{"v":1}');
      await feed.setState("default", '{"v":2}');
      expect(await feed.getState("default")).toBe('{"v":2}');
      const again = await SqliteAlertFeed.open({ url, prefix });
      expect(await again.getState("default")).toBe('{"v":2}');
      await again.close();
      const elsewhere = await SqliteAlertFeed.open({ url, prefix: uniquePrefix() });
      expect(await elsewhere.getState("default")).toBeUndefined();
      await elsewhere.close();
    } finally {
      await feed.close();
      await backend.close();
      await other.close();
    }
  });

  it("moves to a new file at the path (deleted and re-created), so alerts written there are read", async () => {
    const path = join(dir, "replaced.db");
    const url = `sqlite:${path}`;
    const prefix = uniquePrefix();
    const first = await openBackend({ url, prefix, create: "file" });
    await first.publishAlert({ v: 1, kind: "old" });
    await first.close();
    const feed = await SqliteAlertFeed.open({ url, prefix });
    try {
      expect(await feed.readAlerts("0", 10, 0)).toHaveLength(1);
      for (const suffix of ["", "-wal", "-shm"]) rmSync(`${path}${suffix}`, { force: true });
      await expect(feed.readAlerts("0", 10, 0)).rejects.toThrow(/no bus file/);
      const second = await openBackend({ url, prefix, create: "file" });
      await second.publishAlert({ v: 1, kind: "new" });
      await second.close();
      expect((await feed.readAlerts("0", 10, 0)).map((e) => JSON.parse(e.text!).kind)).toEqual(["new"]);
    } finally {
      await feed.close();
    }
  });

  it("refuses a missing file and a non-sqlite URL", async () => {
    await expect(
      SqliteAlertFeed.open({ url: `sqlite:${join(dir, "none.db")}`, prefix: "p:" }),
    ).rejects.toThrow();
    await expect(SqliteAlertFeed.open({ url: "redis://x", prefix: "p:" })).rejects.toThrow(/not a sqlite/);
  });
});
