import { type DestinationStream, type Logger, type LoggerOptions, pino } from "pino";
import type { LogLevel } from "../config/configSchema.js";

export type { Logger } from "pino";

/** Log fields whose values are always replaced by `[REDACTED]`. */
export const REDACT_PATHS: readonly string[] = ["secret", "*.secret", "auth", "*.auth"];

export interface LoggerOptionsIn {
  /** pino level; `silent` logs nothing. */
  readonly level: LogLevel;
  /**
   * Where JSON lines go: a file descriptor (default 1, stdout, through an
   * asynchronous pino destination) or any stream with `write`.
   */
  readonly destination?: number | DestinationStream;
  /** Fields bound to every line (e.g. `{ consumer }`). */
  readonly base?: Record<string, unknown>;
}

/**
 * A pino logger writing JSON lines. Values under `secret`, `*.secret`, `auth`
 * and `*.auth` are redacted. Call {@link flushLogger} before exiting: the
 * default destination buffers asynchronously.
 */
export function createLogger(opts: LoggerOptionsIn): Logger {
  const dest = opts.destination ?? 1;
  const stream: DestinationStream =
    typeof dest === "number" ? pino.destination({ dest, sync: false, minLength: 0 }) : dest;
  const options: LoggerOptions = {
    level: opts.level,
    base: { pid: process.pid, ...opts.base },
    redact: { paths: [...REDACT_PATHS], censor: "[REDACTED]" },
    timestamp: pino.stdTimeFunctions.epochTime,
  };
  return pino(options, stream);
}

/** Flushes buffered log lines; resolves once they were handed to the OS (or the stream). */
export function flushLogger(logger: Logger): Promise<void> {
  return new Promise((resolve) => {
    try {
      logger.flush(() => resolve());
    } catch {
      resolve(); // a destination without flush support, or not yet open
    }
  });
}
