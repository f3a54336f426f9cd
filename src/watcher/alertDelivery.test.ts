import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { afterAll, afterEach, beforeEach, describe, expect, inject, it } from "vitest";
import { type CapturedLogger, captureLogger } from "../../test/support/captureLogger.js";
import { uniquePrefix } from "../../test/support/uniquePrefix.js";
import {
  failThenOk,
  ok,
  type ReceiverScript,
  startWebhookReceiver,
  type WebhookReceiver,
} from "../../test/support/webhookReceiver.js";
import { CommandSink } from "../adapters/alerts/commandSink.js";
import { WebhookSink } from "../adapters/alerts/webhookSink.js";
import { openBackend } from "../adapters/openBackend.js";
import { openRedisAlertFeed } from "../adapters/redis/redisAlertFeed.js";
import { SqliteAlertFeed } from "../adapters/sqlite/sqliteAlertFeed.js";
import type { AlertFeed } from "../ports/alertFeed.js";
import type { Backend } from "../ports/backend.js";
import { AlertDelivery } from "./alertDelivery.js";
import { AlertStateError } from "./alertDeliveryError.js";
import type { AlertDeliveryOptions } from "./alertDeliveryOptions.js";
import { createAlertMetrics } from "./alertMetrics.js";

const dir = mkdtempSync(join(tmpdir(), "ig-alert-delivery-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CANARY = "T0CANARY/B0CANARY/XoxCanaryWebhookToken9876";

interface Bus {
  backend: Backend;
  feed: AlertFeed;
  openFeed(): Promise<AlertFeed>;
}

const BUSES: Record<string, () => Promise<Bus>> = {
  sqlite: async () => {
    const url = `sqlite:${join(dir, `${uniquePrefix("bus").replaceAll(":", "_")}.db`)}`;
    const prefix = uniquePrefix();
    const backend = await openBackend({ url, prefix, create: "file" });
    const openFeed = () => SqliteAlertFeed.open({ url, prefix });
    return { backend, feed: await openFeed(), openFeed };
  },
  redis: async () => {
    const url = inject("redisUrl");
    const prefix = uniquePrefix();
    const backend = await openBackend({ url, prefix });
    const openFeed = () => openRedisAlertFeed({ url, prefix });
    return { backend, feed: await openFeed(), openFeed };
  },
};

const alertOf = (n: number) => ({
  v: 1,
  timestamp: Date.now(),
  kind: "dead_letter",
  severity: "warning",
  dedup_key: `dead_letter:main:${n}-0`,
  lane: "main",
  stream_id: `${n}-0`,
  plan_id: `p${n}`,
  source: null,
  deliveries: 5,
  error: "boom",
});

async function waitFor(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(Object.keys(BUSES))("AlertDelivery on the %s bus", (kind) => {
  let bus: Bus;
  let log: CapturedLogger;
  const receivers: WebhookReceiver[] = [];
  const running: Array<{ abort: AbortController; done: Promise<void> }> = [];
  const extraFeeds: AlertFeed[] = [];

  beforeEach(async () => {
    bus = await BUSES[kind]!();
    log = captureLogger();
  });
  afterEach(async () => {
    for (const r of running.splice(0)) {
      r.abort.abort();
      await r.done.catch(() => undefined);
    }
    for (const r of receivers.splice(0)) await r.close();
    for (const f of extraFeeds.splice(0)) await f.close();
    await bus.feed.close();
    await bus.backend.close();
  });

  async function receiver(script: ReceiverScript = ok): Promise<WebhookReceiver> {
    const r = await startWebhookReceiver(script);
    receivers.push(r);
    return r;
  }

  /** A delivery with fast test timings, running in the background until the test ends. */
  function start(opts: Partial<AlertDeliveryOptions> & Pick<AlertDeliveryOptions, "sinks">): AlertDelivery {
    const delivery = new AlertDelivery({
      feed: bus.feed,
      logger: log,
      pollMs: 50,
      backoffBaseMs: 20,
      backoffMaxMs: 100,
      jitter: 0,
      ...opts,
    });
    const abort = new AbortController();
    running.push({ abort, done: delivery.run(abort.signal) });
    return delivery;
  }

  async function stop(delivery: AlertDelivery): Promise<void> {
    const i = running.findIndex(() => true);
    const r = running.splice(i, 1)[0]!;
    r.abort.abort();
    await r.done;
    void delivery;
  }

  it("a receiver that fails 3 times then succeeds: the alert arrives once", async () => {
    const hook = await receiver(failThenOk(3));
    const delivery = start({
      sinks: [new WebhookSink({ url: hook.url(`/services/${CANARY}`), timeoutMs: 2_000 })],
    });
    const id = await bus.backend.publishAlert(alertOf(1));
    await waitFor("the delivery", () => hook.delivered().length === 1);
    await sleep(300); // time for a wrong extra retry to show
    expect(hook.requests.map((r) => r.status)).toEqual([503, 503, 503, 200]);
    expect(new Set(hook.requests.map((r) => r.headers["idempotency-key"]))).toEqual(new Set([id]));
    expect(JSON.parse(hook.delivered()[0]!.body).alert).toMatchObject({ plan_id: "p1", kind: "dead_letter" });
    expect(delivery.pendingDeliveries()).toEqual([]);
    const metrics = await delivery.metrics.registry.metrics();
    expect(metrics).toContain('intentgate_alerts_total{kind="dead_letter",severity="warning"} 1');
    expect(metrics).toContain('intentgate_alert_sink_failures_total{sink="webhook"} 3');
    expect(metrics).toContain('intentgate_alert_deliveries_pending{sink="webhook"} 0');
    const lines = log.lines.map((l) => `${l.level} ${l.msg}`);
    expect(lines[0]).toBe(
      `warn [WARNING] dead_letter: lane=main stream_id=1-0 plan_id=p1 source=null deliveries=5 error=boom (alert ${id})`,
    );
    expect(lines.filter((l) => l.includes("will retry"))).toHaveLength(3);
    expect(lines.at(-1)).toBe("info alert delivered");
  });

  it("a rejected delivery (4xx) is reported once and not retried", async () => {
    const hook = await receiver((_n, _req, res) => res.writeHead(400).end("invalid_payload"));
    const delivery = start({ sinks: [new WebhookSink({ name: "slack", url: hook.url("/hook") })] });
    const id = await bus.backend.publishAlert(alertOf(2));
    await waitFor("the attempt", () => hook.requests.length === 1);
    await sleep(300);
    expect(hook.requests).toHaveLength(1);
    expect(delivery.pendingDeliveries()).toEqual([]);
    const rejected = log.lines.find((l) => l.msg === "alert rejected by the sink; not retried");
    expect(rejected?.fields).toMatchObject({
      alert_id: id,
      sink: "slack",
      reason: "http_400: invalid_payload",
    });
    const metrics = await delivery.metrics.registry.metrics();
    expect(metrics).toContain('intentgate_alert_sink_failures_total{sink="slack"} 1');
    expect(metrics).toContain('intentgate_alert_deliveries_abandoned_total{sink="slack"} 1');
  });

  it("a hung sink holds up neither the other sink nor later alerts", async () => {
    const hung = await receiver(() => {}); // never answers
    const fast = await receiver();
    const marker = join(dir, `cmd-${kind}-${Date.now()}`);
    start({
      sinks: [
        new WebhookSink({ name: "hung", url: hung.url("/hook"), timeoutMs: 3_000 }),
        new WebhookSink({ name: "fast", url: fast.url("/hook") }),
        new CommandSink({
          name: "cmd",
          argv: [
            process.execPath,
            "-e",
            `let s="";process.stdin.on("data",d=>s+=d).on("end",()=>require("fs").appendFileSync(process.argv[1],s))`,
            marker,
          ],
        }),
      ],
    });
    const t0 = Date.now();
    const first = await bus.backend.publishAlert(alertOf(3));
    await waitFor("the first alert at the fast sink", () => fast.delivered().length === 1, 3_000);
    const second = await bus.backend.publishAlert(alertOf(4));
    await waitFor("the second alert at the fast sink", () => fast.delivered().length === 2, 3_000);
    // Both reached the hung receiver too, while the first was still waiting there.
    await waitFor("both alerts at the hung sink", () => hung.requests.length === 2, 3_000);
    expect(Date.now() - t0).toBeLessThan(2_500); // the hung attempts are still under way
    expect(fast.delivered().map((r) => r.headers["idempotency-key"])).toEqual([first, second]);
    await waitFor("the command's deliveries", () => {
      try {
        return readFileSync(marker, "utf8").split("\n").filter(Boolean).length === 2;
      } catch {
        return false;
      }
    });
  });

  it("a 429 with Retry-After is retried no sooner than it asks", async () => {
    const hook = await receiver((n, _req, res) => {
      if (n === 0) res.writeHead(429, { "retry-after": "1" }).end("rate limited");
      else res.writeHead(200).end("ok");
    });
    start({ sinks: [new WebhookSink({ url: hook.url("/hook") })] });
    await bus.backend.publishAlert(alertOf(12));
    await waitFor("the retry", () => hook.delivered().length === 1);
    const [a, b] = hook.requests;
    expect(b!.at - a!.at).toBeGreaterThanOrEqual(990);
    expect(log.lines.find((l) => l.msg === "alert delivery failed; will retry")?.fields).toMatchObject({
      retry_in_ms: 1000,
      reason: "http_429: rate limited",
    });
  });

  it("a restart on the same bus neither repeats nor loses a delivery, a pending retry included", async () => {
    let failSecond = true;
    const hook = await receiver((_n, req, res) => {
      const planId = JSON.parse(req.body).alert.plan_id;
      if (planId === "p6" && failSecond) res.writeHead(503).end("later");
      else res.writeHead(200).end("ok");
    });
    const sink = () => new WebhookSink({ url: hook.url("/hook") });
    const first = start({ sinks: [sink()], backoffBaseMs: 60_000, backoffMaxMs: 60_000 });
    const a5 = await bus.backend.publishAlert(alertOf(5));
    const a6 = await bus.backend.publishAlert(alertOf(6));
    await waitFor("a5 delivered and a6 tried", () => hook.requests.length === 2);
    await stop(first);
    expect(first.pendingDeliveries()).toMatchObject([
      { id: a6, sink: "webhook", attempts: 1, reason: "http_503: later" },
    ]);

    failSecond = false;
    const feed = await bus.openFeed();
    extraFeeds.push(feed);
    // The stored retry time is a minute away: the new deliverer's clock runs ahead to reach it.
    const second = start({ sinks: [sink()], feed, clock: () => Date.now() + 61_000 });
    const a7 = await bus.backend.publishAlert(alertOf(7));
    await waitFor("a6 and a7 delivered", () => hook.delivered().length === 3);
    await sleep(300);
    expect(hook.delivered().map((r) => r.headers["idempotency-key"])).toEqual([a5, a6, a7]);
    expect(hook.requests).toHaveLength(4);
    expect(second.pendingDeliveries()).toEqual([]);
    // Nothing was counted twice: a5 and a6 were taken by the first deliverer only.
    expect(await second.metrics.registry.metrics()).toContain(
      'intentgate_alerts_total{kind="dead_letter",severity="warning"} 1',
    );
  });

  it("never shows the webhook URL: logs, metrics, inspect", async () => {
    const hook = await receiver((n, req, res) => {
      if (n < 2) res.writeHead(500).end(`error at ${req.path} ?token=${CANARY}`);
      else if (n === 2) res.writeHead(403).end(`forbidden: ${req.path}`);
      else res.writeHead(200).end("ok");
    });
    const url = `http://127.0.0.1:${hook.port}/services/${CANARY}`;
    const delivery = start({ sinks: [new WebhookSink({ name: "slack", url })] });
    await bus.backend.publishAlert(alertOf(8));
    await waitFor("three answers", () => hook.requests.length === 3);
    await bus.backend.publishAlert(alertOf(9));
    await waitFor("the next delivery", () => hook.delivered().length === 1);
    expect(log.lines.length).toBeGreaterThan(4);
    for (const text of [
      log.text(),
      await delivery.metrics.registry.metrics(),
      inspect(delivery, { depth: 10 }),
      JSON.stringify(delivery.pendingDeliveries()),
    ]) {
      expect(text).not.toContain("CANARY");
      expect(text).not.toContain(String(hook.port));
    }
  });

  it("start: new skips alerts written before the first run, and stores that starting point", async () => {
    await bus.backend.publishAlert(alertOf(10));
    const hook = await receiver();
    const delivery = new AlertDelivery({
      feed: bus.feed,
      sinks: [new WebhookSink({ url: hook.url("/h") })],
      start: "new",
    });
    expect(await delivery.step()).toMatchObject({ taken: 0, started: 0 });
    const later = await bus.backend.publishAlert(alertOf(11));
    const again = new AlertDelivery({
      feed: bus.feed,
      sinks: [new WebhookSink({ url: hook.url("/h") })],
      start: "new",
    });
    expect(await again.step()).toMatchObject({ taken: 1, started: 1 });
    await again.settled();
    expect(hook.delivered().map((r) => r.headers["idempotency-key"])).toEqual([later]);
  });

  it("with no sinks configured, every alert is still logged and counted, and nothing waits for delivery", async () => {
    const metrics = createAlertMetrics();
    const delivery = new AlertDelivery({ feed: bus.feed, sinks: [], logger: log, metrics, start: "all" });
    await bus.backend.publishAlert(alertOf(21));
    await bus.backend.publishAlert(alertOf(22));
    expect(await delivery.step()).toMatchObject({ taken: 2, started: 0 });
    expect(await delivery.step()).toMatchObject({ taken: 0, started: 0 });
    expect(log.lines.filter((l) => l.fields.kind === "dead_letter")).toHaveLength(2);
    expect(await metrics.registry.getSingleMetricAsString("intentgate_alerts_total")).toContain(
      'intentgate_alerts_total{kind="dead_letter",severity="warning"} 2',
    );
  });

  it("an unreadable stored state stops delivery instead of guessing", async () => {
    await bus.feed.setState("default", "{not json");
    const delivery = new AlertDelivery({
      feed: bus.feed,
      sinks: [new WebhookSink({ url: "http://127.0.0.1:9/h" })],
    });
    await expect(delivery.step()).rejects.toBeInstanceOf(AlertStateError);
    await expect(delivery.run(new AbortController().signal)).rejects.toBeInstanceOf(AlertStateError);
  });
});
