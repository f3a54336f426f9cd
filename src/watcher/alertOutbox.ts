import { isRecord } from "../core/isRecord.js";
import type { AlertFeed } from "../ports/alertFeed.js";

/** An alert as a watcher appends it: with an `alert_id` naming this one emission. */
export type OutboxAlert = {
  readonly alert_id: string;
  readonly dedup_key: string;
  readonly timestamp: number;
};

/** The `alert_id` of an alert raised at `timestamp` under `dedup_key`. */
export const alertIdFor = (a: { readonly dedup_key: string; readonly timestamp: number }): string =>
  `${a.dedup_key}@${a.timestamp}`;

/**
 * The outbox alerts a crash left that are not on the alert stream yet: those
 * whose `alert_id` is not found after `mark` (the stream's newest id read
 * before the outbox was stored). Used by every watcher part that stores
 * alerts with its progress before appending them (RuleWatch, PositionWatch).
 */
export async function unsentAlerts<A extends OutboxAlert>(
  feed: Pick<AlertFeed, "readAlerts">,
  mark: string,
  outbox: readonly A[],
): Promise<A[]> {
  const seen = new Set<string>();
  let after = mark;
  for (;;) {
    const page = await feed.readAlerts(after, 1000, 0);
    if (page.length === 0) break;
    for (const e of page) {
      after = e.id;
      const id = alertIdOf(e.text);
      if (id !== undefined) seen.add(id);
    }
  }
  return outbox.filter((a) => !seen.has(a.alert_id));
}

function alertIdOf(text: string | undefined): string | undefined {
  try {
    const v = JSON.parse(text ?? "") as unknown;
    return isRecord(v) && typeof v.alert_id === "string" ? v.alert_id : undefined;
  } catch {
    return undefined;
  }
}
