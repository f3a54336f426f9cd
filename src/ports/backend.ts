import type { PlanBus } from "./bus.js";
import type { Ledger } from "./ledger.js";

/**
 * A bus backend provides both the bus and the ledger, because a decision's
 * commit must acknowledge the entry in the same atomic step as its ledger
 * writes.
 */
export interface Backend extends PlanBus, Ledger {
  /** `sqlite` or `redis`. */
  readonly kind: "sqlite" | "redis";
}

/** Where a backend keeps its keys (wire-v1 §1). */
export interface BackendOptions {
  /** `sqlite:<path>` or `redis://…` / `rediss://…`. */
  readonly url: string;
  /** Key prefix, default `intentgate:`. */
  readonly prefix: string;
}
