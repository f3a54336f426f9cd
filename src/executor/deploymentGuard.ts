import type { DeploymentStore } from "../ports/deployment.js";

/** Where the executor stands with the deployment marker (wire-v1 §7b). */
export type DeploymentStatus =
  /** Deciding under marker `id`. */
  | { readonly state: "ok"; readonly id: string }
  /** No marker since the start: waiting for `intentgate init`. */
  | { readonly state: "waiting" }
  /** The marker it decided under (`expected`) is gone (`found` undefined) or changed: waiting for `intentgate init`. */
  | { readonly state: "lost"; readonly expected: string; readonly found: string | undefined };

/** What the guard reports, once per change. */
export interface DeploymentObserver {
  /** Started without a marker: nothing is decided until `intentgate init`. */
  waiting(): void;
  /** Deciding under `id` (`how`: found at start, or created by an `init` after a loss). */
  adopted(id: string, how: "start" | "init"): void;
  /** The marker decided under is gone or changed: nothing is decided until `intentgate init`. */
  lost(expected: string, found: string | undefined): void;
}

/**
 * Keeps the executor deciding only under the deployment marker it started
 * with (wire-v1 §7b). With no marker at start it waits for one. Once a
 * marker it decided under is gone or changed it stops, and resumes only
 * under a marker created after the loss was seen: one that is neither the
 * lost one nor the one found in its place (an operator's `intentgate init`,
 * or `init --force` when another marker took its place). It never creates a
 * marker, a group, a state or a claim itself.
 */
export class DeploymentGuard {
  readonly #store: DeploymentStore;
  readonly #observer: DeploymentObserver;
  readonly #clock: () => number;
  readonly #intervalMs: number;
  #status: DeploymentStatus = { state: "waiting" };
  #checkedAt = Number.NEGATIVE_INFINITY;
  #reportedWaiting = false;

  constructor(deps: {
    store: DeploymentStore;
    observer: DeploymentObserver;
    clock: () => number;
    /** How often the marker is read while deciding (each commit checks it atomically anyway). */
    intervalMs: number;
  }) {
    this.#store = deps.store;
    this.#observer = deps.observer;
    this.#clock = deps.clock;
    this.#intervalMs = deps.intervalMs;
  }

  get status(): DeploymentStatus {
    return this.#status;
  }

  /** Makes the next {@link ready} read the marker (a commit found it changed, a read failed). */
  suspect(): void {
    this.#checkedAt = Number.NEGATIVE_INFINITY;
  }

  /**
   * Whether the executor may decide now. Reads the marker when due (every
   * interval, at once after {@link suspect}, always while not deciding). A
   * read that fails (bus unreachable) throws, and the caller backs off.
   */
  async ready(): Promise<boolean> {
    const now = this.#clock();
    if (this.#status.state === "ok" && now - this.#checkedAt < this.#intervalMs) return true;
    const found = await this.#store.readDeployment();
    this.#checkedAt = this.#clock();
    const s = this.#status;
    if (s.state === "ok") {
      if (found === s.id) return true;
      this.#status = { state: "lost", expected: s.id, found };
      this.#observer.lost(s.id, found);
      return false;
    }
    if (s.state === "waiting") {
      if (found === undefined) {
        if (!this.#reportedWaiting) this.#observer.waiting();
        this.#reportedWaiting = true;
        return false;
      }
      return this.#adopt(found, "start");
    }
    if (found === undefined || found === s.expected || found === s.found) return false;
    return this.#adopt(found, "init");
  }

  #adopt(id: string, how: "start" | "init"): true {
    this.#store.bindDeployment(id);
    this.#status = { state: "ok", id };
    this.#observer.adopted(id, how);
    return true;
  }
}
