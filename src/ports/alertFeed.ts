/** One entry of the alert stream (wire-v1 §1a). */
export interface AlertFeedEntry {
  /** The entry's stream id (`<ms>-<seq>`). */
  readonly id: string;
  /** Its `alert` field as UTF-8 text, or `undefined` when the entry has none. */
  readonly text: string | undefined;
}

/**
 * What alert delivery needs from a bus: the alert stream, read from a cursor,
 * and a few named values stored on the same bus (its cursor and retry queue),
 * so that a restarted deliverer continues where the last one stopped. Both
 * buses implement it (redisAlertFeed.ts, sqliteAlertFeed.ts), under the
 * deployment's key prefix.
 */
export interface AlertFeed {
  /**
   * Up to `count` entries with an id greater than `afterId` (`"0"`: from the
   * start), in id order, waiting up to `blockMs` for one when there are none
   * (0: no wait).
   */
  readAlerts(afterId: string, count: number, blockMs: number): Promise<AlertFeedEntry[]>;
  /** The newest entry's id, `"0"` when the stream is empty. */
  lastAlertId(): Promise<string>;
  /** The value stored under `name`, or `undefined`. */
  getState(name: string): Promise<string | undefined>;
  /** Stores `value` under `name`, durably (as durable as the bus), replacing any previous value at once. */
  setState(name: string, value: string): Promise<void>;
  /** Releases what the feed opened itself (a connection it did not get given, a file handle). */
  close(): Promise<void>;
}
