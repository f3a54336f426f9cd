/**
 * PositionWatch on both buses, against the paper ledger (what the executor
 * commits) and scripted venue readings: an explained fill raises nothing,
 * an unexplained change raises one `position_drift` across restarts and a
 * crash before the append, `halt` moves the trading state with who and
 * why, and an unreadable venue says so.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, inject, it } from "vitest";
import { decisionFor, planFields } from "../../test/conformance/backendConformance.js";
import { PAPER_BOOK } from "../../test/support/coreFixtures.js";
import { uniquePrefix } from "../../test/support/uniquePrefix.js";
import { openBackend } from "../adapters/openBackend.js";
import { openRedisAlertFeed } from "../adapters/redis/redisAlertFeed.js";
import { SqliteAlertFeed } from "../adapters/sqlite/sqliteAlertFeed.js";
import { driftActionFor } from "../core/positionWatch/index.js";
import type { PlanResult } from "../core/result.js";
import type { AlertFeed } from "../ports/alertFeed.js";
import type { Backend } from "../ports/backend.js";
import type { PositionsOutcome } from "../ports/venue.js";
import { type PositionSource, PositionWatch, type PositionWatchOptions } from "./positionWatch.js";

const dir = mkdtempSync(join(tmpdir(), "ig-position-watch-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const BUSES: Record<string, () => Promise<{ backend: Backend; feed: AlertFeed }>> = {
  sqlite: async () => {
    const url = `sqlite:${join(dir, `${uniquePrefix("pw").replaceAll(":", "_")}.db`)}`;
    const prefix = uniquePrefix();
    const backend = await openBackend({ url, prefix, create: "file" });
    await backend.initDeployment({ state: "ACTIVE", who: "test" });
    return { backend, feed: await SqliteAlertFeed.open({ url, prefix }) };
  },
  redis: async () => {
    const url = inject("redisUrl");
    const prefix = uniquePrefix();
    const backend = await openBackend({ url, prefix });
    await backend.initDeployment({ state: "ACTIVE", who: "test" });
    return { backend, feed: await openRedisAlertFeed({ url, prefix }) };
  },
};

const quietObserver = {
  read() {},
  unexplained() {},
  stateChanged() {},
  stateRefused() {},
};

describe.each(Object.keys(BUSES))("PositionWatch on the %s bus", (kind) => {
  let n = 0;
  /** Commits one paper decision as the executor would: `result`, and the paper position set to `position`. */
  async function commit(backend: Backend, result: Partial<PlanResult>, position?: string): Promise<void> {
    const id = await backend.publish("main", planFields(`pw-${++n}`));
    const [entry] = (await backend.readNew("test", 100, 0)).filter((e) => e.id === id);
    await backend.commit([
      decisionFor(entry!, {
        result: { timestamp: Date.now(), ...result },
        effects:
          position === undefined
            ? {}
            : { setPosition: { account: "default", symbol: "BTCUSDT", ...PAPER_BOOK, value: position } },
      }),
    ]);
  }
  const paperFill = (qty: string, side: "BUY" | "SELL" = "BUY"): Partial<PlanResult> => ({
    action: "place",
    venue: "paper",
    account: "default",
    symbol: "BTCUSDT",
    side,
    qty,
    decision: "EXECUTED",
    executed: true,
    error: null,
    mode: "paper",
    client_order_id: `ig-${n + 1}`,
    fill_qty: qty,
  });
  const alerts = async (feed: AlertFeed) =>
    (await feed.readAlerts("0", 1000, 0)).map((e) => JSON.parse(e.text ?? "{}") as Record<string, unknown>);
  const paper = (backend: Backend): PositionSource => ({
    book: "paper",
    read: async () => ({ ok: true, positions: await backend.positions() }),
  });
  const options = (backend: Backend, feed: AlertFeed, over: Partial<PositionWatchOptions> = {}) => ({
    backend,
    feed,
    sources: [paper(backend)],
    drift: { settleMs: 60_000, actionFor: driftActionFor({}) },
    unreadableRepeatMs: 60_000,
    who: "watch:w1",
    observer: quietObserver,
    ...over,
  });

  it("an explained fill raises nothing; a change no result explains raises one position_drift, also across a restart", async () => {
    const { backend, feed } = await BUSES[kind]!();
    await backend.ensureGroups();
    try {
      const first = new PositionWatch(options(backend, feed));
      expect(await first.step()).toBe(0);
      await commit(backend, paperFill("1"), "1");
      expect(await first.step()).toBe(0);
      expect(await first.step()).toBe(0);
      // Another writer moves the position with no executed result behind it.
      await commit(backend, { decision: "DENIED", executed: false }, "3");
      expect(await first.step()).toBe(0); // seen once: maybe in flight
      const restarted = new PositionWatch(options(backend, feed));
      expect(await restarted.step()).toBe(1);
      expect(await restarted.step()).toBe(0);
      expect(await new PositionWatch(options(backend, feed)).step()).toBe(0);
      const drift = (await alerts(feed)).filter((a) => a.kind === "position_drift");
      expect(drift).toEqual([
        expect.objectContaining({
          v: 1,
          kind: "position_drift",
          severity: "critical",
          venue: "paper",
          account: "default",
          symbol: "BTCUSDT",
          expected: "1",
          actual: "3",
          drift: "2",
          action: "alert",
          alert_id: expect.any(String),
        }),
      ]);
      expect(await backend.getTradingState()).toBe("ACTIVE");
    } finally {
      await feed.close();
      await backend.close();
    }
  });

  it("a crash after the alert was stored but before it was appended: the next start appends it once", async () => {
    const { backend, feed } = await BUSES[kind]!();
    await backend.ensureGroups();
    try {
      const watch = new PositionWatch(options(backend, feed));
      await watch.step();
      await commit(backend, { decision: "DENIED", executed: false }, "2");
      await watch.step();
      let fail = true;
      const crashing = new Proxy(backend, {
        get(target, prop, receiver) {
          if (prop === "publishAlert" && fail)
            return async () => {
              fail = false;
              throw new Error("connection lost");
            };
          const v = Reflect.get(target, prop, receiver) as unknown;
          return typeof v === "function" ? v.bind(target) : v;
        },
      });
      await expect(new PositionWatch(options(crashing, feed)).step()).rejects.toThrow(/connection lost/);
      expect(await alerts(feed)).toEqual([]);
      expect(await new PositionWatch(options(backend, feed)).step()).toBe(1);
      expect(await new PositionWatch(options(backend, feed)).step()).toBe(0);
      expect((await alerts(feed)).map((a) => [a.kind, a.actual])).toEqual([["position_drift", "2"]]);
    } finally {
      await feed.close();
      await backend.close();
    }
  });

  it("a crash after the alert was appended but before the outbox was emptied: the next start does not append it again", async () => {
    const { backend, feed } = await BUSES[kind]!();
    await backend.ensureGroups();
    try {
      await new PositionWatch(options(backend, feed)).step();
      await commit(backend, { decision: "DENIED", executed: false }, "2");
      await new PositionWatch(options(backend, feed)).step();
      let appended = false;
      const crashingFeed = new Proxy(feed, {
        get(target, prop, receiver) {
          if (prop === "setState" && appended)
            return async () => {
              throw new Error("connection lost");
            };
          const v = Reflect.get(target, prop, receiver) as unknown;
          return typeof v === "function" ? v.bind(target) : v;
        },
      });
      const noting = new Proxy(backend, {
        get(target, prop, receiver) {
          if (prop === "publishAlert")
            return async (a: Record<string, unknown>) => {
              const id = await target.publishAlert(a);
              appended = true;
              return id;
            };
          const v = Reflect.get(target, prop, receiver) as unknown;
          return typeof v === "function" ? v.bind(target) : v;
        },
      });
      await expect(
        new PositionWatch({ ...options(noting, crashingFeed), backend: noting }).step(),
      ).rejects.toThrow(/connection lost/);
      expect(await alerts(feed)).toHaveLength(1);
      expect(await new PositionWatch(options(backend, feed)).step()).toBe(0);
      expect(await alerts(feed)).toHaveLength(1);
    } finally {
      await feed.close();
      await backend.close();
    }
  });

  it("drift configured to halt sets HALTED once, logged with who (the watcher) and why", async () => {
    const { backend, feed } = await BUSES[kind]!();
    await backend.ensureGroups();
    try {
      const watch = new PositionWatch(
        options(backend, feed, { drift: { settleMs: 60_000, actionFor: driftActionFor({ paper: "halt" }) } }),
      );
      await watch.step();
      await commit(backend, paperFill("1", "SELL"), "-1");
      await commit(backend, { decision: "DENIED", executed: false }, "0"); // closed by hand
      await watch.step();
      expect(await backend.getTradingState()).toBe("ACTIVE");
      expect(await watch.step()).toBe(1);
      expect(await backend.getTradingState()).toBe("HALTED");
      const log = await backend.tradingStateLog();
      expect(log.at(-1)).toMatchObject({
        state: "HALTED",
        who: "watch:w1 (position_drift paper/default/BTCUSDT: expected -1, actual 0)",
      });
      await watch.step();
      expect((await backend.tradingStateLog()).length).toBe(log.length);
      expect((await alerts(feed)).map((a) => a.action)).toEqual(["halt"]);
    } finally {
      await feed.close();
      await backend.close();
    }
  });

  it("an unreadable venue is alerted (once per repeat window), and its positions are not judged meanwhile", async () => {
    const { backend, feed } = await BUSES[kind]!();
    await backend.ensureGroups();
    let answer: PositionsOutcome = { ok: false, detail: "HTTP 401: API-key rejected" };
    const venue: PositionSource = { book: "binance-usdm", account: "a1", read: async () => answer };
    try {
      const opts = options(backend, feed, { sources: [venue] });
      expect(await new PositionWatch(opts).step()).toBe(1);
      expect(await new PositionWatch(opts).step()).toBe(0);
      answer = { ok: true, positions: [{ account: "a1", symbol: "BTCUSDT", qty: "0.5" }] };
      expect(await new PositionWatch(opts).step()).toBe(0); // the first good read is the base
      answer = { ok: false, detail: "connect ECONNREFUSED" };
      expect(await new PositionWatch(opts).step()).toBe(1);
      expect(await alerts(feed)).toEqual([
        expect.objectContaining({
          kind: "venue_unreadable",
          venue: "binance-usdm",
          account: "a1",
          error: "HTTP 401: API-key rejected",
          last_read: null,
        }),
        expect.objectContaining({
          kind: "venue_unreadable",
          error: "connect ECONNREFUSED",
          last_read: expect.any(Number),
        }),
      ]);
    } finally {
      await feed.close();
      await backend.close();
    }
  });
});
