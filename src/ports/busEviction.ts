/**
 * Whether the bus may drop keys on its own. The ledger's claims, positions,
 * daily notional and accounts' books must outlive every decision that
 * counts on them, and the duplicate-order marks and rate counters their
 * whole time to live: a bus that evicts any of them under memory pressure
 * would let through plans the ledger should refuse, silently. So the
 * executor decides only while the bus says it never evicts
 * (`executor/busEvictionGuard.ts`).
 */
export interface BusEviction {
  /**
   * The bus's eviction policy (Redis: `maxmemory_policy` from `INFO memory`
   * on the node that holds the deployment's keys), or undefined when the bus
   * never evicts (the embedded bus). A failed read throws.
   */
  evictionPolicy(): Promise<string | undefined>;
}
