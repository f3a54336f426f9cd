import { memoKey2 } from "./keyMemo.js";

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
export function utcDay(ms: number): string {
  const n = Math.floor(ms / DAY_MS);
  // every plan of a batch asks for the same day: format it once
  if (last.n !== n) last = { n, text: new Date(n * DAY_MS).toISOString().slice(0, 10) };
  return last.text;
}

const DAY_MS = 86_400_000;
/** The day {@link utcDay} formatted last (a pure function's memo: same input, same text). */
let last = { n: Number.NaN, text: "" };

/** Map key of a {@link DailyRef} in `Facts.dailyNotional`; also the ledger's field name. */
export const dailyKey = (d: DailyRef): string => dayField(d.account, d.day);

const dayField = memoKey2((account, day) => JSON.stringify([account, day]));
