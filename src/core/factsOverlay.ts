import type { Decision } from "./decision.js";
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

  constructor(facts: Facts) {
    this.tradingState = facts.tradingState;
    this.claimedPlanIds = new Set(facts.claimedPlanIds);
    this.usedPermitIds = new Set(facts.usedPermitIds);
    this.rateCounts = new Map(facts.rateCounts);
    this.positions = new Map(facts.positions);
    this.sendRecords = facts.sendRecords;
    this.workingOrders = new Map(facts.workingOrders);
    this.duplicates = new Map(facts.duplicates);
  }

  /** Applies a decision's writes, as its commit will. */
  apply({ effects }: Decision): void {
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
    for (const key of effects.closeOrders ?? []) this.workingOrders.delete(key);
    if (effects.markDuplicate)
      this.duplicates.set(effects.markDuplicate.key, String(effects.markDuplicate.at));
  }
}
