import type { RuleAlert } from "../core/alertRules/alert.js";
import { AlertRuleEngine } from "../core/alertRules/engine.js";
import type { AlertRuleSettings } from "../core/alertRules/settings.js";
import { isRecord } from "../core/isRecord.js";
import type { AlertFeed } from "../ports/alertFeed.js";
import type { PlanBus } from "../ports/bus.js";
import { AlertStateError, parseStoredJson } from "./alertDeliveryError.js";
import { alertIdFor, unsentAlerts } from "./alertOutbox.js";
import { pause } from "./errorText.js";

/** The stored progress of a {@link RuleWatch}: one value, written in one step. */
interface RuleWatchState {
  readonly v: 1;
  /** The last result read (exclusive start of the next read). */
  readonly cursor: string;
  /** The rule engine's state after that result. */
  readonly snapshot: unknown;
  /** Alerts decided but maybe not yet appended to the alert stream. */
  readonly outbox: readonly PublishedRuleAlert[];
  /** The alert stream's newest id before the outbox was written: an outbox alert appended after it is found there. */
  readonly alertsMark: string;
}

/** A rule alert as appended: with an `alert_id` that names this one emission. */
export type PublishedRuleAlert = RuleAlert & { readonly alert_id: string };

/** What a {@link RuleWatch} needs. */
export interface RuleWatchOptions {
  readonly bus: Pick<PlanBus, "readResults" | "publishAlert" | "lastResultId">;
  /** Where its progress is stored, and the alert stream it checks after a crash. */
  readonly feed: Pick<AlertFeed, "getState" | "setState" | "readAlerts" | "lastAlertId">;
  readonly settings: AlertRuleSettings;
  /** The stored value's name (`<prefix>alert_delivery:<name>` on Redis); default `rules`. */
  readonly stateName?: string;
  /** Where a first start reads from: `all` results, or only `new` ones (default). */
  readonly start?: "all" | "new";
  readonly batchSize?: number;
  readonly clock?: () => number;
}

/**
 * Runs the alert rules (`core/alertRules`) over the result stream and
 * appends what they raise to the alert stream, so that every result is
 * counted once and every alert appended once, across restarts and crashes:
 *
 * 1. results are read after a stored cursor and fed to the engine;
 * 2. the new cursor, the engine's snapshot and the alerts raised (an
 *    *outbox*, each alert with an `alert_id`) are stored as one value;
 * 3. the outbox is appended to the alert stream, then stored empty.
 *
 * A crash before 2 re-reads the same results from the old state (nothing
 * was appended); after 2, the next start appends the outbox alerts not
 * found on the alert stream after the stored mark. Only one RuleWatch may
 * run per state name (the watcher holds a lease for it).
 */
export class RuleWatch {
  readonly #o: Required<Omit<RuleWatchOptions, "clock">> & { readonly clock: () => number };
  #state: RuleWatchState | undefined;
  #engine: AlertRuleEngine | undefined;

  constructor(opts: RuleWatchOptions) {
    this.#o = {
      stateName: "rules",
      start: "new",
      batchSize: 500,
      clock: Date.now,
      ...opts,
    };
  }

  /**
   * One pass: finishes an outbox left by a crash, reads up to `batchSize`
   * results (waiting up to `blockMs` for one), runs the rules (and their
   * timers) and appends the alerts. Returns how many results were read and
   * alerts appended. Rejects with `AlertStateError` when the stored state
   * cannot be read (never silently started afresh).
   */
  async step(blockMs = 0): Promise<{ readonly read: number; readonly alerts: number }> {
    const state = await this.#load();
    const engine = this.#engine as AlertRuleEngine;
    let alerts = state.outbox.length > 0 ? await this.#recover(state) : 0;
    const page = await this.#o.bus.readResults(this.#state!.cursor, this.#o.batchSize, blockMs);
    const raised: RuleAlert[] = [];
    let cursor = this.#state!.cursor;
    for (const { id, result } of page) {
      raised.push(...engine.observeResult(result, this.#o.clock()));
      cursor = id;
    }
    raised.push(...engine.tick(this.#o.clock()));
    if (page.length === 0 && raised.length === 0) return { read: 0, alerts };
    const outbox = raised.map((a) => ({ ...a, alert_id: alertIdFor(a) }));
    const alertsMark = outbox.length > 0 ? await this.#o.feed.lastAlertId() : this.#state!.alertsMark;
    await this.#save({ v: 1, cursor, snapshot: engine.snapshot(), outbox, alertsMark });
    alerts += await this.#flush(outbox);
    return { read: page.length, alerts };
  }

  /** Steps until `signal` aborts; a failed step is retried after `pauseMs` (a bad stored state ends it). */
  async run(
    signal: AbortSignal,
    opts: { readonly blockMs?: number; readonly pauseMs?: number } = {},
  ): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.step(opts.blockMs ?? 1000);
      } catch (err) {
        if (err instanceof AlertStateError) throw err;
        await pause(opts.pauseMs ?? 1000, signal);
      }
    }
  }

  async #load(): Promise<RuleWatchState> {
    if (this.#state) return this.#state;
    const text = await this.#o.feed.getState(this.#o.stateName);
    let state: RuleWatchState;
    if (text === undefined) {
      const cursor = this.#o.start === "all" ? "0" : await this.#o.bus.lastResultId();
      state = { v: 1, cursor, snapshot: undefined, outbox: [], alertsMark: "0" };
      this.#engine = new AlertRuleEngine(this.#o.settings);
    } else {
      state = decodeState(text, this.#o.stateName);
      try {
        this.#engine =
          state.snapshot === undefined
            ? new AlertRuleEngine(this.#o.settings)
            : AlertRuleEngine.restore(this.#o.settings, state.snapshot);
      } catch (err) {
        throw new AlertStateError(
          `${this.#o.stateName}: the stored rule state is not readable (${String(err)})`,
        );
      }
    }
    this.#state = state;
    return state;
  }

  /** Appends the outbox alerts a crash left that are not on the alert stream yet. */
  async #recover(state: RuleWatchState): Promise<number> {
    return this.#flush(await unsentAlerts(this.#o.feed, state.alertsMark, state.outbox), state.outbox.length);
  }

  /** Appends alerts in order, then stores the outbox empty; returns how many were appended. */
  async #flush(alerts: readonly PublishedRuleAlert[], outboxSize = alerts.length): Promise<number> {
    for (const alert of alerts) await this.#o.bus.publishAlert({ ...alert });
    if (outboxSize > 0) await this.#save({ ...(this.#state as RuleWatchState), outbox: [] });
    return alerts.length;
  }

  async #save(state: RuleWatchState): Promise<void> {
    await this.#o.feed.setState(this.#o.stateName, JSON.stringify(state));
    this.#state = state;
  }
}

function decodeState(text: string, name: string): RuleWatchState {
  const v = parseStoredJson(text, `${name}: the stored rule state is not JSON`);
  const ok =
    isRecord(v) &&
    v.v === 1 &&
    typeof v.cursor === "string" &&
    typeof v.alertsMark === "string" &&
    Array.isArray(v.outbox) &&
    v.outbox.every((a) => isRecord(a) && typeof a.alert_id === "string" && typeof a.kind === "string");
  if (!ok) throw new AlertStateError(`${name}: the stored rule state is malformed`);
  return v as unknown as RuleWatchState;
}
