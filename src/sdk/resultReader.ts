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
   * none comes within `timeoutMs`.
   */
  async awaitResult(opts: AwaitOptions): Promise<PlanResult> {
    const timeoutMs = opts.timeoutMs ?? 30_000;
    const deadline = Date.now() + timeoutMs;
    let after = await this.position(opts.after);
    let unknown: PlanResult | undefined;
    for (;;) {
      if (opts.signal?.aborted) throw opts.signal.reason ?? new Error("aborted");
      const left = deadline - Date.now();
      if (left <= 0) throw new ResultTimeoutError(opts.lane, opts.streamId, timeoutMs, unknown);
      const page = await this.#bus.readResults(after, PAGE, Math.min(left, BLOCK_MS));
      for (const { id, result } of page) {
        after = id;
        if (result.lane !== opts.lane || result.stream_id !== opts.streamId) continue;
        // A reconciled follow-up is never UNKNOWN.
        if (result.decision !== "UNKNOWN" || opts.final === false) return result;
        unknown = result;
      }
    }
  }
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
