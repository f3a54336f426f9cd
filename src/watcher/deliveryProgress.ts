import type { AlertFeed } from "../ports/alertFeed.js";
import type { AlertLogger } from "./alertDeliveryOptions.js";
import { type DeliveryState, decodeState, encodeState } from "./deliveryState.js";
import { errorText } from "./errorText.js";

/**
 * The delivery progress ({@link DeliveryState}) of one deliverer, kept in
 * memory and stored on the bus under one name: loaded once, written behind
 * (one write at a time, each of the latest state; a failed write is logged
 * and done again at the next {@link flush}).
 */
export class DeliveryProgress {
  #state: DeliveryState | undefined;
  #loading: Promise<DeliveryState> | undefined;
  #dirty = false;
  #writing: Promise<void> | undefined;

  constructor(
    private readonly feed: AlertFeed,
    private readonly name: string,
    private readonly opts: {
      readonly start: "all" | "new";
      readonly sinks: readonly string[];
      readonly log: AlertLogger;
    },
  ) {}

  /** The state, once loaded. */
  get state(): DeliveryState | undefined {
    return this.#state;
  }

  /**
   * Loads the stored state (once). With none: the cursor at the stream's
   * start (`start: "all"`) or its newest entry (`"new"`, stored at once).
   * Deliveries stored for sinks no longer configured are dropped (logged).
   * Rejects on a bus failure (try again) or an unreadable state (`AlertStateError`).
   */
  load(): Promise<DeliveryState> {
    if (this.#state !== undefined) return Promise.resolve(this.#state);
    this.#loading ??= this.#read().finally(() => {
      this.#loading = undefined;
    });
    return this.#loading;
  }

  /** Notes that the state changed and must be stored. */
  changed(): void {
    this.#dirty = true;
  }

  /** Stores the state if it changed. Never rejects. */
  flush(): Promise<void> {
    this.#writing ??= this.#write().finally(() => {
      this.#writing = undefined;
    });
    return this.#writing;
  }

  async #write(): Promise<void> {
    while (this.#dirty && this.#state !== undefined) {
      this.#dirty = false;
      try {
        await this.feed.setState(this.name, encodeState(this.#state));
      } catch (err) {
        this.#dirty = true;
        this.opts.log.warn(
          { error: errorText(err) },
          "storing alert delivery progress failed; will try again",
        );
        return;
      }
    }
  }

  async #read(): Promise<DeliveryState> {
    const text = await this.feed.getState(this.name);
    let state: DeliveryState;
    if (text === undefined) {
      state = { cursor: this.opts.start === "new" ? await this.feed.lastAlertId() : "0", pending: [] };
      // A restart before the first alert must not move "now" past alerts written meanwhile.
      if (this.opts.start === "new") this.#dirty = true;
    } else {
      state = decodeState(text);
      const known = new Set(this.opts.sinks);
      for (const p of state.pending) {
        for (const sink of [...p.sinks.keys()].filter((n) => !known.has(n))) {
          p.sinks.delete(sink);
          this.#dirty = true;
          this.opts.log.warn(
            { alert_id: p.id, sink },
            "a stored delivery is for a sink no longer configured; dropped",
          );
        }
      }
      state.pending.splice(0, state.pending.length, ...state.pending.filter((p) => p.sinks.size > 0));
    }
    this.#state = state;
    return state;
  }
}
