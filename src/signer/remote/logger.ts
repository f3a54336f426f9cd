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
