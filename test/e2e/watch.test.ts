/**
 * `intentgate watch` through real processes: an executor and two watchers on
 * a real Redis, a webhook receiver on 127.0.0.1 that fails 3 times first.
 * Ten NOT_EXIT_OWNER denials raise one `deny_burst`, delivered once; one
 * watcher leads; killed, the other takes over; a watcher restarted
 * mid-burst neither repeats nor loses the count. The webhook URL's token
 * never appears in a watcher's output.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { PlanResult } from "../../src/core/result.js";
import { PlanPublisher } from "../../src/sdk/planPublisher.js";
import { CLI, ExecutorHarness, LOAD_KEY_ID, LOAD_SOURCE, ROOT } from "../support/executorHarness.js";
import { waitUntil } from "../support/waitUntil.js";
import { failThenOk, startWebhookReceiver, type WebhookReceiver } from "../support/webhookReceiver.js";

const TOKEN = "T0WATCH/B0WATCH/XoxWatchCanaryToken4242";
const COOLDOWN_MS = 3000;

interface Watch {
  readonly name: string;
  readonly child: ChildProcess;
  output: string;
  readonly exited: Promise<number | null>;
}

/** Waits until `fn` answers, asking every 50 ms, at most `ms`. */
const until = <T>(what: string, fn: () => Promise<T | undefined> | T | undefined, ms = 20_000): Promise<T> =>
  waitUntil(what, fn, { timeoutMs: ms, pollMs: 50 });

describe("intentgate watch (redis, an executor, two watchers, a webhook that fails 3 times first)", () => {
  let h: ExecutorHarness;
  let receiver: WebhookReceiver;
  let configPath: string;
  let publisher: PlanPublisher;
  const watches: Watch[] = [];

  function startWatch(name: string): Watch {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", CLI, "watch", "--config", configPath, "--name", name],
      {
        cwd: ROOT,
        env: { ...process.env, IG_TEST_WEBHOOK: receiver.url(`/hooks/${TOKEN}`) },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    const w: Watch = {
      name,
      child,
      output: "",
      exited: new Promise((resolve) => child.once("exit", (code) => resolve(code))),
    };
    child.stdout?.on("data", (c: Buffer) => {
      w.output += c.toString();
    });
    child.stderr?.on("data", (c: Buffer) => {
      w.output += c.toString();
    });
    watches.push(w);
    return w;
  }
  const leaderOf = (ws: readonly Watch[]) =>
    ws.find((w) => {
      const lines = w.output.split("\n").filter((l) => l.includes('"leading"'));
      return lines.at(-1)?.includes('"leading":true') === true;
    });
  /** `count` reduce_only plans from a source that is not the exit owner: each is DENIED NOT_EXIT_OWNER. */
  async function deny(count: number): Promise<PlanResult[]> {
    return Promise.all(
      Array.from({ length: count }, () =>
        publisher.publishAndWait(
          { source: LOAD_SOURCE, symbol: "BTCUSDT", side: "SELL", qty: "0.001", reduce_only: true },
          { timeoutMs: 20_000 },
        ),
      ),
    );
  }
  const bursts = () =>
    receiver
      .delivered()
      .map((r) => JSON.parse(r.body) as { alert?: Record<string, unknown> })
      .filter((b) => b.alert?.kind === "deny_burst");

  beforeAll(async () => {
    receiver = await startWebhookReceiver(failThenOk(3));
    h = await ExecutorHarness.create({ bus: "redis", redisUrl: inject("redisUrl") });
    configPath = h.writeConfig({
      watch: {
        interval_ms: 200,
        lease_ms: 1000,
        rules: { deny_burst: { threshold: 10, window_ms: 60_000, cooldown_ms: COOLDOWN_MS } },
        sinks: { webhook: { url_env: "IG_TEST_WEBHOOK", timeout_ms: 2000 } },
      },
    });
    await h.start(["watch-exec-1"], { config: configPath });
    publisher = new PlanPublisher({
      bus: h.backend,
      key: { keyId: LOAD_KEY_ID, alg: "hmac-sha256", secret: h.secret },
    });
  }, 60_000);

  afterAll(async () => {
    for (const w of watches) if (w.child.exitCode === null) w.child.kill("SIGKILL");
    await h?.close();
    await receiver?.close();
  }, 30_000);

  it("ten NOT_EXIT_OWNER denials: one deny_burst, delivered once after the webhook failed 3 times; one watcher leads", async () => {
    const [a, b] = [startWatch("w-a"), startWatch("w-b")];
    await until("a leader", () => leaderOf([a, b]));
    const denied = await deny(10);
    expect(
      denied.every((r) => r.decision === "DENIED" && r.error === `NOT_EXIT_OWNER:source=${LOAD_SOURCE}`),
    ).toBe(true);
    const [burst] = await until("the deny_burst delivered", () =>
      bursts().length > 0 ? bursts() : undefined,
    );
    expect(burst?.alert).toMatchObject({
      kind: "deny_burst",
      code: "NOT_EXIT_OWNER",
      source: LOAD_SOURCE,
      count: 10,
    });
    expect(receiver.requests.filter((r) => r.status === 503)).toHaveLength(3);
    await sleep(1500);
    expect(bursts()).toHaveLength(1);
    expect(watches.filter((w) => leaderOf([w]))).toHaveLength(1);
  }, 60_000);

  it("the leader SIGKILLed: the other takes over within the lease; the next burst (after the cooldown) is delivered once", async () => {
    const leader = leaderOf(watches)!;
    const other = watches.find((w) => w !== leader)!;
    leader.child.kill("SIGKILL");
    await leader.exited;
    await until("the other watcher leading", () => leaderOf([other]), 10_000);
    await sleep(COOLDOWN_MS);
    await deny(10);
    await until("a second deny_burst", () => (bursts().length >= 2 ? true : undefined));
    await sleep(1500);
    expect(bursts()).toHaveLength(2);
  }, 60_000);

  it("a watcher restarted mid-burst counts each result once: 5 + 5 denials make one alert", async () => {
    const running = watches.find((w) => w.child.exitCode === null && w.child.signalCode === null)!;
    await sleep(COOLDOWN_MS);
    await deny(5);
    await sleep(600); // read by the leader
    running.child.kill("SIGTERM");
    expect(await running.exited).toBe(0);
    const next = startWatch("w-c");
    await until("the new watcher leading", () => leaderOf([next]), 10_000);
    // Counted once: the first five, read again after the restart, would make a burst on their own.
    await sleep(800);
    expect(bursts()).toHaveLength(2);
    await deny(5);
    await until("a third deny_burst", () => (bursts().length >= 3 ? true : undefined));
    await sleep(1500);
    expect(bursts()).toHaveLength(3);
    expect(bursts()[2]?.alert).toMatchObject({ count: 10 });
    // The alert stream holds each alert once; the token is never in a watcher's output.
    const stream = await h.redis!.xrange(`${h.prefix}stream:exit.alert`, "-", "+");
    expect(stream.filter(([, f]) => String(f[1]).includes('"deny_burst"'))).toHaveLength(3);
    for (const w of watches) expect(w.output).not.toContain(TOKEN);
    next.child.kill("SIGTERM");
    expect(await next.exited).toBe(0);
  }, 60_000);
});
