import { dailyKey } from "./dailyNotional.js";
import type { Decision } from "./decision.js";
import { applyToExposure, type BatchExposure, batchExposure, exposureTouches } from "./exposure.js";
import { type Facts, positionKey, rateKey } from "./facts.js";
import type { OpenRecord } from "./openRecord.js";
import { encodeWorkingOrder, type StoredWorkingOrder } from "./workingOrder.js";

/**
 * A private, writable copy of a batch's facts. Each decision's writes are
 * applied to it before the next entry is decided, so a batch decides as if
 * its entries were committed one by one.
 */
export class FactsOverlay implements Facts {
  tradingState: Facts["tradingState"];
  readonly claimedPlanIds: Set<string>;
  readonly usedPermitIds: Set<string>;
  readonly rateCounts: Map<string, number>;
  readonly positions: Map<string, string>;
  readonly sendRecords: ReadonlyMap<string, OpenRecord>;
  readonly workingOrders: Map<string, StoredWorkingOrder>;
  readonly duplicates: Map<string, string>;
  readonly dailyNotional: Map<string, string>;
  readonly openOrders: Map<string, number>;
  readonly exposure: Map<string, BatchExposure>;

  constructor(facts: Facts) {
    this.tradingState = facts.tradingState;
    this.claimedPlanIds = new Set(facts.claimedPlanIds);
    this.usedPermitIds = new Set(facts.usedPermitIds);
    this.rateCounts = new Map(facts.rateCounts);
    this.positions = new Map(facts.positions);
    this.sendRecords = facts.sendRecords;
    this.workingOrders = new Map(facts.workingOrders);
    this.duplicates = new Map(facts.duplicates);
    this.dailyNotional = new Map(facts.dailyNotional);
    this.openOrders = new Map(facts.openOrders);
    this.exposure = new Map([...facts.exposure].map(([a, x]) => [a, batchExposure(x)]));
  }

  /** Applies a decision's writes, as its commit will. */
  apply(decision: Decision): void {
    const { effects, live } = decision;
    if (this.exposure.size > 0)
      for (const account of exposureTouches(decision)) {
        const x = this.exposure.get(account);
        if (x) applyToExposure(x, decision);
      }
    if (effects.claimPlanId !== undefined) this.claimedPlanIds.add(effects.claimPlanId);
    if (effects.consumePermit !== undefined) this.usedPermitIds.add(effects.consumePermit);
    if (effects.countRate) {
      const key = rateKey(effects.countRate);
      this.rateCounts.set(key, (this.rateCounts.get(key) ?? 0) + 1);
    }
    if (effects.setPosition) {
      const key = positionKey(effects.setPosition);
      if (effects.setPosition.value === "0") this.positions.delete(key);
      else this.positions.set(key, effects.setPosition.value);
    }
    if (effects.openOrder) {
      const order = effects.openOrder;
      this.workingOrders.set(order.key, { order, text: encodeWorkingOrder(order) });
    }
    // Open orders counted for an account asked for: one more per order opened or sent, one less per order closed.
    const opened = effects.openOrder?.account ?? live?.order.account;
    if (opened !== undefined) this.countOpen(opened, 1);
    for (const key of effects.closeOrders ?? []) {
      const closed = this.workingOrders.get(key);
      if (closed) this.countOpen(closed.order.account, -1);
      this.workingOrders.delete(key);
    }
    if (effects.markDuplicate)
      this.duplicates.set(effects.markDuplicate.key, String(effects.markDuplicate.at));
    if (effects.setDailyNotional)
      this.dailyNotional.set(dailyKey(effects.setDailyNotional), effects.setDailyNotional.value);
  }

  private countOpen(account: string, delta: number): void {
    const count = this.openOrders.get(account);
    if (count !== undefined) this.openOrders.set(account, Math.max(0, count + delta));
  }
}
