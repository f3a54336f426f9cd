/** Whole-transaction retries after SQLITE_BUSY escaped `busy_timeout` (each already waited that long). */
const BUSY_RETRIES = 2;

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise<void>((r) => setTimeout(r, ms));

/** Whether `e` is SQLite's "database is locked" (`SQLITE_BUSY*`). */
export const isBusy = (e: unknown): boolean =>
  typeof e === "object" && e !== null && String((e as { code?: unknown }).code).startsWith("SQLITE_BUSY");

/**
 * Runs a synchronous transaction, retrying it whole if SQLITE_BUSY still
 * escapes after `busy_timeout` (a very long-held lock). Safe: better-sqlite3
 * rolls a failed transaction back, so a retried one starts from nothing.
 */
export async function withBusyRetry<T>(fn: () => T): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return fn();
    } catch (e) {
      if (!isBusy(e) || attempt >= BUSY_RETRIES) throw e;
      await sleep(10 + Math.random() * 40);
    }
  }
}
