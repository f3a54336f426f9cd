import type { Lane } from "../core/plan.js";
import type { DecisionKind, PlanResult } from "../core/result.js";
import type { PlanBus, ResultEntry } from "../ports/bus.js";

/** Which results a reader yields; every field given must match (wire-v1 §4 fields). */
export interface ResultFilter {
  readonly planId?: string;
  readonly streamId?: string;
  readonly lane?: Lane;
  readonly source?: string;
  readonly decision?: DecisionKind;
}

/**
 * Where reading starts: `"start"` (the whole stream), `"now"` (only results
 * written after the read begins), or a result-stream id (exclusive, as a
 * resumed `--after`).
 */
export type ResultPosition = "start" | "now" | string;

/** What {@link ResultReader.read} takes. */
export interface ReadOptions {
  readonly from?: ResultPosition;
  readonly filter?: ResultFilter;
  /** Keep waiting for new results (default); false: stop once caught up. */
  readonly follow?: boolean;
  /** Stops the iteration (it ends without an error). */
  readonly signal?: AbortSignal;
}

/** What {@link ResultReader.awaitResult} takes. */
export interface AwaitOptions {
  readonly lane: Lane;
  readonly streamId: string;
  /** Result-stream id read before the plan was published (`lastResultId`), so its result cannot be missed. */
  readonly after: string;
  /** Give up after this long (ms); default 30 000. */
  readonly timeoutMs?: number;
  /** Wait past an `UNKNOWN` for its `reconciled: true` follow-up (default true). */
  readonly final?: boolean;
  readonly signal?: AbortSignal;
}

/** {@link ResultReader.awaitResult} found no result in time; the plan may still be decided later. */
export class ResultTimeoutError extends Error {
  override readonly name = "ResultTimeoutError";
  constructor(
    readonly lane: Lane,
    readonly streamId: string,
    readonly timeoutMs: number,
    /** The `UNKNOWN` result seen while waiting for its follow-up, if any. */
    readonly unknown?: PlanResult,
  ) {
    super(
      `no ${unknown ? "reconciled " : ""}result for ${lane}:${streamId} within ${timeoutMs} ms (it may still come: read results from the stream)`,
    );
  }
}

const STREAM_ID_RE = /^(0|[0-9]+|[0-9]+-[0-9]+)$/;
const PAGE = 200;
const BLOCK_MS = 1_000;

/**
 * Reads the result stream (wire-v1 §4) of one bus: from the start, from now
 * or from an id, filtered, as an async iterator; and waits for one entry's
 * own result by `(lane, stream_id)`.
 *
 * @example
 * ```ts
 * const reader = new ResultReader({ bus });
 * const executed: string[] = [];
 * for await (const { result } of reader.read({ from: "start", follow: false, filter: { decision: "EXECUTED" } }))
 *   executed.push(result.source ?? "");
 * executed.length > 0; // => true
 * ```
 */
export class ResultReader {
  readonly #bus: Pick<PlanBus, "readResults" | "lastResultId">;
  /** Waiters per `<lane>:<stream_id>`. */
  readonly #waiters = new Map<string, Waiter[]>();
  /** Where the read loop reads from next; undefined while nobody waits. */
  #cursor: string | undefined;
  /** An earlier position a waiter that came during a read needs. */
  #rewindTo: string | undefined;
  #loop: Promise<void> | undefined;

  constructor(opts: { readonly bus: Pick<PlanBus, "readResults" | "lastResultId"> }) {
    this.#bus = opts.bus;
  }

  /** The id reading `from` starts after; a malformed id is a `RangeError` naming it. */
  async position(from: ResultPosition = "now"): Promise<string> {
    if (from === "start") return "0";
    if (from === "now") return this.#bus.lastResultId();
    if (!STREAM_ID_RE.test(from))
      throw new RangeError(
        `from: expected "start", "now" or a stream id such as 1700000000000-0, got "${from}"`,
      );
    return from;
  }

  /** Yields result entries matching `filter`, oldest first. */
  async *read(opts: ReadOptions = {}): AsyncGenerator<ResultEntry> {
    const follow = opts.follow ?? true;
    let after = await this.position(opts.from ?? "now");
    let blockMs = 0;
    while (!opts.signal?.aborted) {
      const page = await this.#bus.readResults(after, PAGE, blockMs);
      for (const entry of page) {
        after = entry.id;
        if (matches(entry.result, opts.filter)) yield entry;
      }
      if (page.length > 0) {
        blockMs = 0;
        continue;
      }
      if (!follow) return;
      blockMs = BLOCK_MS;
    }
  }

  /**
   * The result of the plan entry `(lane, streamId)`: the first one written
   * after `after`, or, when it is `UNKNOWN` and `final` is not false, its
   * `reconciled: true` follow-up. Throws {@link ResultTimeoutError} when
   * none comes within `timeoutMs`. Every wait of one reader is served by
   * one read loop over the result stream (a bus connection blocks on one
   * read at a time), from the earliest position any waiter needs.
   */
  awaitResult(opts: AwaitOptions): Promise<PlanResult> {
    const timeoutMs = opts.timeoutMs ?? 30_000;
    return new Promise<PlanResult>((resolve, reject) => {
      if (opts.signal?.aborted) return reject(opts.signal.reason ?? new Error("aborted"));
      if (!STREAM_ID_RE.test(opts.after))
        return reject(
          new RangeError(`after: expected a stream id such as 1700000000000-0, got "${opts.after}"`),
        );
      const key = `${opts.lane}:${opts.streamId}`;
      const waiter: Waiter = {
        final: opts.final !== false,
        unknown: undefined,
        done: (err, result) => {
          clearTimeout(timer);
          opts.signal?.removeEventListener("abort", onAbort);
          const list = this.#waiters.get(key);
          if (list) {
            list.splice(list.indexOf(waiter), 1);
            if (list.length === 0) this.#waiters.delete(key);
          }
          if (err !== undefined) reject(err);
          else resolve(result as PlanResult);
        },
      };
      const timer = setTimeout(
        () => waiter.done(new ResultTimeoutError(opts.lane, opts.streamId, timeoutMs, waiter.unknown)),
        timeoutMs,
      );
      const onAbort = () => waiter.done(opts.signal?.reason ?? new Error("aborted"));
      opts.signal?.addEventListener("abort", onAbort, { once: true });
      const list = this.#waiters.get(key);
      if (list) list.push(waiter);
      else this.#waiters.set(key, [waiter]);
      this.#follow(opts.after);
    });
  }

  /** Makes sure the read loop runs from `after` or earlier. */
  #follow(after: string): void {
    if (this.#loop !== undefined) {
      // The loop may be reading past `after` right now: it goes back once its current read returns.
      if (this.#rewindTo === undefined || compareStreamIds(after, this.#rewindTo) < 0) this.#rewindTo = after;
      return;
    }
    if (this.#cursor === undefined || compareStreamIds(after, this.#cursor) < 0) this.#cursor = after;
    this.#loop = this.#readLoop().finally(() => {
      this.#loop = undefined;
      const back = this.#rewindTo;
      this.#rewindTo = undefined;
      // A waiter that came as the loop ended: start again, from where it needs.
      if (this.#waiters.size > 0) this.#follow(back ?? this.#cursor ?? "0");
    });
  }

  async #readLoop(): Promise<void> {
    try {
      while (this.#waiters.size > 0 && this.#cursor !== undefined) {
        const page = await this.#bus.readResults(this.#cursor, PAGE, BLOCK_MS);
        for (const { id, result } of page) {
          if (this.#cursor === undefined || compareStreamIds(id, this.#cursor) > 0) this.#cursor = id;
          for (const waiter of [...(this.#waiters.get(`${result.lane}:${result.stream_id}`) ?? [])]) {
            // A reconciled follow-up is never UNKNOWN.
            if (result.decision !== "UNKNOWN" || !waiter.final) waiter.done(undefined, result);
            else waiter.unknown = result;
          }
        }
        if (this.#rewindTo !== undefined) {
          if (compareStreamIds(this.#rewindTo, this.#cursor) < 0) this.#cursor = this.#rewindTo;
          this.#rewindTo = undefined;
        }
      }
    } catch (err) {
      this.#failAll(err);
    }
    if (this.#waiters.size === 0) this.#cursor = undefined;
  }

  #failAll(err: unknown): void {
    for (const list of [...this.#waiters.values()]) for (const w of [...list]) w.done(err);
  }
}

/** One {@link ResultReader.awaitResult} call waiting. */
interface Waiter {
  readonly final: boolean;
  unknown: PlanResult | undefined;
  done(err: unknown, result?: PlanResult): void;
}

/** Orders two stream ids (`<ms>-<seq>`, or `<ms>`, or `0`). */
export function compareStreamIds(a: string, b: string): number {
  const [am = 0n, as = 0n] = a.split("-").map(BigInt);
  const [bm = 0n, bs = 0n] = b.split("-").map(BigInt);
  return am !== bm ? (am < bm ? -1 : 1) : as === bs ? 0 : as < bs ? -1 : 1;
}

/** Whether a result matches every field the filter gives. */
export function matches(result: PlanResult, filter: ResultFilter | undefined): boolean {
  if (filter === undefined) return true;
  return (
    (filter.planId === undefined || result.plan_id === filter.planId) &&
    (filter.streamId === undefined || result.stream_id === filter.streamId) &&
    (filter.lane === undefined || result.lane === filter.lane) &&
    (filter.source === undefined || result.source === filter.source) &&
    (filter.decision === undefined || result.decision === filter.decision)
  );
}
