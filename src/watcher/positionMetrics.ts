import { Counter, Gauge, type Registry } from "prom-client";
import type { TradingState } from "../core/plan.js";
import type { PositionSlot } from "../core/positionWatch/index.js";
import type { PositionsOutcome } from "../ports/venue.js";
import type { PositionSource } from "./positionWatch.js";

/** The position watcher's metrics, on one registry. */
export interface PositionMetrics {
  read(source: PositionSource, outcome: PositionsOutcome, at: number): void;
  unexplained(slot: PositionSlot, qty: string): void;
  stateChanged(state: TradingState): void;
}

/**
 * Registers the position watcher's metrics on `registry`: reads per venue
 * and account (`ok`/`failed`), the time of the last good read, the position
 * no decision explains per symbol, and drift's trading-state changes. The
 * account label of the paper ledger is `*` (one read covers every account).
 */
export function createPositionMetrics(registry: Registry): PositionMetrics {
  const reads = new Counter({
    name: "intentgate_watch_position_reads_total",
    help: "Position reads by venue, account and outcome (ok, failed).",
    labelNames: ["venue", "account", "outcome"] as const,
    registers: [registry],
  });
  const lastRead = new Gauge({
    name: "intentgate_watch_position_last_read_seconds",
    help: "Unix time of the last successful position read, by venue and account.",
    labelNames: ["venue", "account"] as const,
    registers: [registry],
  });
  const drift = new Gauge({
    name: "intentgate_watch_position_unexplained",
    help: "Position no IntentGate decision explains (venue position − explained − position at the first reading), by venue, account and symbol.",
    labelNames: ["venue", "account", "symbol"] as const,
    registers: [registry],
  });
  const changes = new Counter({
    name: "intentgate_watch_state_changes_total",
    help: "Trading-state changes made by the watcher because of drift, by state.",
    labelNames: ["state"] as const,
    registers: [registry],
  });
  return {
    read(source, outcome, at) {
      const labels = { venue: source.book, account: source.account ?? "*" };
      reads.inc({ ...labels, outcome: outcome.ok ? "ok" : "failed" });
      if (outcome.ok) lastRead.set(labels, at / 1000);
    },
    unexplained(slot, qty) {
      drift.set({ venue: slot.book, account: slot.account, symbol: slot.symbol }, Number(qty));
    },
    stateChanged(state) {
      changes.inc({ state });
    },
  };
}
