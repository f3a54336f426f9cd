import { hostname } from "node:os";
import { dirname, resolve } from "node:path";
import { Counter, Gauge, Registry } from "prom-client";
import { CommandSink } from "../../adapters/alerts/commandSink.js";
import { WebhookSink } from "../../adapters/alerts/webhookSink.js";
import { openAlertFeed } from "../../adapters/openAlertFeed.js";
import type { ExecutorConfig } from "../../config/configSchema.js";
import { readConfigFile } from "../../config/loadConfig.js";
import { readConfigCredential } from "../../config/readCredential.js";
import type { VenueName } from "../../core/plan.js";
import { driftActionFor } from "../../core/positionWatch/index.js";
import { redactUrl } from "../../core/redactUrl.js";
import { describeError } from "../../executor/executorObserver.js";
import { createLogger, flushLogger } from "../../ops/logger.js";
import { type MetricsServer, startMetricsServer } from "../../ops/metrics.js";
import type { AlertFeed } from "../../ports/alertFeed.js";
import type { AlertSink } from "../../ports/alertSink.js";
import type { Backend } from "../../ports/backend.js";
import type { Venue } from "../../ports/venue.js";
import { type OpenedPlane, openSigningPlane } from "../../signer/index.js";
import { createAlertMetrics } from "../../watcher/alertMetrics.js";
import { createPositionMetrics } from "../../watcher/positionMetrics.js";
import type { PositionWatchOptions } from "../../watcher/positionWatch.js";
import { Watcher } from "../../watcher/watcher.js";
import { openBusWithRetry } from "../executor/openBus.js";
import { openVenues } from "../executor/openVenues.js";
import { positionSources } from "./positionSources.js";

/** Options of {@link runWatch}. */
export interface RunWatchOptions {
  readonly configPath: string;
  readonly env: NodeJS.ProcessEnv;
  /** Serve `/metrics` and `/healthz` on 127.0.0.1:<port>. */
  readonly metricsPort?: number | undefined;
  /** This watcher's name, the lease owner (default `<hostname>-<pid>`); unique per live watcher. */
  readonly name?: string | undefined;
  /** Stops it like SIGTERM does. */
  readonly signal?: AbortSignal;
}

/**
 * `intentgate watch`: runs the watcher (layer 3) until SIGTERM/SIGINT. It
 * never creates a bus or a deployment; an unreachable bus is waited for.
 * The webhook URL is read from `watch.sinks.webhook.url_env`/`url_file`
 * and never logged. A config it cannot use throws `ConfigError`.
 */
export async function runWatch(opts: RunWatchOptions): Promise<void> {
  const config = await readConfigFile(opts.configPath);
  const name = opts.name ?? `${hostname()}-${process.pid}`;
  const logger = createLogger({ level: config.log_level, base: { watcher: name } });
  const sinks = await openSinks(config, opts);
  const registry = new Registry();
  const alertMetrics = createAlertMetrics(registry);
  const leader = new Gauge({
    name: "intentgate_watch_leader",
    help: "1 while this watcher holds the watch lease",
    registers: [registry],
  });
  const passes = new Counter({
    name: "intentgate_watch_rule_passes_total",
    help: "Passes of the alert rules over the result stream",
    registers: [registry],
  });
  const failures = new Counter({
    name: "intentgate_watch_failures_total",
    help: "Watch passes that failed, by what failed",
    labelNames: ["during"] as const,
    registers: [registry],
  });
  let lastPassAt = 0;
  const stop = new AbortController();
  const onStop = () => stop.abort();
  let metricsServer: MetricsServer | undefined;
  let backend: Backend | undefined;
  let feed: AlertFeed | undefined;
  let opened: OpenedPlane | undefined;
  let venues: ReadonlyMap<VenueName, Venue> = new Map();
  try {
    process.on("SIGTERM", onStop);
    process.on("SIGINT", onStop);
    opts.signal?.addEventListener("abort", onStop, { once: true });
    if (opts.metricsPort !== undefined)
      metricsServer = await startMetricsServer({
        port: opts.metricsPort,
        registry,
        healthz: () => {
          const age = Date.now() - lastPassAt;
          return { ok: age < 3 * config.watch.interval_ms + 5000, body: { last_pass_ms_ago: age } };
        },
      });
    backend = await openBusWithRetry(
      { url: config.bus, prefix: config.prefix, create: "none" },
      {
        signal: stop.signal,
        observer: {
          unreachable: (cause) =>
            logger.warn({ bus: redactUrl(config.bus), cause }, "bus unreachable; retrying"),
          reached: () => logger.warn({ bus: redactUrl(config.bus) }, "bus reached"),
        },
      },
    );
    if (backend === undefined) return;
    feed = await openAlertFeed({ url: config.bus, prefix: config.prefix });
    let positions: Omit<PositionWatchOptions, "backend" | "feed"> | undefined;
    if (config.watch.positions.enabled) {
      const baseDir = dirname(resolve(opts.configPath));
      if (config.signing !== undefined)
        opened = await openSigningPlane(config.signing, {
          env: opts.env,
          baseDir,
          live: config.live,
          logger: logger.child({ component: "signing-plane" }),
        });
      venues = await openVenues(config, { plane: opened, env: opts.env, baseDir });
      const positionMetrics = createPositionMetrics(registry);
      positions = {
        sources: positionSources(config, backend, venues),
        drift: {
          settleMs: config.watch.positions.settle_ms,
          actionFor: driftActionFor(config.watch.positions.on_drift),
        },
        unreadableRepeatMs: config.watch.positions.unreadable_repeat_ms,
        who: `watch:${name}`,
        observer: {
          read(source, outcome, at) {
            positionMetrics.read(source, outcome, at);
            if (!outcome.ok)
              logger.warn(
                { venue: source.book, account: source.account ?? "*", detail: outcome.detail },
                "positions not readable",
              );
          },
          unexplained: (slot, qty) => positionMetrics.unexplained(slot, qty),
          stateChanged(state, who, alert) {
            positionMetrics.stateChanged(state);
            logger.warn(
              {
                state,
                who,
                why: "position_drift",
                venue: alert.venue,
                account: alert.account,
                ...(alert.kind === "position_drift"
                  ? { symbol: alert.symbol, expected: alert.expected, actual: alert.actual }
                  : {}),
                alert_id: alert.alert_id,
              },
              `trading state set to ${state} by the watcher`,
            );
          },
          stateRefused(state, why) {
            logger.error({ state, why }, "drift asked for a trading-state change that was not made");
          },
        },
      };
    }
    const watcher = new Watcher({
      backend,
      feed,
      sinks,
      rules: config.watch.rules,
      positions,
      name,
      intervalMs: config.watch.interval_ms,
      leaseMs: config.watch.lease_ms,
      logger,
      metrics: alertMetrics,
      observer: {
        leading(leads) {
          leader.set(leads ? 1 : 0);
          logger.info(
            { leading: leads },
            leads ? "leading: watching results, delivering alerts" : "not leading",
          );
        },
        pass() {
          passes.inc();
        },
        stepped() {
          // Leading or not (a follower checks the lease each interval): /healthz says the loop runs.
          lastPassAt = Date.now();
        },
        failed(err, during) {
          failures.inc({ during });
          logger.error({ err: describeError(err), during }, "watch pass failed; trying again");
        },
      },
    });
    if (sinks.length === 0)
      logger.warn(
        "no alert sinks configured (watch.sinks): alerts reach the alert stream, this log and the metrics only",
      );
    logger.info(
      {
        bus: redactUrl(config.bus),
        interval_ms: config.watch.interval_ms,
        sinks: sinks.map((s) => s.name),
      },
      "watcher started",
    );
    await watcher.run(stop.signal);
    logger.info("watcher stopped");
  } finally {
    process.off("SIGTERM", onStop);
    process.off("SIGINT", onStop);
    for (const v of venues.values()) await v.close().catch(() => undefined);
    await opened?.plane.close().catch(() => undefined);
    await feed?.close();
    await backend?.close();
    await metricsServer?.close();
    await flushLogger(logger);
  }
}

/** The configured sinks; the webhook's URL read as a secret. */
async function openSinks(config: ExecutorConfig, opts: RunWatchOptions): Promise<AlertSink[]> {
  const sinks: AlertSink[] = [];
  const { webhook, command } = config.watch.sinks;
  if (webhook !== undefined) {
    const url = await readConfigCredential({
      holder: webhook,
      name: "url",
      field: "watch.sinks.webhook",
      env: opts.env,
      baseDir: dirname(resolve(opts.configPath)),
    });
    sinks.push(new WebhookSink({ url, timeoutMs: webhook.timeout_ms }));
  }
  if (command !== undefined)
    sinks.push(new CommandSink({ argv: command.argv, timeoutMs: command.timeout_ms }));
  return sinks;
}
