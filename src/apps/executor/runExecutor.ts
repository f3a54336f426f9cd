import { hostname } from "node:os";
import { openBackend } from "../../adapters/openBackend.js";
import type { ExecutorConfig } from "../../config/configSchema.js";
import { type LoadedConfig, loadConfig } from "../../config/loadConfig.js";
import { createLogger, flushLogger, type Logger } from "../../ops/logger.js";
import { createMetrics, type MetricsServer, startMetricsServer } from "../../ops/metrics.js";
import { Executor, type ExecutorSettings } from "./executor.js";
import { describeError, executorObserver } from "./executorObserver.js";

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

    const executor = new Executor({
      backend,
      consumer,
      policy: () => loaded.policy,
      settings: settingsOf(config),
      observer: executorObserver(logger, metrics),
    });
    logger.info(
      { bus: redactUrl(config.bus), prefix: config.prefix, metrics_port: metricsServer?.port },
      "executor started",
    );
    opts.onReady?.({ consumer, metricsPort: metricsServer?.port });
    await executor.run(stop.signal);
    logger.info("executor stopped: batch in hand committed");
  } finally {
    process.off("SIGTERM", onStop);
    process.off("SIGINT", onStop);
    process.off("SIGHUP", onHup);
    await metricsServer?.close();
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
  ] as const;
  const changed = fixed.filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]));
  if (changed.length > 0) logger.warn({ changed }, "these settings apply only after a restart");
}

/** A bus URL without its password. */
function redactUrl(url: string): string {
  return url.replace(/\/\/([^@/]*)@/, "//[REDACTED]@");
}

export type { LoadedConfig };
