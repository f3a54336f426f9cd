import type { Backend, BackendOptions } from "../ports/backend.js";

/** Thrown when a bus URL names no backend IntentGate has. */
export class UnsupportedBusError extends Error {
  override readonly name = "UnsupportedBusError";
}

/**
 * Which backend a bus URL names: `sqlite:<path>` (embedded) or `redis://…` /
 * `rediss://…`; any other scheme is an {@link UnsupportedBusError}.
 */
export function busKind(url: string): "sqlite" | "redis" {
  if (url.startsWith("sqlite:")) return "sqlite";
  if (url.startsWith("redis://") || url.startsWith("rediss://")) return "redis";
  throw new UnsupportedBusError(
    `bus: unsupported URL scheme in "${url.split(":")[0]}:…" (use sqlite:<path> or redis://host:port)`,
  );
}

/**
 * Opens the backend a bus URL names ({@link busKind}). Adapters load lazily,
 * so a Redis deployment never loads the SQLite native module.
 */
export async function openBackend(opts: BackendOptions): Promise<Backend> {
  if (busKind(opts.url) === "sqlite") {
    const { openSqliteBackend } = await import("./sqlite/sqliteBackend.js");
    return openSqliteBackend(opts);
  }
  const { openRedisBackend } = await import("./redis/redisBackend.js");
  return openRedisBackend(opts);
}
