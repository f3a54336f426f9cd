import type { TradingState } from "../core/plan.js";

/**
 * The deployment marker (wire-v1 §7b): `<prefix>deployment` holds the id of
 * the deployment the bus holds. It is created only by an explicit step
 * (`intentgate init`, or the executor creating a new embedded bus file), so
 * a store that lost its data (a Redis restarted without persistence, a
 * FLUSHALL, a failover to an empty replica, a deleted or replaced SQLite
 * file) is never taken for a new deployment.
 *
 * Contract every adapter keeps: once a handle is bound to a marker
 * ({@link DeploymentStore.bindDeployment}), every ledger write
 * (`Ledger.commit`, `finishSend`, `reconcile`) happens only while the store
 * holds that same marker, checked inside the same atomic step: a commit
 * reports every decision `conflict` on `deployment` and writes nothing;
 * `finishSend` / `reconcile` throw {@link DeploymentMismatchError}. An
 * unbound handle refuses ledger writes. Nothing ever recreates the consumer
 * group, the trading state or the claims except
 * {@link DeploymentStore.initDeployment}.
 */
export interface DeploymentStore {
  /** The marker's id, or `undefined` when the store holds none (or the SQLite file is gone). */
  readDeployment(): Promise<string | undefined>;
  /**
   * Creates a deployment in one atomic step: a new marker, the consumer group
   * on both plan streams (from id 0: plans already waiting are read), and the
   * trading state, logged with `who`. Refuses with
   * {@link DeploymentExistsError} when a marker exists, unless `replace`.
   * Claims and positions already in the store are kept. Binds this handle
   * to the new marker and returns its id.
   */
  initDeployment(opts: InitDeploymentOptions): Promise<string>;
  /** Binds this handle to marker `id`: ledger writes happen only while the store holds it. */
  bindDeployment(id: string): void;
}

/** Options of {@link DeploymentStore.initDeployment}. */
export interface InitDeploymentOptions {
  /** The trading state the deployment starts in (`intentgate init` defaults to `HALTED`). */
  readonly state: TradingState;
  /** Who creates it, for the state log. */
  readonly who: string;
  /** Replace an existing marker (only after a data loss the operator has looked at). */
  readonly replace?: boolean;
}

/** `initDeployment` found a marker and was not asked to replace it. */
export class DeploymentExistsError extends Error {
  override readonly name = "DeploymentExistsError";
  constructor(readonly existing: string) {
    super(`a deployment exists (${existing}); pass replace (intentgate init --force) only after a data loss`);
  }
}

/** A ledger write found another marker (or none) than the one the handle is bound to; nothing was written. */
export class DeploymentMismatchError extends Error {
  override readonly name = "DeploymentMismatchError";
}
