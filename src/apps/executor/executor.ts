import { setTimeout as sleep } from "node:timers/promises";
import {
  decideEntry,
  factsQueryFor,
  internalErrorDecision,
  type PreparedEntry,
  prepareEntry,
} from "../../core/decide.js";
import type { CommitOutcome, Decision } from "../../core/decision.js";
import { FactsOverlay } from "../../core/factsOverlay.js";
import { type SendRecord, sendKey } from "../../core/liveOrder.js";
import type { VenueName } from "../../core/plan.js";
import type { Policy } from "../../core/policy.js";
import type { PlanResult } from "../../core/result.js";
import type { Backend } from "../../ports/backend.js";
import type { BusEntry } from "../../ports/bus.js";
import { CommitRefusedError } from "../../ports/ledger.js";
import type { Venue } from "../../ports/venue.js";
import { LiveOrders } from "./liveOrders.js";

/** How the executor reads and retries. */
export interface ExecutorSettings {
  /** Entries read per batch. */
  readonly batchSize: number;
  /** Entries pending longer than this are taken over from their (presumed dead) consumer. */
  readonly claimIdleMs: number;
  /** Deliveries after which an entry goes to the DLQ instead of being decided. */
  readonly maxDeliveries: number;
  /** Longest wait for new entries in one read. */
  readonly blockMs: number;
  /** Attempts to commit a batch whose shared state keeps changing before leaving the rest pending. */
  readonly maxConflictRetries: number;
}

/** Receives what the executor does, for logs and metrics. */
export interface ExecutorObserver {
  /** A result was committed; `seconds` from the entry's read to its commit. */
  decided(result: PlanResult, seconds: number): void;
  /** The same entry already had its result (a reclaim race or a re-sent commit). */
  duplicate(lane: string, streamId: string): void;
  /** Entries left pending after `maxConflictRetries` conflicting commits. */
  gaveUp(count: number): void;
  /** A bus or ledger call failed; the loop backs off and goes on. */
  failed(err: unknown, during: string): void;
}

/** What the executor needs, passed in. */
export interface ExecutorDeps {
  readonly backend: Backend;
  /** The current policy snapshot (swapped on config reload). */
  readonly policy: () => Policy;
  readonly settings: ExecutorSettings;
  readonly consumer: string;
  readonly observer: ExecutorObserver;
  readonly clock?: () => number;
  /** Live venue adapters by name (none: every live route is refused). May change on reload. */
  readonly venues?: () => ReadonlyMap<VenueName, Venue>;
}

const NO_VENUES: ReadonlyMap<VenueName, Venue> = new Map();

/**
 * The executor loop: read a batch, decide each entry through the gate chain,
 * commit every decision atomically with its result and ACK, decide again
 * whatever conflicted. Every entry read gets exactly one result.
 */
export class Executor {
  readonly #deps: ExecutorDeps;
  readonly #clock: () => number;
  readonly #live: LiveOrders;
  #lastReclaim = 0;

  constructor(deps: ExecutorDeps) {
    this.#deps = deps;
    this.#clock = deps.clock ?? Date.now;
    this.#live = new LiveOrders({
      venues: deps.venues ?? (() => NO_VENUES),
      ledger: deps.backend,
      observer: deps.observer,
      clock: this.#clock,
    });
  }

  /**
   * One reconciliation pass over the open UNKNOWNs (of one venue, when
   * given): each the venue can answer for gets its `reconciled: true`
   * follow-up. Returns how many stay open.
   */
  reconcileOpen(venue?: VenueName): Promise<number> {
    return this.#live.reconcileOpen(venue);
  }

  /**
   * Runs until `signal` aborts, then returns once every batch in hand is
   * committed. The next batch is read (and parsed and authenticated) while the
   * current one commits; it is decided only after that commit, from fresh
   * facts, so the overlap never decides on stale state.
   */
  async run(signal: AbortSignal): Promise<void> {
    let backoffMs = 50;
    let prefetched: Promise<PreparedEntry[]> | undefined;
    while (!signal.aborted || prefetched) {
      try {
        const batch = prefetched ? await prefetched : await this.#fetch();
        prefetched = undefined;
        if (batch.length === 0) continue;
        if (!signal.aborted) prefetched = this.#fetch().catch((err) => this.#readFailed(err));
        await this.#process(batch);
        backoffMs = 50;
      } catch (err) {
        this.#deps.observer.failed(err, "step");
        await sleep(backoffMs, undefined, { signal }).catch(() => undefined);
        backoffMs = Math.min(backoffMs * 2, 5000);
      }
    }
  }

  /** One iteration without overlap: reclaim idle entries when due, else read new ones, and process them. Returns how many were handled. */
  async step(): Promise<number> {
    const batch = await this.#fetch();
    if (batch.length > 0) await this.#process(batch);
    return batch.length;
  }

  /** Decides and commits a batch of entries this consumer holds. */
  process(entries: readonly BusEntry[]): Promise<void> {
    return this.#process(this.#prepare(entries));
  }

  /** Gate 1 for each entry; an entry at the delivery limit is set aside unparsed. Never throws. */
  #prepare(entries: readonly BusEntry[]): PreparedEntry[] {
    const opts = { maxDeliveries: this.#deps.settings.maxDeliveries };
    return entries.map((entry) => prepareEntry(entry, opts));
  }

  /** Reclaims idle entries when due (they come first), else reads new ones; runs gate 1 on them. */
  async #fetch(): Promise<PreparedEntry[]> {
    const { backend, settings, consumer } = this.#deps;
    const now = this.#clock();
    if (now - this.#lastReclaim >= Math.max(settings.claimIdleMs / 2, 1)) {
      this.#lastReclaim = now;
      const reclaimed = await backend.reclaim(consumer, settings.claimIdleMs, settings.batchSize);
      if (reclaimed.length > 0) return this.#prepare(reclaimed);
    }
    return this.#prepare(await backend.readNew(consumer, settings.batchSize, settings.blockMs));
  }

  /**
   * Alerts on the alert stream for an entry that went to the DLQ (wire-v1 §1:
   * the DLQ should stay empty, and each entry in it is alerted). Sent after
   * the commit: a lost alert never loses the entry, which is in the DLQ.
   */
  async #alertDeadLetter(decision: Decision): Promise<void> {
    const { lane, streamId, result } = decision;
    try {
      await this.#deps.backend.publishAlert({
        v: 1,
        kind: "dead_letter",
        lane,
        stream_id: streamId,
        plan_id: result.plan_id,
        source: result.authenticated ? result.source : null,
        deliveries: decision.effects.deadLetter?.deliveries ?? null,
        error: result.error,
        timestamp: result.timestamp,
      });
    } catch (err) {
      this.#deps.observer.failed(err, "alert");
    }
  }

  /** A failed read-ahead: whatever it may have taken stays pending and is reclaimed later. */
  #readFailed(err: unknown): PreparedEntry[] {
    this.#deps.observer.failed(err, "read");
    return [];
  }

  async #process(batch: readonly PreparedEntry[]): Promise<void> {
    const { settings, observer } = this.#deps;
    const readAt = performance.now();
    let open: readonly PreparedEntry[] = batch;
    for (let attempt = 0; open.length > 0; attempt++) {
      if (attempt > settings.maxConflictRetries) {
        observer.gaveUp(open.length);
        return;
      }
      if (attempt > 0) await sleep(Math.random() * Math.min(2 ** attempt, 50));
      const now = this.#clock();
      const { decided, resolve } = await this.#decide(open, now, attempt > 0);
      // Entries whose order may already have been sent: looked up, never sent again.
      await settleAll(resolve.map((record) => this.#live.resolve(record, readAt)));
      const hasLive = decided.some((x) => x.decision.live !== undefined);
      const prepared = hasLive
        ? await this.#live.prepare(decided.map((x) => x.decision))
        : decided.map((x) => ({ decision: x.decision, prepared: undefined }));
      const decisions = prepared.map((p) => p.decision);
      const outcomes = await this.#commit(decisions);
      const seconds = (performance.now() - readAt) / 1000;
      const conflicted: PreparedEntry[] = [];
      const sends: Promise<void>[] = [];
      outcomes.forEach((outcome: CommitOutcome | undefined, i) => {
        const decision = decisions[i] as Decision;
        if (outcome?.status === "committed") {
          const order = prepared[i]?.prepared;
          if (decision.sendRecord && order) sends.push(this.#live.send(decision.sendRecord, order, readAt));
          else observer.decided(decision.result, seconds);
          if (decision.effects.deadLetter) void this.#alertDeadLetter(decision);
        } else if (outcome?.status === "duplicate") observer.duplicate(decision.lane, decision.streamId);
        else conflicted.push(decided[i]!.entry);
      });
      // A failed stage 2 leaves the entry pending with its send record: it is resolved on redelivery.
      await settleAll(sends);
      open = conflicted;
    }
  }

  /**
   * Commits a batch. When the store refuses it for what it holds (never for
   * being unreachable: that failure is rethrown and the loop backs off), the
   * decisions are committed one by one, and one the store still refuses is
   * replaced by a plain `internal_error` result for its entry, so one entry
   * can never stop the others.
   */
  async #commit(decisions: readonly Decision[]): Promise<CommitOutcome[]> {
    const { backend, observer } = this.#deps;
    try {
      return await backend.commit(decisions);
    } catch (err) {
      if (!(err instanceof CommitRefusedError)) throw err;
      observer.failed(err, "commit");
      if (decisions.length > 1) {
        const out: CommitOutcome[] = [];
        for (const d of decisions) out.push(...(await this.#commit([d])));
        return out;
      }
      const only = decisions[0]!;
      return backend.commit([internalErrorDecision({ lane: only.lane, id: only.streamId }, this.#clock())]);
    }
  }

  /**
   * Decides a batch from fresh facts. An entry with a send record is not
   * decided (its order may be live) but handed back to be resolved, even
   * past the delivery limit. On a retry every entry's send record is read
   * (another executor may have started sending it meanwhile).
   */
  async #decide(
    open: readonly PreparedEntry[],
    now: number,
    retry: boolean,
  ): Promise<{
    decided: Array<{ entry: PreparedEntry; decision: Decision }>;
    resolve: SendRecord[];
  }> {
    const { backend } = this.#deps;
    const policy = this.#deps.policy();
    const query = factsQueryFor(open, now);
    const facts = new FactsOverlay(
      await backend.readFacts(
        retry
          ? { ...query, sendRecords: open.map((p) => ({ lane: p.entry.lane, streamId: p.entry.id })) }
          : query,
      ),
    );
    const decided: Array<{ entry: PreparedEntry; decision: Decision }> = [];
    const resolve: SendRecord[] = [];
    for (const prepared of open) {
      const record =
        facts.sendRecords.size > 0
          ? facts.sendRecords.get(sendKey({ lane: prepared.entry.lane, streamId: prepared.entry.id }))
          : undefined;
      if (record) {
        resolve.push(record);
        continue;
      }
      const decision = decideEntry(prepared, policy, facts, now);
      facts.apply(decision);
      decided.push({ entry: prepared, decision });
    }
    return { decided, resolve };
  }
}

/** Waits for every promise; then rethrows the first failure, if any. */
async function settleAll(promises: readonly Promise<void>[]): Promise<void> {
  if (promises.length === 0) return;
  const settled = await Promise.allSettled(promises);
  for (const s of settled) if (s.status === "rejected") throw s.reason;
}
