import type { Backend, BackendOptions } from "../ports/backend.js";

/** Thrown when a bus URL names no backend IntentGate has. */
export class UnsupportedBusError extends Error {
  override readonly name = "UnsupportedBusError";
}

/**
 * Opens the backend a bus URL names: `sqlite:<path>` (embedded) or
 * `redis://…` / `rediss://…`. Adapters load lazily, so a Redis deployment
 * never loads the SQLite native module.
 */
export async function openBackend(opts: BackendOptions): Promise<Backend> {
  if (opts.url.startsWith("sqlite:")) {
    const { openSqliteBackend } = await import("./sqlite/sqliteBackend.js");
    return openSqliteBackend(opts);
  }
  if (opts.url.startsWith("redis://") || opts.url.startsWith("rediss://")) {
    const { openRedisBackend } = await import("./redis/redisBackend.js");
    return openRedisBackend(opts);
  }
  throw new UnsupportedBusError(
    `bus: unsupported URL scheme in "${opts.url.split(":")[0]}:…" (use sqlite:<path> or redis://host:port)`,
  );
}
