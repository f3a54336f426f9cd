import type { AlertFeed } from "../ports/alertFeed.js";
import { UnsupportedBusError } from "./openBackend.js";

/** Opens the alert feed (alert stream and stored values) of the bus a URL names, as `openBackend` opens the bus. */
export async function openAlertFeed(opts: {
  readonly url: string;
  readonly prefix: string;
}): Promise<AlertFeed> {
  if (opts.url.startsWith("sqlite:")) {
    const { SqliteAlertFeed } = await import("./sqlite/sqliteAlertFeed.js");
    return SqliteAlertFeed.open(opts);
  }
  if (opts.url.startsWith("redis://") || opts.url.startsWith("rediss://")) {
    const { openRedisAlertFeed } = await import("./redis/redisAlertFeed.js");
    return openRedisAlertFeed(opts);
  }
  throw new UnsupportedBusError(
    `bus: unsupported URL scheme in "${opts.url.split(":")[0]}:…" (use sqlite:<path> or redis://host:port)`,
  );
}
