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
    typeof dest === "number" ? bufferedDestination(dest) : (dest as DestinationStream);
  const options: LoggerOptions = {
    level: opts.level,
    base: { pid: process.pid, ...opts.base },
    redact: { paths: [...REDACT_PATHS], censor: "[REDACTED]" },
    timestamp: pino.stdTimeFunctions.epochTime,
  };
  return pino(options, stream);
}

/** How long a log line may wait in the buffer. */
const FLUSH_EVERY_MS = 100;

/**
 * An asynchronous destination that writes in chunks of up to 4 KiB (one write
 * per line costs a syscall per decision) and flushes at least every
 * {@link FLUSH_EVERY_MS}, so a quiet executor's lines still appear promptly.
 */
function bufferedDestination(fd: number): DestinationStream {
  const stream = pino.destination({ dest: fd, sync: false, minLength: 4096 });
  const timer = setInterval(() => {
    try {
      stream.flush();
    } catch {
      // not open yet, or already closed: the next tick or the final flush covers it
    }
  }, FLUSH_EVERY_MS);
  timer.unref();
  stream.on("close", () => clearInterval(timer));
  return stream;
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
