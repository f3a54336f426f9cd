import type { Lane } from "../core/plan.js";
import type { PrecheckOutcome } from "../core/precheck.js";
import type { PlanResult } from "../core/result.js";
import type { PlanBus } from "../ports/bus.js";
import type { SigningKey } from "./keys.js";
import { buildPlan, checkPlanText, type PlanInput } from "./planInput.js";
import type { PlanPrechecker } from "./prechecker.js";
import { ResultReader } from "./resultReader.js";
import { signPlan } from "./signPlan.js";

/** A plan on the bus: where it is, and where its result is to be read from. */
export interface PublishedPlan {
  readonly lane: Lane;
  /** The entry's id on its lane's plan stream: its result carries it as `stream_id`. */
  readonly streamId: string;
  readonly planId: string;
  /** The result-stream id read before publishing: the plan's result comes after it. */
  readonly resultsAfter: string;
  /** The exact plan text published (and signed). */
  readonly plan: string;
}

/** The pre-check found that the executor would certainly deny the plan; nothing was published. */
export class PrecheckDeniedError extends Error {
  override readonly name = "PrecheckDeniedError";
  constructor(readonly outcome: Extract<PrecheckOutcome, { ok: false }>) {
    super(
      `the executor would deny this plan: ${outcome.reason} (gate ${outcome.gate}); nothing was published`,
    );
  }
}

/** What a {@link PlanPublisher} needs. */
export interface PlanPublisherOptions {
  readonly bus: Pick<PlanBus, "publish" | "readResults" | "lastResultId">;
  /**
   * The producer's key: every plan is signed with it. Absent: plans go out
   * unsigned (only for a source the executor lets through unsigned,
   * `require_auth: false`; its plan_ids then live in that source's own
   * namespace).
   */
  readonly key?: SigningKey;
  /** Default `main`. */
  readonly lane?: Lane;
  /** When given, a plan the executor would certainly deny is refused ({@link PrecheckDeniedError}) and not published. */
  readonly prechecker?: Pick<PlanPrechecker, "check">;
  readonly clock?: () => number;
}

/**
 * Layer 1 for a TypeScript producer: builds a plan from typed fields
 * (decimals as strings), signs it, optionally pre-checks it with the
 * executor's own gates, publishes it, and waits for its own result by
 * `(lane, stream_id)`, following an `UNKNOWN` to its reconciled result.
 *
 * @example
 * ```ts
 * const publisher = new PlanPublisher({ bus, key: { keyId: "bridge-k1", alg: "hmac-sha256", secret } });
 * const result = await publisher.publishAndWait({ source: "bridge", symbol: "BTCUSDT", side: "BUY", qty: "0.01" });
 * result.decision; // => "EXECUTED"
 * ```
 */
export class PlanPublisher {
  readonly #opts: PlanPublisherOptions;
  readonly #reader: ResultReader;

  constructor(opts: PlanPublisherOptions) {
    this.#opts = opts;
    this.#reader = new ResultReader({ bus: opts.bus });
  }

  /**
   * Publishes one plan (typed fields, or a JSON text checked as
   * `checkPlanText` checks it); throws `PlanInputError` or
   * {@link PrecheckDeniedError} without publishing anything.
   */
  async publish(plan: PlanInput | string): Promise<PublishedPlan> {
    const clock = this.#opts.clock ?? Date.now;
    const text = typeof plan === "string" ? plan : buildPlan(plan, clock());
    if (typeof plan === "string") checkPlanText(text);
    const lane = this.#opts.lane ?? "main";
    const key = this.#opts.key;
    const fields: Array<readonly [string, string]> = [["plan", text]];
    if (key !== undefined) fields.push(["auth", signPlan({ plan: text, key }).auth]);
    if (this.#opts.prechecker) {
      const outcome = await this.#opts.prechecker.check({ lane, fields });
      if (!outcome.ok) throw new PrecheckDeniedError(outcome);
    }
    const resultsAfter = await this.#opts.bus.lastResultId();
    const streamId = await this.#opts.bus.publish(lane, fields);
    const planId = (JSON.parse(text) as { plan_id: string }).plan_id;
    return { lane, streamId, planId, resultsAfter, plan: text };
  }

  /** The result of a published plan (its reconciled result when the first is `UNKNOWN`, unless `final: false`). */
  wait(
    published: PublishedPlan,
    opts: { readonly timeoutMs?: number; readonly final?: boolean; readonly signal?: AbortSignal } = {},
  ): Promise<PlanResult> {
    return this.#reader.awaitResult({
      lane: published.lane,
      streamId: published.streamId,
      after: published.resultsAfter,
      ...opts,
    });
  }

  /** {@link publish}, then {@link wait}. */
  async publishAndWait(
    plan: PlanInput | string,
    opts: { readonly timeoutMs?: number; readonly final?: boolean; readonly signal?: AbortSignal } = {},
  ): Promise<PlanResult> {
    return this.wait(await this.publish(plan), opts);
  }
}
