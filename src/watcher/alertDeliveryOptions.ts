import type { AlertFeed } from "../ports/alertFeed.js";
import { type AlertSink, SINK_NAME_PATTERN } from "../ports/alertSink.js";
import { AlertDeliveryConfigError } from "./alertDeliveryError.js";
import type { AlertMetrics } from "./alertMetrics.js";

/** The logging alert delivery needs; a pino logger fits. Fields never hold a sink's secrets. */
export interface AlertLogger {
  info(fields: Record<string, unknown>, msg: string): void;
  warn(fields: Record<string, unknown>, msg: string): void;
  error(fields: Record<string, unknown>, msg: string): void;
}

/** Defaults of {@link AlertDeliveryOptions}. */
export const ALERT_DELIVERY_DEFAULTS = {
  /** Name of the stored state (several deliverers with different sinks may share a bus under different names). */
  stateName: "default",
  /** With no stored state: deliver every alert already on the stream (`all`) or only later ones (`new`). */
  start: "all",
  /** Alerts taken from the stream per read. */
  batchSize: 100,
  /** Longest wait of one read of the stream in `run` (also how soon `run` notices its signal). */
  pollMs: 1_000,
  /** Wait before the first retry of a failed delivery. */
  backoffBaseMs: 1_000,
  /** Longest wait between retries. */
  backoffMaxMs: 300_000,
  /** Random part taken off each wait, as a fraction of it (0 to 1). */
  jitter: 0.5,
  /** A delivery still failing this long after its alert was taken is given up (24 h). */
  maxRetryAgeMs: 86_400_000,
  /** Alerts with deliveries still to do, at most; beyond, the oldest are given up. */
  maxPending: 1_000,
  /** Deliveries running at once per sink (a hung one never holds up the others). */
  concurrency: 4,
} as const;

/** Options of an `AlertDelivery`; every number has a default in {@link ALERT_DELIVERY_DEFAULTS}. */
export interface AlertDeliveryOptions {
  /** The bus: the alert stream, and where progress is stored. */
  readonly feed: AlertFeed;
  /** Where alerts go; names must be unique. At least one. */
  readonly sinks: readonly AlertSink[];
  /** Default: nothing logged. */
  readonly logger?: AlertLogger;
  /** Default: `createAlertMetrics()` on a registry of its own. */
  readonly metrics?: AlertMetrics;
  readonly stateName?: string;
  readonly start?: "all" | "new";
  readonly batchSize?: number;
  readonly pollMs?: number;
  readonly backoffBaseMs?: number;
  readonly backoffMaxMs?: number;
  readonly jitter?: number;
  readonly maxRetryAgeMs?: number;
  readonly maxPending?: number;
  readonly concurrency?: number;
  /** Default `Date.now`. */
  readonly clock?: () => number;
  /** Default `Math.random` (the jitter). */
  readonly random?: () => number;
}

/** {@link AlertDeliveryOptions} with every default filled in and checked. */
export type ResolvedAlertDeliveryOptions = Required<Omit<AlertDeliveryOptions, "logger" | "metrics">> &
  Pick<AlertDeliveryOptions, "logger" | "metrics">;

/** Fills in defaults and checks every option; throws {@link AlertDeliveryConfigError}. */
export function resolveAlertDeliveryOptions(opts: AlertDeliveryOptions): ResolvedAlertDeliveryOptions {
  const d = ALERT_DELIVERY_DEFAULTS;
  const names = new Set<string>();
  for (const sink of opts.sinks) {
    if (!SINK_NAME_PATTERN.test(sink.name))
      throw new AlertDeliveryConfigError(
        "sinks",
        "a sink name must be 1-64 letters, digits, '_', '.' or '-'",
      );
    if (names.has(sink.name)) throw new AlertDeliveryConfigError("sinks", `two sinks are named ${sink.name}`);
    names.add(sink.name);
  }
  const stateName = opts.stateName ?? d.stateName;
  if (!SINK_NAME_PATTERN.test(stateName))
    throw new AlertDeliveryConfigError("stateName", "must be 1-64 letters, digits, '_', '.' or '-'");
  const int = (option: string, value: number, min: number): number => {
    if (!Number.isSafeInteger(value) || value < min)
      throw new AlertDeliveryConfigError(option, `must be an integer of at least ${min}`);
    return value;
  };
  const backoffBaseMs = int("backoffBaseMs", opts.backoffBaseMs ?? d.backoffBaseMs, 1);
  const backoffMaxMs = int("backoffMaxMs", opts.backoffMaxMs ?? d.backoffMaxMs, 1);
  if (backoffMaxMs < backoffBaseMs)
    throw new AlertDeliveryConfigError("backoffMaxMs", "must be at least backoffBaseMs");
  const jitter = opts.jitter ?? d.jitter;
  if (!(jitter >= 0 && jitter <= 1)) throw new AlertDeliveryConfigError("jitter", "must be between 0 and 1");
  const start = opts.start ?? d.start;
  if (start !== "all" && start !== "new") throw new AlertDeliveryConfigError("start", "must be all or new");
  return {
    feed: opts.feed,
    sinks: opts.sinks,
    ...(opts.logger === undefined ? {} : { logger: opts.logger }),
    ...(opts.metrics === undefined ? {} : { metrics: opts.metrics }),
    stateName,
    start,
    batchSize: int("batchSize", opts.batchSize ?? d.batchSize, 1),
    pollMs: int("pollMs", opts.pollMs ?? d.pollMs, 1),
    backoffBaseMs,
    backoffMaxMs,
    jitter,
    maxRetryAgeMs: int("maxRetryAgeMs", opts.maxRetryAgeMs ?? d.maxRetryAgeMs, 1),
    maxPending: int("maxPending", opts.maxPending ?? d.maxPending, 1),
    concurrency: int("concurrency", opts.concurrency ?? d.concurrency, 1),
    clock: opts.clock ?? Date.now,
    random: opts.random ?? Math.random,
  };
}
