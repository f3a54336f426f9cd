/**
 * The optional gate-9 limits the limits benches turn on (`BENCH_LIMITS`),
 * each set far above what a bench run places, so they cost only what
 * checking them costs; and the median the benches report.
 */

/** The `limits` keys each name of BENCH_LIMITS turns on (never reached by a bench run). */
export const LIMIT_GROUPS: Readonly<Record<string, Record<string, unknown>>> = {
  dup: { duplicate_window_ms: 600_000 },
  account: { max_daily_notional: { "*": "1000000000000000" }, max_open_orders: { "*": 1_000_000 } },
  exposure: { max_position: { "*": "1000000000000" }, max_gross_notional: "1000000000000000" },
  // the account group's two caps one at a time
  daily: { max_daily_notional: { "*": "1000000000000000" } },
  open: { max_open_orders: { "*": 1_000_000 } },
};

const DEFAULT_GROUPS = "dup,account,exposure";

/** `BENCH_LIMITS` (default: dup, account and exposure): the names and the `limits` keys they turn on; throws on an unknown name. */
export function limitsVariant(): { names: string[]; limits: Record<string, unknown> } {
  const names = (process.env.BENCH_LIMITS ?? DEFAULT_GROUPS).split(",").map((s) => s.trim());
  const unknown = names.filter((n) => !(n in LIMIT_GROUPS));
  if (unknown.length > 0)
    throw new Error(
      `BENCH_LIMITS: unknown ${unknown.join(", ")} (known: ${Object.keys(LIMIT_GROUPS).join(", ")})`,
    );
  return { names, limits: Object.assign({}, ...names.map((n) => LIMIT_GROUPS[n])) };
}

/** The median of a non-empty list. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}
