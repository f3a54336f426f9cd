import type { BusConnectionEvent, PlanBus } from "./bus.js";
import type { BusClock } from "./busClock.js";
import type { BusEviction } from "./busEviction.js";
import type { DeploymentStore } from "./deployment.js";
import type { Ledger } from "./ledger.js";

/**
 * A bus backend provides the bus, the ledger and the deployment marker,
 * because a decision's commit must acknowledge the entry in the same atomic
 * step as its ledger writes, while the marker it was bound to is there.
 */
export interface Backend extends PlanBus, Ledger, DeploymentStore, BusClock, BusEviction {
  /** `sqlite` or `redis`. */
  readonly kind: "sqlite" | "redis";
}

/** Where a backend keeps its keys (wire-v1 §1), and what it may create. */
export interface BackendOptions {
  /** `sqlite:<path>` or `redis://…` / `rediss://…`. */
  readonly url: string;
  /** Key prefix, default `intentgate:`. */
  readonly prefix: string;
  /**
   * What opening may create (the embedded bus only; Redis ignores it):
   * `none` (default: a missing file is an error, so a producer started
   * elsewhere never writes to a bus nobody reads), `file` (create the file
   * and its schema), `deployment` (create the file, and when this call
   * created it, a new deployment in it with state `ACTIVE`: the executor
   * starting on a new embedded bus, wire-v1 §7b).
   */
  readonly create?: "none" | "file" | "deployment";
  /** Told once per change of the bus connection (Redis: lost with its cause, restored). */
  readonly onConnection?: (event: BusConnectionEvent) => void;
}
