import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { Lane } from "../core/plan.js";
import type { DecisionKind } from "../core/result.js";

/** Sub-millisecond to one-second buckets for per-decision latency (seconds). */
export const DECISION_SECONDS_BUCKETS: readonly number[] = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
];

/** Read at scrape time; a throwing or rejecting function leaves the gauge's last value. */
export type GaugeSource = () => number | Promise<number>;

export interface MetricsOptions {
  /** Entries handed out and not yet acknowledged (`PlanBus.pendingCount`). */
  readonly pendingEntries?: GaugeSource;
  /** Entries in the DLQ (`PlanBus.dlqLength`). */
  readonly dlqLength?: GaugeSource;
  /** Adds the prom-client default process metrics (default true). */
  readonly defaultMetrics?: boolean;
}

export interface DecisionSample {
  readonly decision: DecisionKind;
  /** The result's `error` (`null` → label `none`); only its base code is used as a label. */
  readonly error: string | null;
  readonly lane: Lane;
  /** The plan's source; used as a label only when the entry authenticated (else `unauthenticated`). */
  readonly source: string | null;
  readonly authenticated: boolean;
  /** The plan's venue (`none` when unreadable). */
  readonly venue: string | null;
  /** `paper` or `live`: where the order went or would have gone. */
  readonly mode: "paper" | "live";
  /** Time to decide, in seconds, when measured. */
  readonly seconds?: number;
}

export interface Metrics {
  /** This executor's own registry (never prom-client's global one). */
  readonly registry: Registry;
  readonly decisions: Counter<"decision" | "error_code" | "lane" | "source" | "venue" | "mode">;
  readonly decisionSeconds: Histogram<string>;
  readonly pendingEntries: Gauge<string>;
  readonly dlqLength: Gauge<string>;
  /** 1 while the bus connection is up (Redis), 0 while it is lost. */
  readonly busUp: Gauge<string>;
  /** 1 while deciding under the deployment marker the executor holds; 0 while waiting for `intentgate init` or after a loss. */
  readonly deploymentOk: Gauge<string>;
  /** 1 while the executor's clock agrees with the bus's (or the bus keeps none), 0 while it decides nothing for it. */
  readonly busClockOk: Gauge<string>;
  readonly busKeepsKeys: Gauge<string>;
  /** Per live venue and account (`*`: the venue as a whole): 1 while orders may go live there. */
  readonly venueReady: Gauge<"venue" | "account">;
  /** 1 while the signing plane answers (anything but `signer_unavailable`), 0 once it did not. */
  readonly signerUp: Gauge<string>;
  /** Polls of a live venue's reference prices, by venue and outcome (`ok`, `failed`). */
  readonly pricePolls: Counter<"venue" | "outcome">;
  /** Unix time of the last poll that stored a venue's prices. */
  readonly pricesReadAt: Gauge<"venue">;
  /** Order events this executor wrote (wire-v1 §4a), by venue, event and cause (`plan` for any cancel plan). */
  readonly orderEvents: Counter<"venue" | "event" | "cause">;
  /** Cancels the trading state asked for that failed at a live venue (each try), by venue. */
  readonly orderCancelFailures: Counter<"venue">;
  /** Per live venue and account with working orders: 1 while its dead-man switch was last armed, 0 when arming failed. */
  readonly deadmanArmed: Gauge<"venue" | "account">;
  /** Counts one decision (and observes its latency when given). */
  recordDecision(sample: DecisionSample): void;
  /** Sets (or replaces) the functions the gauges read at scrape time, e.g. once the backend is open. */
  setGaugeSources(sources: Pick<MetricsOptions, "pendingEntries" | "dlqLength">): void;
}

/** Base reason code of an `error` value, as a low-cardinality label. */
function errorLabel(error: string | null): string {
  if (error === null) return "none";
  const i = error.indexOf(":");
  return i === -1 ? error : error.slice(0, i);
}

/** Creates a fresh registry holding IntentGate's metrics. */
export function createMetrics(opts: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  let sources: Pick<MetricsOptions, "pendingEntries" | "dlqLength"> = {
    ...(opts.pendingEntries ? { pendingEntries: opts.pendingEntries } : {}),
    ...(opts.dlqLength ? { dlqLength: opts.dlqLength } : {}),
  };

  const decisions = new Counter({
    name: "intentgate_decisions_total",
    help: "Plan entries decided, by decision, base reason code, lane, (authenticated) source, venue and mode.",
    labelNames: ["decision", "error_code", "lane", "source", "venue", "mode"] as const,
    registers: [registry],
  });
  const busUp = new Gauge({
    name: "intentgate_bus_up",
    help: "1 while the bus connection is up, 0 while it is lost.",
    registers: [registry],
  });
  const deploymentOk = new Gauge({
    name: "intentgate_deployment_ok",
    help: "1 while deciding under the deployment marker the executor holds (wire-v1 §7b), else 0.",
    registers: [registry],
  });
  const busClockOk = new Gauge({
    name: "intentgate_bus_clock_ok",
    help: "1 while the executor's clock agrees with the bus's within max_bus_clock_skew_ms (or the bus keeps no clock), 0 while it decides nothing for it.",
    registers: [registry],
  });
  const busKeepsKeys = new Gauge({
    name: "intentgate_bus_keeps_keys",
    help: "1 while the bus never evicts keys (Redis maxmemory-policy noeviction, or the embedded bus), 0 while the executor decides nothing for it.",
    registers: [registry],
  });
  const venueReady = new Gauge({
    name: "intentgate_venue_ready",
    help: "Per live venue and account (* for the venue as a whole): 1 while orders may go live there.",
    labelNames: ["venue", "account"] as const,
    registers: [registry],
  });
  const pricePolls = new Counter({
    name: "intentgate_price_polls_total",
    help: "Polls of a live venue's reference prices (gate 9), by venue and outcome (ok, failed).",
    labelNames: ["venue", "outcome"] as const,
    registers: [registry],
  });
  const pricesReadAt = new Gauge({
    name: "intentgate_prices_read_seconds",
    help: "Unix time of the last poll that stored a live venue's reference prices.",
    labelNames: ["venue"] as const,
    registers: [registry],
  });
  const signerUp = new Gauge({
    name: "intentgate_signer_up",
    help: "1 while the signing plane answers requests (anything but signer_unavailable), 0 once it did not.",
    registers: [registry],
  });
  const decisionSeconds = new Histogram({
    name: "intentgate_decision_seconds",
    help: "Time from reading a plan entry to committing its result, in seconds.",
    buckets: [...DECISION_SECONDS_BUCKETS],
    registers: [registry],
  });
  const orderEvents = new Counter({
    name: "intentgate_order_events_total",
    help: "Order events written by this executor (fills and cancels of working orders), by venue, event and cause.",
    labelNames: ["venue", "event", "cause"] as const,
    registers: [registry],
  });
  const orderCancelFailures = new Counter({
    name: "intentgate_order_cancel_failures_total",
    help: "Cancels of working orders at a live venue asked for by the trading state that failed (each try), by venue.",
    labelNames: ["venue"] as const,
    registers: [registry],
  });
  const deadmanArmed = new Gauge({
    name: "intentgate_deadman_armed",
    help: "Per live venue and account with working orders: 1 while its dead-man switch was last armed, 0 when arming failed.",
    labelNames: ["venue", "account"] as const,
    registers: [registry],
  });
  const sampleInto = async (gauge: Gauge<string>, source: GaugeSource | undefined): Promise<void> => {
    if (source === undefined) return;
    try {
      gauge.set(await source());
    } catch {
      // backend unreachable: keep the last value rather than failing the scrape
    }
  };
  const pendingEntries: Gauge<string> = new Gauge({
    name: "intentgate_pending_entries",
    help: "Plan entries handed out to a consumer and not yet acknowledged.",
    registers: [registry],
    collect: () => sampleInto(pendingEntries, sources.pendingEntries),
  });
  const dlqLength: Gauge<string> = new Gauge({
    name: "intentgate_dlq_length",
    help: "Entries in the dead-letter stream (should be 0).",
    registers: [registry],
    collect: () => sampleInto(dlqLength, sources.dlqLength),
  });

  return {
    registry,
    decisions,
    decisionSeconds,
    pendingEntries,
    dlqLength,
    busUp,
    deploymentOk,
    busClockOk,
    busKeepsKeys,
    venueReady,
    signerUp,
    pricePolls,
    pricesReadAt,
    orderEvents,
    orderCancelFailures,
    deadmanArmed,
    recordDecision(s) {
      decisions.inc({
        decision: s.decision,
        error_code: errorLabel(s.error),
        lane: s.lane,
        source: s.authenticated && s.source !== null ? s.source : "unauthenticated",
        venue: s.venue ?? "none",
        mode: s.mode,
      });
      if (s.seconds !== undefined) decisionSeconds.observe(s.seconds);
    },
    setGaugeSources(next) {
      sources = { ...sources, ...next };
    },
  };
}

export interface MetricsServer {
  /** The port actually bound (useful with port 0). */
  readonly port: number;
  close(): Promise<void>;
}

/** `/healthz` and `/readyz` answers: ok, and a JSON body saying why (wire-v1 §8). */
export interface ProbeAnswer {
  readonly ok: boolean;
  readonly body: Readonly<Record<string, unknown>>;
}

/**
 * Serves `GET /metrics` from `registry` on `host:port` (default 127.0.0.1),
 * and, when given, `GET /healthz` and `GET /readyz`: 200 when the probe says
 * ok, else 503, each with its JSON body.
 */
export async function startMetricsServer(opts: {
  port: number;
  host?: string;
  registry: Registry;
  healthz?: () => ProbeAnswer;
  readyz?: () => ProbeAnswer;
}): Promise<MetricsServer> {
  const { registry } = opts;
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const probe = path === "/healthz" ? opts.healthz : path === "/readyz" ? opts.readyz : undefined;
    if (path !== "/metrics" && probe === undefined) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain" }).end("method not allowed\n");
      return;
    }
    if (probe !== undefined) {
      let answer: ProbeAnswer;
      try {
        answer = probe();
      } catch {
        answer = { ok: false, body: { error: "probe failed" } };
      }
      res.writeHead(answer.ok ? 200 : 503, { "content-type": "application/json" });
      res.end(req.method === "HEAD" ? undefined : `${JSON.stringify({ ok: answer.ok, ...answer.body })}\n`);
      return;
    }
    registry.metrics().then(
      (body) => {
        res.writeHead(200, { "content-type": registry.contentType });
        res.end(req.method === "HEAD" ? undefined : body);
      },
      () => {
        res.writeHead(500, { "content-type": "text/plain" }).end("metrics collection failed\n");
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
