import { setTimeout as sleep } from "node:timers/promises";
import {
  type ClassifiedEntry,
  classifyEntry,
  decideEntry,
  factsQueryFor,
  internalErrorDecision,
} from "../core/decide.js";
import type { CommitOutcome, Decision } from "../core/decision.js";
import { FactsOverlay } from "../core/factsOverlay.js";
import { sendKey } from "../core/liveOrder.js";
import { isCancelRecord, type OpenRecord } from "../core/openRecord.js";
import type { VenueName } from "../core/plan.js";
import type { Policy } from "../core/policy.js";
import type { PlanResult } from "../core/result.js";
import type { Backend } from "../ports/backend.js";
import type { BusEntry } from "../ports/bus.js";
import { CommitRefusedError } from "../ports/ledger.js";
import type { Venue } from "../ports/venue.js";
import { BusClockGuard, type BusClockStatus } from "./busClockGuard.js";
import { BusEvictionGuard, type BusEvictionStatus } from "./busEvictionGuard.js";
import { DeploymentGuard, type DeploymentStatus } from "./deploymentGuard.js";
import { LiveCancels } from "./liveCancels.js";
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
  /** The most the executor's clock may differ from the bus's before it stops deciding (`BusClockGuard`). */
  readonly maxBusClockSkewMs: number;
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
  /** No deployment marker since the start: nothing is decided until `intentgate init`. */
  deploymentWaiting?(): void;
  /** Deciding under this deployment marker. */
  deploymentAdopted?(id: string, how: "start" | "init"): void;
  /** The marker decided under is gone or changed (a data loss): nothing is decided until `intentgate init`. */
  deploymentLost?(expected: string, found: string | undefined): void;
  /** The executor's clock is off from the bus's by at least `offsetMs` (positive: ahead): nothing is decided. */
  busClockSkewed?(offsetMs: number, toleranceMs: number): void;
  /** The clocks agree again (within `offsetMs`): deciding resumes. */
  busClockAgreed?(offsetMs: number): void;
  /** The bus may evict keys (Redis `maxmemory-policy` `policy`): nothing is decided. */
  busEvicting?(policy: string): void;
  /** The bus keeps its keys again: deciding resumes. */
  busKeepsKeys?(policy: string): void;
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
  /** How often the deployment marker is read while deciding (default 1000 ms; every commit checks it too). */
  readonly deploymentCheckMs?: number;
}

/** Pause between looks at the bus while no deployment marker can be decided under. */
const NOT_DEPLOYED_WAIT_MS = 500;

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
  readonly #cancels: LiveCancels;
  readonly #guard: DeploymentGuard;
  readonly #busClock: BusClockGuard;
  readonly #busEviction: BusEvictionGuard;
  #lastReclaim = 0;
  #turnAt: number | undefined;
  /** The last deployment loss seen, re-alerted into the deployment an `init` creates after it. */
  #loss: { readonly expected: string; readonly found: string | null } | undefined;

  constructor(deps: ExecutorDeps) {
    this.#deps = deps;
    this.#clock = deps.clock ?? Date.now;
    this.#guard = new DeploymentGuard({
      store: deps.backend,
      clock: this.#clock,
      intervalMs: deps.deploymentCheckMs ?? 1000,
      observer: {
        waiting: () => deps.observer.deploymentWaiting?.(),
        adopted: (id, how) => {
          deps.observer.deploymentAdopted?.(id, how);
          // The alert sent at the loss went to the store that lost its data (or, on the embedded
          // bus, to the deleted file): the new deployment gets it too, under the same dedup_key.
          if (how === "init" && this.#loss) void this.#alertLoss({ ...this.#loss, deployment: id });
        },
        lost: (expected, found) => {
          deps.observer.deploymentLost?.(expected, found);
          this.#loss = { expected, found: found ?? null };
          void this.#alertLoss(this.#loss);
        },
      },
    });
    this.#busClock = new BusClockGuard({
      bus: deps.backend,
      clock: this.#clock,
      toleranceMs: deps.settings.maxBusClockSkewMs,
      intervalMs: deps.deploymentCheckMs ?? 1000,
      observer: {
        skewed: (offsetMs, toleranceMs) => {
          deps.observer.busClockSkewed?.(offsetMs, toleranceMs);
          void this.#alert({
            kind: "clock_skew",
            severity: "critical",
            dedup_key: `clock_skew:${deps.consumer}`,
            consumer: deps.consumer,
            offset_ms: offsetMs,
            tolerance_ms: toleranceMs,
          });
        },
        agreed: (offsetMs) => deps.observer.busClockAgreed?.(offsetMs),
      },
    });
    this.#busEviction = new BusEvictionGuard({
      bus: deps.backend,
      clock: this.#clock,
      intervalMs: deps.deploymentCheckMs ?? 1000,
      observer: {
        evicting: (policy) => {
          deps.observer.busEvicting?.(policy);
          void this.#alert({
            kind: "bus_eviction",
            severity: "critical",
            dedup_key: `bus_eviction:${deps.consumer}`,
            consumer: deps.consumer,
            policy,
          });
        },
        kept: (policy) => deps.observer.busKeepsKeys?.(policy),
      },
    });
    this.#cancels = new LiveCancels({
      venues: deps.venues ?? (() => NO_VENUES),
      ledger: deps.backend,
      observer: deps.observer,
      clock: this.#clock,
    });
    this.#live = new LiveOrders({
      venues: deps.venues ?? (() => NO_VENUES),
      ledger: deps.backend,
      observer: deps.observer,
      clock: this.#clock,
      cancels: this.#cancels,
    });
  }

  /**
   * One reconciliation pass over the open UNKNOWNs (of one venue, when
   * given): each the venue can answer for gets its `reconciled: true`
   * follow-up. Returns how many stay open.
   */
  reconcileOpen(venue?: VenueName): Promise<number> {
    // Outside a deployment nothing may be written: the UNKNOWNs stay open (and the venue not ready).
    if (this.#guard.status.state !== "ok") return Promise.resolve(Number.POSITIVE_INFINITY);
    return this.#live.reconcileOpen(venue);
  }

  /** When {@link run}'s loop last went round (for `/healthz`); undefined when it is not running. */
  get lastTurnAt(): number | undefined {
    return this.#turnAt;
  }

  /** Where the executor stands with the deployment marker (for `/readyz`). */
  get deployment(): DeploymentStatus {
    return this.#guard.status;
  }

  /** Where the executor's clock stands against the bus's (for `/readyz`). */
  get busClock(): BusClockStatus {
    return this.#busClock.status;
  }

  /** Where the bus stands on evicting keys (for `/readyz`). */
  get busEviction(): BusEvictionStatus {
    return this.#busEviction.status;
  }

  /**
   * Whether deciding is allowed: under the deployment marker, with a clock
   * that agrees with the bus's, on a bus that never evicts keys.
   */
  async #mayDecide(): Promise<boolean> {
    return (await this.#guard.ready()) && (await this.#busClock.ready()) && (await this.#busEviction.ready());
  }

  /** Reads the deployment marker now; true when deciding is allowed. A bus failure is reported, not thrown. */
  async checkDeployment(): Promise<boolean> {
    this.#guard.suspect();
    try {
      return await this.#guard.ready();
    } catch (err) {
      this.#deps.observer.failed(err, "deployment");
      return false;
    }
  }

  /**
   * Runs until `signal` aborts, then returns once every batch in hand is
   * committed. The next batch is read (and parsed and authenticated) while the
   * current one commits; it is decided only after that commit, from fresh
   * facts, so the overlap never decides on stale state.
   */
  async run(signal: AbortSignal): Promise<void> {
    let backoffMs = 50;
    let prefetched: Promise<ClassifiedEntry[]> | undefined;
    while (!signal.aborted || prefetched) {
      this.#turnAt = this.#clock();
      try {
        if (!(await this.#mayDecide())) {
          // Not deployed (or the deployment was lost), or the clock disagrees with the bus's: decide
          // nothing. Whatever a read-ahead took stays pending and is reclaimed once deciding is allowed.
          prefetched = undefined;
          if (signal.aborted) break;
          await sleep(NOT_DEPLOYED_WAIT_MS, undefined, { signal }).catch(() => undefined);
          continue;
        }
        const batch = prefetched ? await prefetched : await this.#fetch();
        prefetched = undefined;
        if (batch.length === 0) continue;
        if (!signal.aborted) prefetched = this.#fetch().catch((err) => this.#readFailed(err));
        await this.#process(batch);
        backoffMs = 50;
      } catch (err) {
        this.#deps.observer.failed(err, "step");
        // A failure may be the deployment going away (a wiped Redis: NOGROUP): look again first.
        this.#guard.suspect();
        await sleep(backoffMs, undefined, { signal }).catch(() => undefined);
        backoffMs = Math.min(backoffMs * 2, 5000);
      }
    }
    this.#turnAt = undefined;
  }

  /** One iteration without overlap: reclaim idle entries when due, else read new ones, and process them. Returns how many were handled. */
  async step(): Promise<number> {
    if (!(await this.#mayDecide())) return 0;
    const batch = await this.#fetch();
    if (batch.length > 0) await this.#process(batch);
    return batch.length;
  }

  /** Decides and commits a batch of entries this consumer holds. */
  process(entries: readonly BusEntry[]): Promise<void> {
    return this.#process(this.#classify(entries));
  }

  /** Gate 1 for each entry; an entry at the delivery limit is set aside unparsed. Never throws. */
  #classify(entries: readonly BusEntry[]): ClassifiedEntry[] {
    const opts = { maxDeliveries: this.#deps.settings.maxDeliveries };
    return entries.map((entry) => classifyEntry(entry, opts));
  }

  /** Reclaims idle entries when due (they come first), else reads new ones; runs gate 1 on them. */
  async #fetch(): Promise<ClassifiedEntry[]> {
    const { backend, settings, consumer } = this.#deps;
    const now = this.#clock();
    if (now - this.#lastReclaim >= Math.max(settings.claimIdleMs / 2, 1)) {
      this.#lastReclaim = now;
      const reclaimed = await backend.reclaim(consumer, settings.claimIdleMs, settings.batchSize);
      if (reclaimed.length > 0) return this.#classify(reclaimed);
    }
    return this.#classify(await backend.readNew(consumer, settings.batchSize, settings.blockMs));
  }

  /**
   * Alerts on the alert stream for an entry that went to the DLQ (wire-v1 §1:
   * the DLQ should stay empty, and each entry in it is alerted). Sent after
   * the commit: a lost alert never loses the entry, which is in the DLQ.
   */
  #alertDeadLetter(decision: Decision): Promise<void> {
    const { lane, streamId, result } = decision;
    return this.#alert({
      kind: "dead_letter",
      severity: "warning",
      dedup_key: `dead_letter:${lane}:${streamId}`,
      lane,
      stream_id: streamId,
      plan_id: result.plan_id,
      source: result.authenticated ? result.source : null,
      deliveries: decision.effects.deadLetter?.deliveries ?? null,
      error: result.error,
      timestamp: result.timestamp,
    });
  }

  /** `deployment_lost` (wire-v1 §1a, §7b). */
  #alertLoss(fields: { expected: string; found: string | null; deployment?: string }): Promise<void> {
    return this.#alert({
      kind: "deployment_lost",
      severity: "critical",
      dedup_key: `deployment_lost:${fields.expected}`,
      consumer: this.#deps.consumer,
      ...fields,
    });
  }

  /** Appends an alert (wire-v1 §1a); a failure to send it is reported, never thrown. */
  async #alert(
    fields: { kind: string; severity: "info" | "warning" | "critical"; dedup_key: string } & Record<
      string,
      unknown
    >,
  ): Promise<void> {
    try {
      await this.#deps.backend.publishAlert({ v: 1, timestamp: this.#clock(), ...fields });
    } catch (err) {
      this.#deps.observer.failed(err, "alert");
    }
  }

  /** A failed read-ahead: whatever it may have taken stays pending and is reclaimed later. */
  #readFailed(err: unknown): ClassifiedEntry[] {
    this.#deps.observer.failed(err, "read");
    return [];
  }

  async #process(batch: readonly ClassifiedEntry[]): Promise<void> {
    const { settings, observer } = this.#deps;
    const readAt = performance.now();
    let open: readonly ClassifiedEntry[] = batch;
    for (let attempt = 0; open.length > 0; attempt++) {
      if (attempt > settings.maxConflictRetries) {
        observer.gaveUp(open.length);
        return;
      }
      if (attempt > 0) await sleep(Math.random() * Math.min(2 ** attempt, 50));
      const now = this.#clock();
      const { decided: all, resolve } = await this.#decide(open, now, attempt > 0);
      // Cancels at live venues are carried out before their commit (one with an unknown answer commits its record).
      const decided = await this.#completeCancels(all);
      // Entries whose order may already have been sent: looked up, never sent again.
      await settleAll(resolve.map((record) => this.#live.resolve(record, readAt)));
      const hasLive = decided.some((x) => x.decision.live !== undefined);
      const prepared = hasLive
        ? await this.#live.prepare(decided.map((x) => x.decision))
        : decided.map((x) => ({ decision: x.decision, prepared: undefined }));
      const committed = await this.#commit(prepared.map((p) => p.decision));
      const seconds = (performance.now() - readAt) / 1000;
      const conflicted: ClassifiedEntry[] = [];
      const sends: Promise<void>[] = [];
      let deploymentGone = false;
      committed.forEach(({ decision, outcome }, i) => {
        if (outcome?.status === "conflict" && outcome.on === "deployment") deploymentGone = true;
        else if (outcome?.status === "committed") {
          const order = prepared[i]?.prepared;
          const record = decision.sendRecord;
          if (record && isCancelRecord(record)) sends.push(this.#cancels.finish(record, readAt));
          else if (record && order) sends.push(this.#live.send(record, order, readAt));
          else observer.decided(decision.result, seconds);
          if (decision.effects.deadLetter) void this.#alertDeadLetter(decision);
        } else if (outcome?.status === "duplicate") observer.duplicate(decision.lane, decision.streamId);
        else conflicted.push(decided[i]!.entry);
      });
      // A failed stage 2 leaves the entry pending with its send record: it is resolved on redelivery.
      await settleAll(sends);
      if (deploymentGone) {
        // The marker is not the one decided under: nothing was written; stop and look (wire-v1 §7b).
        this.#guard.suspect();
        return;
      }
      open = conflicted;
    }
  }

  async #completeCancels(
    decided: Array<{ entry: ClassifiedEntry; decision: Decision }>,
  ): Promise<Array<{ entry: ClassifiedEntry; decision: Decision }>> {
    if (!decided.some((x) => x.decision.liveCancel !== undefined)) return decided;
    const completed = await this.#cancels.complete(decided.map((x) => x.decision));
    return decided.map((x, i) => ({ entry: x.entry, decision: completed[i] as Decision }));
  }

  /**
   * Commits a batch; returns, in order, each decision that was committed (or
   * tried) with its outcome. When the store refuses the batch for what it
   * holds (never for being unreachable: that failure is rethrown and the loop
   * backs off), the decisions are committed one by one, and one the store
   * still refuses is replaced by a plain `internal_error` result for its
   * entry, so one entry can never stop the others.
   */
  async #commit(
    decisions: readonly Decision[],
  ): Promise<Array<{ decision: Decision; outcome: CommitOutcome }>> {
    const { backend, observer } = this.#deps;
    try {
      const outcomes = await backend.commit(decisions);
      return decisions.map((decision, i) => ({ decision, outcome: outcomes[i]! }));
    } catch (err) {
      if (!(err instanceof CommitRefusedError)) throw err;
      observer.failed(err, "commit");
      if (decisions.length > 1) {
        const out: Array<{ decision: Decision; outcome: CommitOutcome }> = [];
        for (const d of decisions) out.push(...(await this.#commit([d])));
        return out;
      }
      const only = decisions[0]!;
      const substitute = internalErrorDecision({ lane: only.lane, id: only.streamId }, this.#clock());
      const [outcome] = await backend.commit([substitute]);
      return [{ decision: substitute, outcome: outcome! }];
    }
  }

  /**
   * Decides a batch from fresh facts. An entry with a send record is not
   * decided (its order may be live) but handed back to be resolved, even
   * past the delivery limit. On a retry every entry's send record is read
   * (another executor may have started sending it meanwhile).
   */
  async #decide(
    open: readonly ClassifiedEntry[],
    now: number,
    retry: boolean,
  ): Promise<{
    decided: Array<{ entry: ClassifiedEntry; decision: Decision }>;
    resolve: OpenRecord[];
  }> {
    const { backend } = this.#deps;
    const policy = this.#deps.policy();
    const query = factsQueryFor(open, now, { limits: policy.limits });
    const facts = new FactsOverlay(
      await backend.readFacts(
        retry
          ? { ...query, sendRecords: open.map((p) => ({ lane: p.entry.lane, streamId: p.entry.id })) }
          : query,
      ),
    );
    const decided: Array<{ entry: ClassifiedEntry; decision: Decision }> = [];
    const resolve: OpenRecord[] = [];
    for (const item of open) {
      const record =
        facts.sendRecords.size > 0
          ? facts.sendRecords.get(sendKey({ lane: item.entry.lane, streamId: item.entry.id }))
          : undefined;
      if (record) {
        resolve.push(record);
        continue;
      }
      const decision = decideEntry(item, policy, facts, now);
      facts.apply(decision);
      decided.push({ entry: item, decision });
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
