/**
 * The wait before retry number `attempt` (1 for the first retry): the
 * exponential `baseMs × 2^(attempt-1)` capped at `maxMs`, then shortened by a
 * random part of up to `jitter` of itself (0: none, 0.5: between half and
 * all of it), so many failed deliveries do not retry in lockstep.
 * @example retryDelayMs(3, { baseMs: 1000, maxMs: 60_000, jitter: 0 }) // 4000
 */
export function retryDelayMs(
  attempt: number,
  opts: { readonly baseMs: number; readonly maxMs: number; readonly jitter: number },
  random: () => number = Math.random,
): number {
  const exponent = Math.min(Math.max(attempt, 1) - 1, 52);
  const full = Math.min(opts.maxMs, opts.baseMs * 2 ** exponent);
  return Math.max(0, Math.round(full * (1 - opts.jitter * random())));
}
