import { Redis } from "ioredis";
import type { CommitOutcome, Decision } from "../../core/decision.js";
import type { EntryRef, Facts, FactsQuery } from "../../core/facts.js";
import type { OpenRecord } from "../../core/openRecord.js";
import type { Lane, TradingState, VenueName } from "../../core/plan.js";
import { redactUrl } from "../../core/redactUrl.js";
import type { PlanResult } from "../../core/result.js";
import type { WorkingOrder } from "../../core/workingOrder.js";
import type { Backend, BackendOptions } from "../../ports/backend.js";
import type { BusEntry, ResultEntry } from "../../ports/bus.js";
import type { InitDeploymentOptions } from "../../ports/deployment.js";
import type {
  LeaseRequest,
  LedgerPosition,
  LiveFinish,
  LiveFinishOutcome,
  OrderEventEntry,
  OrderUpdate,
  TradingStateChange,
} from "../../ports/ledger.js";
import { errorCause, watchConnection } from "./connectionWatch.js";
import { defineScripts } from "./luaScripts.js";
import { RedisBus } from "./redisBus.js";
import { RedisDeployment } from "./redisDeployment.js";
import { type RedisKeys, redisKeys } from "./redisKeys.js";
import { RedisLedger } from "./redisLedger.js";

/**
 * Opens the Redis Streams backend (wire-v1 §1, docs/architecture.md "Redis
 * layout"). Three connections: one for commands and commits, and two created
 * on first use for blocking reads (plans, results), so a blocked read never
 * delays a commit. Connects before returning, so a wrong URL fails here.
 */
export async function openRedisBackend(opts: BackendOptions): Promise<Backend> {
  const main = new Redis(opts.url, {
    lazyConnect: true,
    protocol: 2,
    connectionName: "intentgate",
    // Reconnect at most once a second while Redis is away; commands fail after a few attempts.
    retryStrategy: (times) => Math.min(times * 100, 1000),
  });
  // ioredis reconnects by itself; failed commands reject their own promises.
  const watch = watchConnection(opts.onConnection);
  main.on("error", watch.error);
  main.on("close", watch.close);
  main.on("ready", watch.ready);
  defineScripts(main);
  try {
    await main.connect();
  } catch (err) {
    watch.stop();
    main.disconnect();
    // connect() rejects with "Connection is closed."; the socket's own error says why.
    const cause = watch.lastError ?? err;
    throw new Error(`redis: cannot connect to ${redactUrl(opts.url)}: ${errorCause(cause)}`, { cause });
  }
  return new RedisBackend(main, redisKeys(opts.prefix), watch.stop);
}

/**
 * The Redis {@link Backend}: the bus, the ledger and the deployment marker
 * composed over one command connection, which only this object closes. The
 * ledger's commit takes the bus's last consumer as its pending-check hint.
 */
class RedisBackend implements Backend {
  readonly kind = "redis" as const;
  private readonly bus: RedisBus;
  private readonly ledger: RedisLedger;
  private readonly deployment: RedisDeployment;
  private closed = false;

  constructor(
    private readonly main: Redis,
    keys: RedisKeys,
    private readonly stopWatching: () => void,
  ) {
    const bus = new RedisBus(main, keys);
    const deployment = new RedisDeployment(main, keys);
    this.bus = bus;
    this.deployment = deployment;
    this.ledger = new RedisLedger({ conn: main, keys, deployment, consumerHint: () => bus.lastConsumer });
  }

  // ---- PlanBus (redisBus.ts)

  ensureGroups(): Promise<void> {
    return this.bus.ensureGroups();
  }
  readNew(consumer: string, count: number, blockMs: number): Promise<BusEntry[]> {
    return this.bus.readNew(consumer, count, blockMs);
  }
  reclaim(consumer: string, minIdleMs: number, count: number): Promise<BusEntry[]> {
    return this.bus.reclaim(consumer, minIdleMs, count);
  }
  publish(lane: Lane, fields: ReadonlyArray<readonly [string, string | Buffer]>): Promise<string> {
    return this.bus.publish(lane, fields);
  }
  lastResultId(): Promise<string> {
    return this.bus.lastResultId();
  }

  readResults(afterId: string, count: number, blockMs?: number): Promise<ResultEntry[]> {
    return this.bus.readResults(afterId, count, blockMs);
  }
  publishAlert(alert: Record<string, unknown>): Promise<string> {
    return this.bus.publishAlert(alert);
  }
  pendingCount(): Promise<number> {
    return this.bus.pendingCount();
  }
  dlqLength(): Promise<number> {
    return this.bus.dlqLength();
  }

  // ---- DeploymentStore (redisDeployment.ts)

  readDeployment(): Promise<string | undefined> {
    return this.deployment.readDeployment();
  }
  initDeployment(opts: InitDeploymentOptions): Promise<string> {
    return this.deployment.initDeployment(opts);
  }
  busTime(): Promise<number> {
    return this.deployment.busTime();
  }
  evictionPolicy(): Promise<string> {
    return this.deployment.evictionPolicy();
  }
  bindDeployment(id: string): void {
    this.deployment.bindDeployment(id);
  }

  // ---- Ledger (redisLedger.ts)

  readFacts(query: FactsQuery): Promise<Facts> {
    return this.ledger.readFacts(query);
  }
  commit(decisions: readonly Decision[]): Promise<CommitOutcome[]> {
    return this.ledger.commit(decisions);
  }
  getTradingState(): Promise<TradingState> {
    return this.ledger.getTradingState();
  }
  setTradingState(state: TradingState, who: string): Promise<void> {
    return this.ledger.setTradingState(state, who);
  }
  tradingStateLog(): Promise<TradingStateChange[]> {
    return this.ledger.tradingStateLog();
  }
  positions(): Promise<LedgerPosition[]> {
    return this.ledger.positions();
  }
  holdLease(lease: LeaseRequest): Promise<boolean> {
    return this.ledger.holdLease(lease);
  }
  finishSend(record: OpenRecord, result: PlanResult, finish?: LiveFinish): Promise<LiveFinishOutcome> {
    return this.ledger.finishSend(record, result, finish);
  }
  reconcile(entry: EntryRef, result: PlanResult, finish?: LiveFinish): Promise<LiveFinishOutcome> {
    return this.ledger.reconcile(entry, result, finish);
  }
  openUnknowns(venue?: VenueName): Promise<OpenRecord[]> {
    return this.ledger.openUnknowns(venue);
  }
  sendsInFlight(): Promise<OpenRecord[]> {
    return this.ledger.sendsInFlight();
  }

  workingOrders(venue?: VenueName): Promise<WorkingOrder[]> {
    return this.ledger.workingOrders(venue);
  }
  updateOrders(updates: readonly OrderUpdate[]): Promise<("applied" | "conflict")[]> {
    return this.ledger.updateOrders(updates);
  }
  lastOrderEventId(): Promise<string> {
    return this.ledger.lastOrderEventId();
  }
  readOrderEvents(afterId: string, count: number): Promise<OrderEventEntry[]> {
    return this.ledger.readOrderEvents(afterId, count);
  }

  // ---- lifecycle

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopWatching();
    await this.bus.close();
    try {
      await this.main.quit();
    } catch {
      this.main.disconnect();
    }
  }
}
