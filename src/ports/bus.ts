import type { BusEntry } from "../core/busEntry.js";
import type { Lane } from "../core/plan.js";
import type { PlanResult } from "../core/result.js";

export type { BusEntry } from "../core/busEntry.js";

/**
 * The plan bus: plan streams read through one consumer group, the result
 * stream, the DLQ and the alert stream (wire-v1 §1).
 *
 * Contract every adapter keeps:
 * - the group `intentgate-executor` exists on both plan streams from id `0`
 *   (created by `DeploymentStore.initDeployment` or {@link PlanBus.ensureGroups};
 *   an existing group is fine); reading never creates it: a missing group is
 *   an error naming `intentgate init`, never silently recreated;
 * - an entry handed out by {@link PlanBus.readNew} or {@link PlanBus.reclaim}
 *   stays pending for that consumer until the ledger's commit acknowledges it;
 * - `deliveries` counts every hand-out of that entry (1 on its first);
 * - entry fields come back as raw bytes, in order, repeated names kept, so the
 *   executor can verify signatures over the exact bytes and reject repeats.
 * How entries are stored, leased and reclaimed (XREADGROUP/XAUTOCLAIM, SQL
 * leases) stays private to the adapter.
 */
export interface PlanBus {
  /** Creates the consumer group on both plan streams if missing. */
  ensureGroups(): Promise<void>;
  /**
   * Hands out never-delivered entries, up to `count` per lane (Redis applies
   * COUNT per stream; the SQLite bus hands out at most `count` in all), waiting
   * up to `blockMs` for one. Every entry returned is pending for `consumer`.
   */
  readNew(consumer: string, count: number, blockMs: number): Promise<BusEntry[]>;
  /** Takes over up to `count` entries pending longer than `minIdleMs` for any consumer. */
  reclaim(consumer: string, minIdleMs: number, count: number): Promise<BusEntry[]>;
  /** Appends a plan entry; returns its stream id. */
  publish(lane: Lane, fields: ReadonlyArray<readonly [string, string | Buffer]>): Promise<string>;
  /** Reads results after `afterId` (exclusive; `"0"` for all), waiting up to `blockMs` when none (0: no wait). */
  readResults(afterId: string, count: number, blockMs?: number): Promise<ResultEntry[]>;
  /**
   * The id of the newest result entry (`"0"` when there is none): read it
   * before publishing and read results after it, and a producer cannot miss
   * its own result (reading from "now" after publishing can).
   */
  lastResultId(): Promise<string>;
  /** Appends an alert to the alert stream: one entry, one field `alert` holding its JSON. */
  publishAlert(alert: Record<string, unknown>): Promise<string>;
  /** Entries handed out and not yet acknowledged, both lanes. */
  pendingCount(): Promise<number>;
  /** Entries in the DLQ stream. */
  dlqLength(): Promise<number>;
  /** Releases connections and file handles. */
  close(): Promise<void>;
}

/** One entry of the result stream. */
export interface ResultEntry {
  /** The result entry's own id. */
  readonly id: string;
  readonly result: PlanResult;
}

/** A change of the bus connection: lost (with the underlying cause, e.g. `ECONNREFUSED`) or restored. */
export type BusConnectionEvent = { readonly up: true } | { readonly up: false; readonly cause: string };

/** Consumer group name on both plan streams (wire-v1 §1). */
export const CONSUMER_GROUP = "intentgate-executor";
