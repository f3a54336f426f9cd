/**
 * The bus's own clock. Some of what executors share is kept by the bus's
 * clock, not theirs: Redis expires keys (duplicate-order marks, leases) by
 * its own time, and executors on other hosts read the same streams. An
 * executor whose clock disagrees with the bus's would judge plan freshness,
 * permit expiry, rate windows and the UTC day differently from the others,
 * so it compares the two before deciding (`executor/busClockGuard.ts`).
 */
export interface BusClock {
  /**
   * The bus's time now, in ms since the epoch (Redis: `TIME` on the node
   * that holds the deployment's keys), or undefined when the bus keeps no
   * clock of its own (the embedded bus: its executors share the host's).
   * A failed read throws.
   */
  busTime(): Promise<number | undefined>;
}
