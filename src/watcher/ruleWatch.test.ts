/**
 * RuleWatch on both buses: results committed as the executor commits them,
 * alerts read back from the alert stream. Each result is counted once and
 * each alert appended once across restarts, and across a crash between
 * storing the outbox and appending it.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, inject, it } from "vitest";
import { decisionFor, planFields } from "../../test/conformance/backendConformance.js";
import { uniquePrefix } from "../../test/support/uniquePrefix.js";
import { openBackend } from "../adapters/openBackend.js";
import { openRedisAlertFeed } from "../adapters/redis/redisAlertFeed.js";
import { SqliteAlertFeed } from "../adapters/sqlite/sqliteAlertFeed.js";
import { DEFAULT_ALERT_RULES } from "../core/alertRules/settings.js";
import type { AlertFeed } from "../ports/alertFeed.js";
import type { Backend } from "../ports/backend.js";
import { AlertStateError } from "./alertDeliveryError.js";
import { RuleWatch } from "./ruleWatch.js";

const dir = mkdtempSync(join(tmpdir(), "ig-rule-watch-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const BUSES: Record<string, () => Promise<{ backend: Backend; openFeed: () => Promise<AlertFeed> }>> = {
  sqlite: async () => {
    const url = `sqlite:${join(dir, `${uniquePrefix("rw").replaceAll(":", "_")}.db`)}`;
    const prefix = uniquePrefix();
    const backend = await openBackend({ url, prefix, create: "file" });
    await backend.initDeployment({ state: "ACTIVE", who: "test" });
    return { backend, openFeed: () => SqliteAlertFeed.open({ url, prefix }) };
  },
  redis: async () => {
    const url = inject("redisUrl");
    const prefix = uniquePrefix();
    const backend = await openBackend({ url, prefix });
    await backend.initDeployment({ state: "ACTIVE", who: "test" });
    return { backend, openFeed: () => openRedisAlertFeed({ url, prefix }) };
  },
};

const settings = { ...DEFAULT_ALERT_RULES, deny_burst: { ...DEFAULT_ALERT_RULES.deny_burst, threshold: 10 } };

describe.each(Object.keys(BUSES))("RuleWatch on the %s bus", (kind) => {
  let n = 0;
  /** Commits `count` results denied NOT_EXIT_OWNER for `source`, as the executor would. */
  async function deny(backend: Backend, count: number, source = "bot_a"): Promise<void> {
    for (let i = 0; i < count; i++) {
      const id = await backend.publish("main", planFields(`d-${++n}`));
      const [entry] = (await backend.readNew("test", 100, 0)).filter((e) => e.id === id);
      await backend.commit([
        decisionFor(entry!, {
          result: {
            decision: "DENIED",
            executed: false,
            error: `NOT_EXIT_OWNER:source=${source}` as never,
            source,
            authenticated: true,
            timestamp: Date.now(),
          },
        }),
      ]);
    }
  }
  const alerts = async (backend: Backend, feed: AlertFeed) => {
    void backend;
    return (await feed.readAlerts("0", 1000, 0)).map(
      (e) => JSON.parse(e.text ?? "{}") as Record<string, unknown>,
    );
  };

  it("10 NOT_EXIT_OWNER denials: one deny_burst, not ten; a restart mid-burst counts each result once", async () => {
    const { backend, openFeed } = await BUSES[kind]!();
    await backend.ensureGroups();
    const feed = await openFeed();
    try {
      const first = new RuleWatch({ bus: backend, feed, settings, start: "all" });
      await deny(backend, 6);
      expect(await first.step()).toEqual({ read: 6, alerts: 0 });
      // A new RuleWatch (a restarted watcher) continues from the stored cursor and counts.
      const second = new RuleWatch({ bus: backend, feed, settings });
      await deny(backend, 3);
      expect(await second.step()).toEqual({ read: 3, alerts: 0 });
      await deny(backend, 1);
      expect(await second.step()).toEqual({ read: 1, alerts: 1 });
      await deny(backend, 10);
      expect((await second.step()).alerts).toBe(0); // within the cooldown
      const got = await alerts(backend, feed);
      expect(got).toEqual([
        expect.objectContaining({
          v: 1,
          kind: "deny_burst",
          code: "NOT_EXIT_OWNER",
          source: "bot_a",
          count: 10,
          dedup_key: expect.any(String),
          alert_id: expect.any(String),
        }),
      ]);
    } finally {
      await feed.close();
      await backend.close();
    }
  });

  it("a crash after storing the outbox: the next start appends what is missing, once", async () => {
    const { backend, openFeed } = await BUSES[kind]!();
    await backend.ensureGroups();
    const feed = await openFeed();
    try {
      // Appending fails once: the outbox is stored, the alert is not on the stream.
      let fail = true;
      const flaky = {
        readResults: backend.readResults.bind(backend),
        lastResultId: backend.lastResultId.bind(backend),
        publishAlert: async (a: Record<string, unknown>) => {
          if (fail) throw new Error("bus down");
          return backend.publishAlert(a);
        },
      };
      const crashed = new RuleWatch({ bus: flaky, feed, settings, start: "all" });
      await deny(backend, 10, "bot_b");
      await expect(crashed.step()).rejects.toThrow("bus down");
      expect(await alerts(backend, feed)).toEqual([]);
      fail = false;
      const restarted = new RuleWatch({ bus: backend, feed, settings });
      expect((await restarted.step()).alerts).toBe(1);
      expect((await alerts(backend, feed)).map((a) => a.source)).toEqual(["bot_b"]);
      // Appended, then a crash before the outbox was cleared: nothing is appended twice.
      await deny(backend, 10, "bot_c");
      const writes: string[] = [];
      const recording = {
        getState: feed.getState.bind(feed),
        readAlerts: feed.readAlerts.bind(feed),
        lastAlertId: feed.lastAlertId.bind(feed),
        setState: async (name: string, value: string) => {
          writes.push(value);
          await feed.setState(name, value);
        },
      };
      const halfDone = new RuleWatch({ bus: backend, feed: recording, settings });
      expect((await halfDone.step()).alerts).toBe(1);
      const withOutbox = writes.find((w) => (JSON.parse(w) as { outbox: unknown[] }).outbox.length > 0);
      expect(withOutbox).toBeDefined();
      await feed.setState("rules", withOutbox!); // as if it crashed after appending, before clearing the outbox
      const again = new RuleWatch({ bus: backend, feed, settings });
      await again.step();
      expect((await alerts(backend, feed)).map((a) => a.source)).toEqual(["bot_b", "bot_c"]);
    } finally {
      await feed.close();
      await backend.close();
    }
  });

  it("a stored state it cannot read stops it rather than start afresh", async () => {
    const { backend, openFeed } = await BUSES[kind]!();
    const feed = await openFeed();
    try {
      await feed.setState("rules", '{"v":1,"cursor":5}');
      await expect(new RuleWatch({ bus: backend, feed, settings }).step()).rejects.toBeInstanceOf(
        AlertStateError,
      );
    } finally {
      await feed.close();
      await backend.close();
    }
  });
});
