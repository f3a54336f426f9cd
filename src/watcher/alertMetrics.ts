import { Counter, Gauge, Registry } from "prom-client";

/** The metrics of alert delivery, registered on one prom-client registry (never the global one). */
export interface AlertMetrics {
  readonly registry: Registry;
  /** Alerts taken from the alert stream, by kind and severity (each once, when taken). */
  readonly alerts: Counter<"kind" | "severity">;
  /** Failed delivery attempts (retried or rejected), by sink. */
  readonly sinkFailures: Counter<"sink">;
  /** Deliveries given up (rejected, too old, or pushed out of a full queue), by sink. */
  readonly abandoned: Counter<"sink">;
  /** Deliveries still to do, by sink. */
  readonly pending: Gauge<"sink">;
}

/**
 * Creates the alert delivery metrics on `registry` (default: a new one; a
 * process serving one `/metrics` passes its own, e.g. `createMetrics().registry`).
 * Labels are bounded: kinds are plain words (else `other`), severities the
 * three of wire-v1 §1a (else `unknown`), sinks their configured names.
 */
export function createAlertMetrics(registry: Registry = new Registry()): AlertMetrics {
  return {
    registry,
    alerts: new Counter({
      name: "intentgate_alerts_total",
      help: "Alerts taken from the alert stream for delivery, by kind and severity.",
      labelNames: ["kind", "severity"] as const,
      registers: [registry],
    }),
    sinkFailures: new Counter({
      name: "intentgate_alert_sink_failures_total",
      help: "Failed alert delivery attempts (to be retried, or rejected), by sink.",
      labelNames: ["sink"] as const,
      registers: [registry],
    }),
    abandoned: new Counter({
      name: "intentgate_alert_deliveries_abandoned_total",
      help: "Alert deliveries given up (rejected by the sink, too old, or pushed out of a full queue), by sink.",
      labelNames: ["sink"] as const,
      registers: [registry],
    }),
    pending: new Gauge({
      name: "intentgate_alert_deliveries_pending",
      help: "Alert deliveries still to do (new or waiting to be retried), by sink.",
      labelNames: ["sink"] as const,
      registers: [registry],
    }),
  };
}
