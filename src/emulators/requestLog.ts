/**
 * The emulators' optional request log: one JSON line per request answered
 * (`{"time","method","path","status","ms"}`). Only the method, the path
 * without its query string (Binance signs in the query), the status and the
 * time: never headers (API keys, L2 signatures, passphrases), query
 * strings or bodies.
 */

/** Receives one JSON line (no trailing newline) per request. */
export type RequestLogSink = (line: string) => void;

/** One request, as the log records it. */
export interface RequestLogEntry {
  readonly method: string;
  /** The path only; a query string given here is cut off. */
  readonly path: string;
  /** HTTP status, or what happened instead (`dropped`, `held`, `abandoned`). */
  readonly status: number | string;
  /** When the request arrived (ms since the epoch). */
  readonly startedAt: number;
  /** When it was answered (ms since the epoch). */
  readonly endedAt: number;
}

/** The JSON line for one request. */
export function requestLogLine(e: RequestLogEntry): string {
  const q = e.path.indexOf("?");
  return JSON.stringify({
    time: new Date(e.startedAt).toISOString(),
    method: e.method,
    path: q < 0 ? e.path : e.path.slice(0, q),
    status: e.status,
    ms: Math.max(0, e.endedAt - e.startedAt),
  });
}
