import { afterEach, describe, expect, it } from "vitest";
import { createMetrics, type MetricsServer, startMetricsServer } from "./metrics.js";

let server: MetricsServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function scrape(
  port: number,
  path = "/metrics",
): Promise<{ status: number; type: string | null; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, type: res.headers.get("content-type"), body: await res.text() };
}

describe("metrics", () => {
  it("serves IntentGate and process metrics over HTTP", async () => {
    let pending = 3;
    const m = createMetrics({ pendingEntries: () => pending, dlqLength: async () => 1 });
    m.recordDecision({
      decision: "EXECUTED",
      error: null,
      lane: "main",
      source: "bot",
      authenticated: true,
      venue: "paper",
      mode: "paper",
      seconds: 0.0003,
    });
    m.recordDecision({
      decision: "DENIED",
      error: "source_not_allowed:evil",
      lane: "manual",
      source: "evil",
      authenticated: true,
      venue: "binance-usdm",
      mode: "live",
    });
    m.recordDecision({
      decision: "DENIED",
      error: "unauthenticated:bad_signature",
      lane: "main",
      source: "random-123",
      authenticated: false,
      venue: null,
      mode: "paper",
    });
    server = await startMetricsServer({ port: 0, registry: m.registry });
    expect(server.port).toBeGreaterThan(0);

    const r = await scrape(server.port);
    expect(r.status).toBe(200);
    expect(r.type).toContain("text/plain");
    expect(r.body).toContain(
      'intentgate_decisions_total{decision="EXECUTED",error_code="none",lane="main",source="bot",venue="paper",mode="paper"} 1',
    );
    expect(r.body).toContain(
      'intentgate_decisions_total{decision="DENIED",error_code="source_not_allowed",lane="manual",source="evil",venue="binance-usdm",mode="live"} 1',
    );
    expect(r.body).toContain(
      'intentgate_decisions_total{decision="DENIED",error_code="unauthenticated",lane="main",source="unauthenticated",venue="none",mode="paper"} 1',
    );
    expect(r.body).not.toContain("random-123");
    expect(r.body).toContain('intentgate_decision_seconds_bucket{le="0.0001"} 0');
    expect(r.body).toContain('intentgate_decision_seconds_bucket{le="0.0005"} 1');
    expect(r.body).toContain("intentgate_decision_seconds_count 1");
    expect(r.body).toContain("intentgate_pending_entries 3");
    expect(r.body).toContain("intentgate_dlq_length 1");
    expect(r.body).toContain("process_cpu_user_seconds_total");

    pending = 7;
    expect((await scrape(server.port)).body).toContain("intentgate_pending_entries 7");
  });

  it("a failing gauge source keeps the last value and does not fail the scrape", async () => {
    const m = createMetrics({ defaultMetrics: false });
    let fail = false;
    m.setGaugeSources({
      dlqLength: () => {
        if (fail) throw new Error("down");
        return 2;
      },
    });
    server = await startMetricsServer({ port: 0, registry: m.registry });
    expect((await scrape(server.port)).body).toContain("intentgate_dlq_length 2");
    fail = true;
    const r = await scrape(server.port);
    expect(r.status).toBe(200);
    expect(r.body).toContain("intentgate_dlq_length 2");
    expect(r.body).not.toContain("process_cpu");
  });

  it("registries are independent of each other and of the global one", async () => {
    const a = createMetrics({ defaultMetrics: false });
    const b = createMetrics({ defaultMetrics: false });
    a.recordDecision({
      decision: "FAILED",
      error: "internal_error",
      lane: "main",
      source: "s",
      authenticated: true,
      venue: "paper",
      mode: "paper",
    });
    expect(await a.registry.metrics()).toContain('decision="FAILED"');
    expect(await b.registry.metrics()).not.toContain('decision="FAILED"');
    const { register } = await import("prom-client");
    expect(await register.getSingleMetric("intentgate_decisions_total")).toBeUndefined();
  });

  it("answers 404 elsewhere and 405 for other methods", async () => {
    const m = createMetrics({ defaultMetrics: false });
    server = await startMetricsServer({ port: 0, host: "127.0.0.1", registry: m.registry });
    expect((await scrape(server.port, "/")).status).toBe(404);
    const post = await fetch(`http://127.0.0.1:${server.port}/metrics`, { method: "POST" });
    expect(post.status).toBe(405);
  });

  it("serves /healthz and /readyz: 200 or 503 with the probe's JSON body", async () => {
    const m = createMetrics({ defaultMetrics: false });
    let ready = false;
    server = await startMetricsServer({
      port: 0,
      registry: m.registry,
      healthz: () => ({ ok: true, body: { loop: "running" } }),
      readyz: () => ({ ok: ready, body: { deployment: ready ? "ok" : "waiting for intentgate init" } }),
    });
    const h = await scrape(server.port, "/healthz");
    expect(h.status).toBe(200);
    expect(JSON.parse(h.body)).toEqual({ ok: true, loop: "running" });
    const r1 = await scrape(server.port, "/readyz");
    expect(r1.status).toBe(503);
    expect(r1.type).toContain("application/json");
    expect(JSON.parse(r1.body)).toEqual({ ok: false, deployment: "waiting for intentgate init" });
    ready = true;
    expect((await scrape(server.port, "/readyz")).status).toBe(200);
  });

  it("a probe that throws answers 503, never crashes the server", async () => {
    const m = createMetrics({ defaultMetrics: false });
    server = await startMetricsServer({
      port: 0,
      registry: m.registry,
      readyz: () => {
        throw new Error("boom");
      },
    });
    expect((await scrape(server.port, "/readyz")).status).toBe(503);
    expect((await scrape(server.port, "/healthz")).status).toBe(404);
  });

  it("close() stops listening", async () => {
    const m = createMetrics({ defaultMetrics: false });
    const s = await startMetricsServer({ port: 0, registry: m.registry });
    await s.close();
    await expect(fetch(`http://127.0.0.1:${s.port}/metrics`)).rejects.toThrow();
  });
});
