/**
 * The logging the remote plane needs: a pino logger fits. Fields passed are
 * never payloads, targets or tokens: only ids, callers, intents, routes and
 * error names.
 */
export interface RemoteLogger {
  info(fields: Record<string, unknown>, msg: string): void;
  warn(fields: Record<string, unknown>, msg: string): void;
  error(fields: Record<string, unknown>, msg: string): void;
}

/**
 * JSON lines on stderr (`{"level","time","component","msg",…}`): what a
 * caller's remote plane logs to when its process passes no logger, so a
 * refused socket or an unreachable signer is never silent.
 */
export const STDERR_LOGGER: RemoteLogger = {
  info: (fields, msg) => stderrLine("info", fields, msg),
  warn: (fields, msg) => stderrLine("warn", fields, msg),
  error: (fields, msg) => stderrLine("error", fields, msg),
};

function stderrLine(level: string, fields: Record<string, unknown>, msg: string): void {
  try {
    process.stderr.write(
      `${JSON.stringify({ level, time: Date.now(), component: "signing-plane", ...fields, msg })}\n`,
    );
  } catch {
    // a log line must never break signing
  }
}

/** A logger that drops everything. */
export const SILENT_LOGGER: RemoteLogger = {
  info() {},
  warn() {},
  error() {},
};

/** An error's name and code only: messages may quote what they failed on (a payload, say). */
export function errorFields(err: unknown): Record<string, unknown> {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === "string" ? { err: err.name, code } : { err: err.name };
  }
  return { err: typeof err };
}

/** Caps an untrusted string before it goes into a log line. */
export function clip(value: string, max = 128): string {
  return value.length > max ? `${value.slice(0, max)}…` : value;
}
