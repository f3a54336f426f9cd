/**
 * One account's notional placed in one UTC day (`limits.max_daily_notional`,
 * wire-v1 §6 `limit:daily_notional`). The ledger keeps one canonical decimal
 * text per (account, day), so a restart neither resets nor repeats it, and
 * a new UTC day starts at zero.
 */
export interface DailyRef {
  readonly account: string;
  /** The UTC calendar day, `YYYY-MM-DD`. */
  readonly day: string;
}

/** The UTC day (`YYYY-MM-DD`) that `ms` falls in. */
export const utcDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/** Map key of a {@link DailyRef} in `Facts.dailyNotional`; also the ledger's field name. */
export const dailyKey = (d: DailyRef): string => JSON.stringify([d.account, d.day]);
