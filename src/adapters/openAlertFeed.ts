import type { AlertFeed } from "../ports/alertFeed.js";
import { busKind } from "./openBackend.js";

/** Opens the alert feed (alert stream and stored values) of the bus a URL names, as `openBackend` opens the bus. */
export async function openAlertFeed(opts: {
  readonly url: string;
  readonly prefix: string;
}): Promise<AlertFeed> {
  if (busKind(opts.url) === "sqlite") {
    const { SqliteAlertFeed } = await import("./sqlite/sqliteAlertFeed.js");
    return SqliteAlertFeed.open(opts);
  }
  const { openRedisAlertFeed } = await import("./redis/redisAlertFeed.js");
  return openRedisAlertFeed(opts);
}
