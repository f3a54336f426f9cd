import { hostname } from "node:os";
import { openBackend } from "../../adapters/openBackend.js";
import { openVenues } from "../../adapters/venues/openVenues.js";
import type { ExecutorConfig } from "../../config/configSchema.js";
import { type LoadedConfig, loadConfig } from "../../config/loadConfig.js";
import type { VenueName } from "../../core/plan.js";
import { redactUrl } from "../../core/redactUrl.js";
import { createLogger, flushLogger, type Logger } from "../../ops/logger.js";
import { createMetrics, type MetricsServer, startMetricsServer } from "../../ops/metrics.js";
import type { Venue } from "../../ports/venue.js";
import { type OpenedPlane, openSigningPlane } from "../../signer/index.js";
import { Executor, type ExecutorSettings } from "./executor.js";
import { describeError, executorObserver } from "./executorObserver.js";
import { VenueSupervisor } from "./venueSupervisor.js";

/** Options of {@link runExecutor}. */
export interface RunExecutorOptions {
  readonly configPath: string;
  readonly env: NodeJS.ProcessEnv;
  /** Overrides `metrics_port` from the config. */
  readonly metricsPort?: number | undefined;
  /** Consumer name in the group (default `<hostname>-<pid>`); must be unique per live executor. */
  readonly consumer?: string | undefined;
  /** Stops the executor like SIGTERM does (besides the signals themselves). */
  readonly signal?: AbortSignal;
  /** Called once the executor reads (tests and wrappers wait for it). */
  readonly onReady?: (info: { consumer: string; metricsPort: number | undefined }) => void;
}

/**
 * Runs the executor until SIGTERM/SIGINT (or `signal`): stops reading,
 * commits the batch in hand, closes the bus, flushes logs, resolves. SIGHUP
 * reloads the config file; an invalid new config keeps the last good one and
 * logs why. A config invalid at start throws {@link ConfigError}.
 */
export async function runExecutor(opts: RunExecutorOptions): Promise<void> {
  let loaded = await loadConfig(opts.configPath, opts.env);
  const { config } = loaded;
  const consumer = opts.consumer ?? `${hostname()}-${process.pid}`;
  const logger = createLogger({ level: config.log_level, base: { consumer } });
  const backend = await openBackend({ url: config.bus, prefix: config.prefix });
  const stop = new AbortController();
  const onStop = () => stop.abort();
  const reload = async () => {
    try {
      const next = await loadConfig(opts.configPath, opts.env);
      warnOnFixedSettings(logger, loaded.config, next.config);
      loaded = next;
      logger.info({ config: opts.configPath }, "config reloaded");
    } catch (err) {
      logger.error(
        { err: describeError(err), config: opts.configPath },
        "config reload refused; keeping the last good config",
      );
    }
  };
  // Reloads run one after another, so the last SIGHUP's file is the one that wins.
  let reloads = Promise.resolve();
  const onHup = () => {
    reloads = reloads.then(reload);
  };
  let metricsServer: MetricsServer | undefined;
  let opened: OpenedPlane | undefined;
  let venues: ReadonlyMap<VenueName, Venue> = new Map();
  try {
    process.on("SIGTERM", onStop);
    process.on("SIGINT", onStop);
    process.on("SIGHUP", onHup);
    opts.signal?.addEventListener("abort", onStop, { once: true });
    await backend.ensureGroups();
    const metrics = createMetrics({
      pendingEntries: () => backend.pendingCount(),
      dlqLength: () => backend.dlqLength(),
    });
    const metricsPort = opts.metricsPort ?? config.metrics_port;
    if (metricsPort !== undefined)
      metricsServer = await startMetricsServer({ port: metricsPort, registry: metrics.registry });

    // Live venues and the signing plane: the executor never holds a key, it asks the plane.
    if (config.signing !== undefined) {
      opened = await openSigningPlane(config.signing, {
        env: opts.env,
        baseDir: loaded.baseDir,
        live: config.live,
      });
    }
    venues = await openVenues(config, { plane: opened, env: opts.env, baseDir: loaded.baseDir });
    const observer = executorObserver(logger, metrics);
    const executor = new Executor({
      backend,
      consumer,
      policy: () =>
        supervisor.ready.size === 0 ? loaded.policy : { ...loaded.policy, readyVenues: supervisor.ready },
      settings: settingsOf(config),
      observer,
      venues: () => venues,
    });
    const supervisor = new VenueSupervisor({
      venues: () => venues,
      reconcile: (venue) => executor.reconcileOpen(venue),
      intervalMs: config.reconcile_interval_ms,
      observer: {
        readinessChanged(venue, ready, detail) {
          logger.info({ venue, ready, detail }, "live venue readiness");
        },
        failed: observer.failed,
      },
    });
    if (venues.size > 0) {
      // Open UNKNOWNs are reconciled before any new plan for their venue can go live.
      await supervisor.check();
      logger.info(
        {
          venues: [...venues.keys()],
          ready: [...supervisor.ready.keys()],
          live: config.live,
          live_env: loaded.policy.liveEnv,
        },
        "live venues",
      );
    }
    logger.info(
      { bus: redactUrl(config.bus), prefix: config.prefix, metrics_port: metricsServer?.port },
      "executor started",
    );
    opts.onReady?.({ consumer, metricsPort: metricsServer?.port });
    const supervising = venues.size > 0 ? supervisor.run(stop.signal) : Promise.resolve();
    await executor.run(stop.signal);
    await supervising;
    logger.info("executor stopped: batch in hand committed");
  } finally {
    process.off("SIGTERM", onStop);
    process.off("SIGINT", onStop);
    process.off("SIGHUP", onHup);
    await metricsServer?.close();
    for (const v of venues.values()) await v.close().catch(() => undefined);
    await opened?.plane.close().catch(() => undefined);
    await backend.close();
    await flushLogger(logger);
  }
}

/** Read and retry settings from the config (fixed for the process's life). */
export function settingsOf(config: ExecutorConfig): ExecutorSettings {
  return {
    batchSize: config.batch_size,
    claimIdleMs: config.claim_idle_ms,
    maxDeliveries: config.max_deliveries,
    blockMs: Math.max(1, Math.min(1000, Math.floor(config.claim_idle_ms / 2))),
    maxConflictRetries: 50,
  };
}

/** Settings a reload cannot change (the bus connection and the read loop), named in a warning. */
function warnOnFixedSettings(logger: Logger, before: ExecutorConfig, after: ExecutorConfig): void {
  const fixed = [
    "bus",
    "prefix",
    "batch_size",
    "claim_idle_ms",
    "max_deliveries",
    "metrics_port",
    "log_level",
    "signing",
    "venues",
    "reconcile_interval_ms",
  ] as const;
  const changed = fixed.filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]));
  if (changed.length > 0) logger.warn({ changed }, "these settings apply only after a restart");
}

export type { LoadedConfig };
