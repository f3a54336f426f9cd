import { hostname } from "node:os";
import { configuredLiveVenues, type ExecutorConfig } from "../../config/configSchema.js";
import { type LoadedConfig, loadConfig } from "../../config/loadConfig.js";
import type { VenueName } from "../../core/plan.js";
import { redactUrl } from "../../core/redactUrl.js";
import { Executor, type ExecutorSettings } from "../../executor/executor.js";
import { describeError, executorObserver } from "../../executor/executorObserver.js";
import { healthz, type ProbeSources, readyz } from "../../executor/executorProbes.js";
import { LiveOrderFollower } from "../../executor/liveOrderFollower.js";
import { observedPlane } from "../../executor/observedPlane.js";
import { OrderFollower } from "../../executor/orderFollower.js";
import { PriceFeed } from "../../executor/priceFeed.js";
import { VenueSupervisor } from "../../executor/venueSupervisor.js";
import { createLogger, flushLogger, type Logger } from "../../ops/logger.js";
import { createMetrics, type MetricsServer, startMetricsServer } from "../../ops/metrics.js";
import type { Backend } from "../../ports/backend.js";
import type { Venue } from "../../ports/venue.js";
import { type OpenedPlane, openSigningPlane } from "../../signer/index.js";
import { warnLimitsNamingNothing } from "./limitSymbolCheck.js";
import { openBusWithRetry } from "./openBus.js";
import { openVenues } from "./openVenues.js";
import { restartOnlyChanges } from "./restartOnlySettings.js";

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
 * commits the batch in hand, closes the bus, flushes logs, resolves. A bus
 * that cannot be reached at start is waited for (not ready meanwhile); an
 * embedded bus file that does not exist is created with a new deployment;
 * without a deployment marker nothing is decided until `intentgate init`
 * (wire-v1 §7b). SIGHUP reloads the config file (except
 * `RESTART_ONLY_SETTINGS`: the bus, venues and signing plane are opened
 * once); an invalid new config keeps the last good one and logs why. A config invalid at start throws
 * {@link ConfigError}.
 */
export async function runExecutor(opts: RunExecutorOptions): Promise<void> {
  let loaded = await loadConfig(opts.configPath, opts.env);
  const { config } = loaded;
  const consumer = opts.consumer ?? `${hostname()}-${process.pid}`;
  const logger = createLogger({ level: config.log_level, base: { consumer } });
  const metrics = createMetrics();
  const observer = executorObserver(logger, metrics);
  const stop = new AbortController();
  const onStop = () => stop.abort();
  const reload = async () => {
    try {
      const next = await loadConfig(opts.configPath, opts.env);
      warnOnFixedSettings(logger, loaded.config, next.config);
      checkLimitSymbols?.(next.config);
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

  // What /healthz and /readyz report, filled in as the executor comes up.
  let startTurnAt: number | undefined = Date.now();
  let bus = { up: false, detail: `not connected yet to ${redactUrl(config.bus)}` };
  let executor: Executor | undefined;
  let supervisor: VenueSupervisor | undefined;
  let venues: ReadonlyMap<VenueName, Venue> = new Map();
  /** Warns about per-symbol limits naming no listed symbol; set once the first prices are read. */
  let checkLimitSymbols: ((c: ExecutorConfig) => void) | undefined;
  const probes: ProbeSources = {
    clock: Date.now,
    lastTurnAt: () => (executor ? executor.lastTurnAt : startTurnAt),
    bus: () => bus,
    deployment: () => executor?.deployment,
    busClock: () => executor?.busClock,
    busEviction: () => executor?.busEviction,
    live: () => ({ config: loaded.config.live, env: loaded.policy.liveEnv }),
    venues: () =>
      configuredLiveVenues(loaded.config).map((venue) => ({
        venue,
        ready: supervisor?.ready.has(venue) ?? false,
        detail:
          supervisor?.detail(venue) ??
          (venues.has(venue) ? "not checked yet" : "no adapter (no signing plane)"),
      })),
  };

  let metricsServer: MetricsServer | undefined;
  let backend: Backend | undefined;
  let opened: OpenedPlane | undefined;
  try {
    process.on("SIGTERM", onStop);
    process.on("SIGINT", onStop);
    process.on("SIGHUP", onHup);
    opts.signal?.addEventListener("abort", onStop, { once: true });
    const metricsPort = opts.metricsPort ?? config.metrics_port;
    if (metricsPort !== undefined)
      metricsServer = await startMetricsServer({
        port: metricsPort,
        registry: metrics.registry,
        healthz: () => healthz(probes),
        readyz: () => readyz(probes),
      });

    // The bus: waited for when unreachable (not ready meanwhile); never a reason to exit.
    metrics.busUp.set(0);
    backend = await openBusWithRetry(
      {
        url: config.bus,
        prefix: config.prefix,
        create: "deployment",
        onConnection: (event) => {
          bus = event.up
            ? { up: true, detail: "up" }
            : { up: false, detail: `connection lost: ${event.cause}` };
          observer.busConnection(event);
        },
      },
      {
        signal: stop.signal,
        observer: {
          unreachable(cause) {
            startTurnAt = Date.now();
            bus = { up: false, detail: `unreachable: ${cause}` };
            logger.warn({ bus: redactUrl(config.bus), cause }, "bus unreachable; retrying (not ready)");
          },
          reached() {
            logger.warn({ bus: redactUrl(config.bus) }, "bus reached");
          },
        },
      },
    );
    if (backend === undefined) {
      logger.info("executor stopped before the bus was reached");
      return;
    }
    const openedBackend = backend;
    bus = { up: true, detail: "up" };
    metrics.busUp.set(1);
    metrics.busClockOk.set(1);
    metrics.busKeepsKeys.set(1);
    metrics.setGaugeSources({
      pendingEntries: () => openedBackend.pendingCount(),
      dlqLength: () => openedBackend.dlqLength(),
    });

    // Live venues and the signing plane: the executor never holds a key, it asks the plane.
    if (config.signing !== undefined) {
      const plane = await openSigningPlane(config.signing, {
        env: opts.env,
        baseDir: loaded.baseDir,
        live: config.live,
        logger: logger.child({ component: "signing-plane" }),
      });
      opened = { ...plane, plane: observedPlane(plane.plane, (up) => metrics.signerUp.set(up ? 1 : 0)) };
    }
    venues = await openVenues(config, { plane: opened, env: opts.env, baseDir: loaded.baseDir });
    const prices = new PriceFeed({
      venues: () => venues,
      symbols: (venue) => (venue === "polymarket" ? (config.venues.polymarket?.markets ?? []) : []),
      everyMs: (venue) =>
        venue === "polymarket"
          ? (config.venues.polymarket?.price_poll_ms ?? 1000)
          : (config.venues["binance-usdm"]?.price_poll_ms ?? 1000),
      observer: {
        polled(venue, outcome) {
          metrics.pricePolls.inc({ venue, outcome: outcome.ok ? "ok" : "failed" });
          if (outcome.ok) metrics.pricesReadAt.set({ venue }, Date.now() / 1000);
          else logger.warn({ venue, detail: outcome.detail }, "reference prices not read");
        },
      },
    });
    // A first read of every venue's prices before the first plan, so nothing is stale by default.
    await Promise.all([...venues.keys()].map((venue) => prices.poll(venue)));
    checkLimitSymbols = (c) =>
      warnLimitsNamingNothing({ config: c, venues: venues.keys(), prices: prices.snapshot(), logger });
    checkLimitSymbols(config);
    const running = new Executor({
      backend: openedBackend,
      consumer,
      // Venue readiness and live prices are facts of the moment, laid over the config's policy.
      policy: () => ({
        ...loaded.policy,
        ...(supervisor === undefined || supervisor.ready.size === 0 ? {} : { readyVenues: supervisor.ready }),
        livePrices: prices.snapshot(),
      }),
      settings: settingsOf(config),
      observer,
      venues: () => venues,
    });
    executor = running;
    const follower = new OrderFollower({
      ledger: openedBackend,
      policy: () => loaded.policy,
      observer,
      intervalMs: config.reconcile_interval_ms,
    });
    const liveFollower = new LiveOrderFollower({
      ledger: openedBackend,
      venues: () => venues,
      policy: () => loaded.policy,
      observer,
      alert: async (fields) => {
        await openedBackend.publishAlert({ v: 1, timestamp: Date.now(), ...fields });
      },
      owner: consumer,
      intervalMs: config.reconcile_interval_ms,
      keepAliveEveryMs: keepAliveIntervals(config),
    });
    supervisor = new VenueSupervisor({
      venues: () => venues,
      reconcile: (venue) => running.reconcileOpen(venue),
      intervalMs: config.reconcile_interval_ms,
      observer: {
        readinessChanged(venue, ready, detail) {
          logger.info({ venue, ready, detail }, "live venue readiness");
        },
        accounts(venue, ready) {
          for (const [account, ok] of ready) metrics.venueReady.set({ venue, account }, ok ? 1 : 0);
        },
        failed: observer.failed,
      },
    });
    // The deployment first: open UNKNOWNs can only be reconciled (and venues become ready) within it.
    await running.checkDeployment();
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
    const pricing = prices.run(stop.signal);
    const following = follower.run(stop.signal);
    const followingLive = venues.size > 0 ? liveFollower.run(stop.signal) : Promise.resolve();
    await running.run(stop.signal);
    await supervising;
    await pricing;
    await following;
    await followingLive;
    logger.info("executor stopped: batch in hand committed");
  } finally {
    startTurnAt = undefined;
    process.off("SIGTERM", onStop);
    process.off("SIGINT", onStop);
    process.off("SIGHUP", onHup);
    await metricsServer?.close();
    for (const v of venues.values()) await v.close().catch(() => undefined);
    await opened?.plane.close().catch(() => undefined);
    await backend?.close();
    await flushLogger(logger);
  }
}

/**
 * How often each configured live venue's dead-man switch is refreshed while
 * it has working orders: Binance every third of `countdown_ms`, Polymarket
 * every `heartbeat_every_ms`.
 */
export function keepAliveIntervals(config: ExecutorConfig): Map<VenueName, number> {
  const out = new Map<VenueName, number>();
  const binance = config.venues?.["binance-usdm"];
  if (binance) out.set("binance-usdm", Math.floor(binance.countdown_ms / 3));
  const polymarket = config.venues?.polymarket;
  if (polymarket) out.set("polymarket", polymarket.heartbeat_every_ms);
  return out;
}

/** Read and retry settings from the config (fixed for the process's life). */
export function settingsOf(config: ExecutorConfig): ExecutorSettings {
  return {
    batchSize: config.batch_size,
    claimIdleMs: config.claim_idle_ms,
    maxDeliveries: config.max_deliveries,
    blockMs: Math.max(1, Math.min(1000, Math.floor(config.claim_idle_ms / 2))),
    maxConflictRetries: 50,
    maxBusClockSkewMs: config.max_bus_clock_skew_ms,
  };
}

/** Settings a reload cannot change (the bus connection and the read loop), named in a warning. */
function warnOnFixedSettings(logger: Logger, before: ExecutorConfig, after: ExecutorConfig): void {
  const changed = restartOnlyChanges(before, after);
  if (changed.length > 0)
    logger.warn(
      { changed },
      "these settings apply only after a restart (venues and signing are opened once)",
    );
}

export type { LoadedConfig };
