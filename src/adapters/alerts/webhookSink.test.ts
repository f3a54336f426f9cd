import { inspect } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { startWebhookReceiver, type WebhookReceiver } from "../../../test/support/webhookReceiver.js";
import { parseAlertEntry } from "../../core/alertRecord.js";
import { SecretBytes } from "../../core/auth/secretBytes.js";
import { AlertSinkConfigError } from "./alertSinkConfigError.js";
import { WebhookSink } from "./webhookSink.js";

const CANARY = "T0CANARY/B0CANARY/XoxCanarySecretToken4242";
const alert = parseAlertEntry(
  "1700000000000-0",
  JSON.stringify({
    v: 1,
    timestamp: 1_700_000_000_000,
    kind: "dead_letter",
    severity: "warning",
    dedup_key: "dead_letter:main:1-0",
    lane: "main",
    stream_id: "1-0",
    plan_id: "p<1>&",
    deliveries: 5,
  }),
);

let receiver: WebhookReceiver | undefined;
afterEach(async () => {
  await receiver?.close();
  receiver = undefined;
});

describe("WebhookSink", () => {
  it("posts a Slack-compatible message with the alert and an Idempotency-Key; a 2xx is delivered", async () => {
    receiver = await startWebhookReceiver();
    const sink = new WebhookSink({ url: new SecretBytes(Buffer.from(receiver.url(`/services/${CANARY}`))) });
    expect(await sink.deliver(alert)).toEqual({ status: "delivered" });
    const [req] = receiver.requests;
    expect(req?.method).toBe("POST");
    expect(req?.path).toBe(`/services/${CANARY}`);
    expect(req?.headers["idempotency-key"]).toBe("1700000000000-0");
    expect(req?.headers["content-type"]).toMatch(/^application\/json/);
    const body = JSON.parse(req!.body);
    expect(body.text).toBe(
      "[WARNING] dead_letter: lane=main stream_id=1-0 plan_id=p&lt;1&gt;&amp; deliveries=5 (alert 1700000000000-0)",
    );
    expect(body.alert).toEqual(alert.alert);
    expect(body.alert_id).toBe("1700000000000-0");
    expect(body.attachments[0].color).toBe("#daa038");
    expect(body.attachments[0].text).toContain('"plan_id": "p&lt;1&gt;&amp;"');
  });

  it("retries a 5xx, quoting the answer redacted: never the URL or its token", async () => {
    receiver = await startWebhookReceiver((_n, req, res) => {
      res
        .writeHead(503)
        .end(`upstream down for ${req.path} (see http://example.com/x?token=abc) token=${CANARY}`);
    });
    const sink = new WebhookSink({ url: receiver.url(`/services/${CANARY}`) });
    const outcome = await sink.deliver(alert);
    expect(outcome.status).toBe("retry");
    const reason = (outcome as { reason: string }).reason;
    expect(reason).toMatch(/^http_503: upstream down for \[REDACTED\]/);
    expect(reason).not.toContain("XoxCanarySecretToken4242");
    expect(reason).not.toContain("B0CANARY");
    expect(reason).not.toContain("example.com");
  });

  it("honours Retry-After on a 429, in seconds and as a date, capped", async () => {
    receiver = await startWebhookReceiver((n, _req, res) => {
      const retryAfter = n === 0 ? "7" : n === 1 ? new Date(Date.now() + 20_000).toUTCString() : "999999";
      res.writeHead(429, { "retry-after": retryAfter }).end("slow down");
    });
    const sink = new WebhookSink({ url: receiver.url("/hook"), maxRetryAfterMs: 60_000 });
    expect(await sink.deliver(alert)).toEqual({
      status: "retry",
      reason: "http_429: slow down",
      retryAfterMs: 7000,
    });
    const byDate = await sink.deliver(alert);
    expect(byDate.status === "retry" && byDate.retryAfterMs).toBeGreaterThan(15_000);
    expect(byDate.status === "retry" && byDate.retryAfterMs).toBeLessThanOrEqual(20_000);
    expect(await sink.deliver(alert)).toMatchObject({ status: "retry", retryAfterMs: 60_000 });
  });

  it("times out a receiver that never answers: retry, within the timeout", async () => {
    receiver = await startWebhookReceiver(() => {
      // never answers
    });
    const sink = new WebhookSink({ url: receiver.url("/hook"), timeoutMs: 200 });
    const t0 = Date.now();
    expect(await sink.deliver(alert)).toEqual({ status: "retry", reason: "timeout" });
    expect(Date.now() - t0).toBeLessThan(2_000);
  });

  it("rejects other 4xx and redirects (not retried), and retries a refused connection by its code only", async () => {
    receiver = await startWebhookReceiver((n, _req, res) => {
      if (n === 0) res.writeHead(404).end("no_service");
      else res.writeHead(302, { location: "http://elsewhere/" }).end();
    });
    const sink = new WebhookSink({ url: receiver.url("/hook") });
    expect(await sink.deliver(alert)).toEqual({ status: "rejected", reason: "http_404: no_service" });
    expect(await sink.deliver(alert)).toEqual({
      status: "rejected",
      reason: "http_302 (redirects are not followed)",
    });
    const port = receiver.port;
    await receiver.close();
    receiver = undefined;
    const gone = new WebhookSink({ url: `http://127.0.0.1:${port}/services/${CANARY}` });
    expect(await gone.deliver(alert)).toEqual({ status: "retry", reason: "network:ECONNREFUSED" });
  });

  it("settles with retry: aborted when its signal aborts", async () => {
    receiver = await startWebhookReceiver(() => {});
    const sink = new WebhookSink({ url: receiver.url("/hook"), timeoutMs: 30_000 });
    const abort = new AbortController();
    const pending = sink.deliver(alert, abort.signal);
    setTimeout(() => abort.abort(), 50);
    expect(await pending).toEqual({ status: "retry", reason: "aborted" });
  });

  it("never shows its URL: inspect, JSON, String, and config errors", () => {
    const url = `https://hooks.slack.com/services/${CANARY}`;
    for (const sink of [
      new WebhookSink({ url }),
      new WebhookSink({ url: new SecretBytes(Buffer.from(url)) }),
    ]) {
      for (const text of [
        inspect(sink),
        inspect({ sink }, { depth: 5 }),
        JSON.stringify({ sink }),
        String(sink),
      ])
        expect(text).not.toContain("CANARY");
    }
    for (const bad of [`not a url ${CANARY}`, `ftp://host/${CANARY}`]) {
      let err: unknown;
      try {
        new WebhookSink({ name: "slack", url: bad });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(AlertSinkConfigError);
      expect(inspect(err, { depth: 10 })).not.toContain("CANARY");
      expect((err as AlertSinkConfigError).option).toBe("url");
    }
    expect(() => new WebhookSink({ name: "no spaces", url })).toThrow(AlertSinkConfigError);
    expect(() => new WebhookSink({ url, timeoutMs: 0 })).toThrow(/timeoutMs/);
  });
});
