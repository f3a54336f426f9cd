import { inspect } from "node:util";
import { type AlertRecord, parseAlertEntry } from "../core/alertRecord.js";
import { alertSummary } from "../core/alertSummary.js";
import type { AlertFeedEntry } from "../ports/alertFeed.js";
import type { AlertSink, SinkOutcome } from "../ports/alertSink.js";
import { AlertStateError } from "./alertDeliveryError.js";
import {
  type AlertDeliveryOptions,
  type AlertLogger,
  type ResolvedAlertDeliveryOptions,
  resolveAlertDeliveryOptions,
} from "./alertDeliveryOptions.js";
import { type AlertMetrics, createAlertMetrics } from "./alertMetrics.js";
import { retryDelayMs } from "./backoff.js";
import { DeliveryProgress } from "./deliveryProgress.js";
import type { DeliveryState, PendingAlert } from "./deliveryState.js";
import { errorText, pause } from "./errorText.js";

/** What one {@link AlertDelivery.step} did. */
export interface StepReport {
  /** Alerts taken from the stream. */
  readonly taken: number;
  /** Deliveries started (they run on; {@link AlertDelivery.settled} waits for them). */
  readonly started: number;
  /** Alerts with deliveries still to do. */
  readonly pending: number;
  /** Whether reading the stream failed (logged; the next step tries again). */
  readonly readFailed: boolean;
}

const SILENT: AlertLogger = { info() {}, warn() {}, error() {} };

/**
 * Takes alerts from the alert stream and delivers each to every sink.
 *
 * - Reading never waits for a sink: deliveries run in the background, up to
 *   `concurrency` at once per sink, so a slow or failing sink holds up
 *   neither the other sinks nor later alerts.
 * - A failed delivery (`retry`) is kept and tried again after an exponential
 *   backoff with jitter (never sooner than a `Retry-After`), until it is
 *   delivered or older than `maxRetryAgeMs`; a `rejected` one is reported
 *   once and dropped.
 * - Progress (the cursor and every delivery still to do) is one value stored
 *   on the bus ({@link DeliveryState}), so a new `AlertDelivery` on the same
 *   bus continues exactly there: nothing lost, nothing repeated, except a
 *   delivery that succeeded just before a crash (at least once; sinks pass
 *   the alert's stream id as an idempotency key).
 * - One log line per alert taken (its summary, at the level of its
 *   severity), one per failure; `intentgate_alerts_total{kind,severity}` and
 *   `intentgate_alert_sink_failures_total{sink}`. Nothing logged holds a
 *   sink's secrets: sinks are named by their names only.
 *
 * Run one deliverer per bus prefix and `stateName` (two would both deliver).
 * Drive it with {@link run}, or call {@link step} yourself.
 */
export class AlertDelivery {
  readonly metrics: AlertMetrics;
  readonly #o: ResolvedAlertDeliveryOptions;
  readonly #log: AlertLogger;
  readonly #progress: DeliveryProgress;
  readonly #records = new Map<string, AlertRecord>();
  readonly #inflight = new Map<string, Promise<void>>();
  readonly #running = new Map<string, number>();
  #stopping = false;
  #stepping: Promise<StepReport> | undefined;

  /** Throws `AlertDeliveryConfigError` on a bad option. */
  constructor(opts: AlertDeliveryOptions) {
    this.#o = resolveAlertDeliveryOptions(opts);
    this.#log = opts.logger ?? SILENT;
    this.metrics = opts.metrics ?? createAlertMetrics();
    for (const sink of this.#o.sinks) this.metrics.pending.set({ sink: sink.name }, 0);
    this.#progress = new DeliveryProgress(this.#o.feed, this.#o.stateName, {
      start: this.#o.start,
      sinks: this.#o.sinks.map((s) => s.name),
      log: this.#log,
    });
  }

  /**
   * Delivers until `signal` aborts (noticed within `pollMs`), then waits for
   * the deliveries under way (each bounded by its sink's timeout) and stores
   * the progress. Bus failures are logged and retried; only an unreadable
   * stored state ({@link AlertStateError}) ends it, by rejecting.
   */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        const report = await this.step(this.#waitMs());
        if (report.readFailed) await pause(this.#o.pollMs, signal);
      } catch (err) {
        if (err instanceof AlertStateError) throw err;
        this.#log.error({ error: errorText(err) }, "alert delivery step failed; trying again");
        await pause(this.#o.pollMs, signal);
      }
    }
    this.#stopping = true;
    await this.settled();
  }

  /**
   * Loads the stored progress (first call), takes the alerts after the
   * cursor (waiting up to `blockMs` for one), starts every delivery that is
   * due and has a free slot, and stores the progress. Never waits for a
   * delivery. Rejects only when the stored state cannot be loaded. A call
   * while another is under way shares that one.
   */
  step(blockMs = 0): Promise<StepReport> {
    // Two steps at once would both read from the same cursor: a second call shares the first.
    this.#stepping ??= this.#step(blockMs).finally(() => {
      this.#stepping = undefined;
    });
    return this.#stepping;
  }

  async #step(blockMs: number): Promise<StepReport> {
    this.#stopping = false;
    const state = await this.#progress.load();
    let entries: AlertFeedEntry[] = [];
    let readFailed = false;
    try {
      entries = await this.#o.feed.readAlerts(state.cursor, this.#o.batchSize, blockMs);
    } catch (err) {
      readFailed = true;
      this.#log.warn({ error: errorText(err) }, "reading the alert stream failed");
    }
    for (const entry of entries) this.#take(state, entry);
    this.#trim(state);
    let started = 0;
    for (const sink of this.#o.sinks) started += this.#dispatch(sink);
    this.#updateGauge();
    await this.#progress.flush();
    return { taken: entries.length, started, pending: state.pending.length, readFailed };
  }

  /** Resolves once no delivery is under way and the progress is stored (or its write failed, logged). */
  async settled(): Promise<void> {
    for (;;) {
      const running = [...this.#inflight.values()];
      if (running.length === 0) {
        await this.#progress.flush();
        if (this.#inflight.size === 0) return;
      } else await Promise.allSettled(running);
    }
  }

  /** Deliveries still to do (for status pages and tests), oldest alert first. */
  pendingDeliveries(): Array<{
    id: string;
    sink: string;
    attempts: number;
    nextAt: number;
    reason: string | null;
  }> {
    return (this.#progress.state?.pending ?? []).flatMap((p) =>
      [...p.sinks].map(([sink, d]) => ({
        id: p.id,
        sink,
        attempts: d.attempts,
        nextAt: d.nextAt,
        reason: d.reason,
      })),
    );
  }

  #take(state: DeliveryState, entry: AlertFeedEntry): void {
    const record = parseAlertEntry(entry.id, entry.text);
    this.metrics.alerts.inc({ kind: record.kind, severity: record.severity });
    const level = record.severity === "critical" ? "error" : record.severity === "info" ? "info" : "warn";
    this.#log[level](
      {
        alert_id: record.id,
        kind: record.kind,
        severity: record.severity,
        dedup_key: record.dedupKey ?? null,
        sinks: this.#o.sinks.map((s) => s.name),
      },
      alertSummary(record),
    );
    const now = this.#o.clock();
    const sinks = new Map(
      this.#o.sinks.map((s) => [s.name, { attempts: 0, nextAt: now, since: now, reason: null }]),
    );
    if (sinks.size > 0) {
      state.pending.push({ id: record.id, text: record.text, sinks });
      this.#records.set(record.id, record);
    }
    state.cursor = entry.id;
    this.#progress.changed();
  }

  /** Gives up the oldest alerts beyond `maxPending`. */
  #trim(state: DeliveryState): void {
    while (state.pending.length > this.#o.maxPending) {
      const oldest = state.pending.shift()!;
      this.#records.delete(oldest.id);
      for (const sink of oldest.sinks.keys()) {
        this.metrics.abandoned.inc({ sink });
        this.#log.error(
          { alert_id: oldest.id, sink, max_pending: this.#o.maxPending },
          "alert delivery given up: too many alerts waiting for delivery",
        );
      }
      this.#progress.changed();
    }
  }

  /** Starts the sink's due deliveries while it has free slots; returns how many. */
  #dispatch(sink: AlertSink): number {
    const state = this.#progress.state;
    if (state === undefined || this.#stopping) return 0;
    const now = this.#o.clock();
    let started = 0;
    for (const item of state.pending) {
      if ((this.#running.get(sink.name) ?? 0) >= this.#o.concurrency) break;
      const d = item.sinks.get(sink.name);
      if (d === undefined || d.nextAt > now || this.#inflight.has(slot(item.id, sink.name))) continue;
      this.#attempt(item, sink);
      started++;
    }
    return started;
  }

  #attempt(item: PendingAlert, sink: AlertSink): void {
    const key = slot(item.id, sink.name);
    this.#running.set(sink.name, (this.#running.get(sink.name) ?? 0) + 1);
    const record = this.#recordOf(item);
    const run = (async () => {
      let outcome: SinkOutcome;
      try {
        outcome = await sink.deliver(record);
      } catch (err) {
        outcome = { status: "retry", reason: `sink_threw:${err instanceof Error ? err.name : typeof err}` };
      }
      this.#settle(item, record, sink.name, outcome);
    })().finally(() => {
      this.#inflight.delete(key);
      this.#running.set(sink.name, (this.#running.get(sink.name) ?? 1) - 1);
      this.#dispatch(sink);
      this.#updateGauge();
      void this.#progress.flush();
    });
    this.#inflight.set(key, run);
  }

  #settle(item: PendingAlert, record: AlertRecord, sink: string, outcome: SinkOutcome): void {
    const d = item.sinks.get(sink);
    const state = this.#progress.state;
    // Given up while it ran (pushed out of a full queue): nothing to record.
    if (d === undefined || state === undefined || !state.pending.includes(item)) return;
    const fields = { alert_id: item.id, kind: record.kind, sink, attempt: d.attempts + 1 };
    if (outcome.status === "delivered") {
      item.sinks.delete(sink);
      this.#log.info(fields, "alert delivered");
    } else if (outcome.status === "rejected") {
      item.sinks.delete(sink);
      this.metrics.sinkFailures.inc({ sink });
      this.metrics.abandoned.inc({ sink });
      this.#log.error({ ...fields, reason: outcome.reason }, "alert rejected by the sink; not retried");
    } else {
      this.metrics.sinkFailures.inc({ sink });
      d.attempts++;
      d.reason = outcome.reason;
      const now = this.#o.clock();
      if (now - d.since >= this.#o.maxRetryAgeMs) {
        item.sinks.delete(sink);
        this.metrics.abandoned.inc({ sink });
        this.#log.error(
          { ...fields, reason: outcome.reason, max_retry_age_ms: this.#o.maxRetryAgeMs },
          "alert delivery given up: still failing after the retry age limit",
        );
      } else {
        const wait = Math.max(
          retryDelayMs(d.attempts, this.#backoff(), this.#o.random),
          outcome.retryAfterMs ?? 0,
        );
        d.nextAt = now + wait;
        this.#log.warn(
          { ...fields, reason: outcome.reason, retry_in_ms: wait },
          "alert delivery failed; will retry",
        );
      }
    }
    if (item.sinks.size === 0) {
      state.pending.splice(state.pending.indexOf(item), 1);
      this.#records.delete(item.id);
    }
    this.#progress.changed();
  }

  /** How long `run` may wait on the stream: until the next retry is due, at most `pollMs`. */
  #waitMs(): number {
    const now = this.#o.clock();
    let wait = this.#o.pollMs;
    for (const item of this.#progress.state?.pending ?? []) {
      for (const [sink, d] of item.sinks) {
        if (this.#inflight.has(slot(item.id, sink))) continue;
        if ((this.#running.get(sink) ?? 0) >= this.#o.concurrency) continue;
        wait = Math.min(wait, d.nextAt - now);
      }
    }
    return Math.max(1, wait);
  }

  #recordOf(item: PendingAlert): AlertRecord {
    let record = this.#records.get(item.id);
    if (record === undefined) {
      record = parseAlertEntry(item.id, item.text);
      this.#records.set(item.id, record);
    }
    return record;
  }

  #backoff() {
    return { baseMs: this.#o.backoffBaseMs, maxMs: this.#o.backoffMaxMs, jitter: this.#o.jitter };
  }

  #updateGauge(): void {
    const counts = new Map(this.#o.sinks.map((s) => [s.name, 0]));
    for (const item of this.#progress.state?.pending ?? [])
      for (const sink of item.sinks.keys()) counts.set(sink, (counts.get(sink) ?? 0) + 1);
    for (const [sink, n] of counts) this.metrics.pending.set({ sink }, n);
  }

  [inspect.custom](): string {
    return `AlertDelivery(sinks: ${this.#o.sinks.map((s) => s.name).join(", ")})`;
  }
}

const slot = (id: string, sink: string): string => `${id}\u0000${sink}`;
