import { ORDER_HASH_RE } from "../../core/polymarket/ctfOrder.js";
import type { Reason } from "../../core/reasons.js";
import type { CancelOutcome, KeepAliveOutcome, KeepAliveRequest, OrderRef } from "../../ports/venue.js";
import type { VenueOrderControl } from "../composedVenue.js";
import type { PolymarketAccount } from "./accounts.js";
import { classifyCancel, classifyHeartbeat, type HeartbeatAnswer } from "./clobErrors.js";
import type { ClobHttp } from "./clobHttp.js";
import { parseJsonKeepingNumbers } from "./jsonText.js";
import { l2Headers, type PlaneContext } from "./planeSigning.js";
import type { PolymarketReads } from "./venueReads.js";

/** Options of {@link PolymarketOrderControl}. */
export interface PolymarketOrderControlOptions {
  /** The CLOB (`DELETE /order`, `POST /v1/heartbeats`). */
  readonly clob: ClobHttp;
  readonly plane: PlaneContext;
  readonly accounts: ReadonlyMap<string, PolymarketAccount>;
  /** Looks a cancelled order up, for its state after the cancel. */
  readonly reads: Pick<PolymarketReads, "lookup">;
  /** Per HTTP request. */
  readonly timeoutMs: number;
  readonly now: () => number;
}

const CANCEL_PATH = "/order";
const HEARTBEAT_PATH = "/v1/heartbeats";

/** Signer denials that mean "slow down": the plane's order, cancel and keep-alive rates. */
const RATE_DENIALS: ReadonlySet<string> = new Set([
  "signer_denied:policy:rate",
  "signer_denied:policy:cancel_rate",
  "signer_denied:policy:keepalive_rate",
]);

/**
 * The port's order control for Polymarket, L2-signed through the plane:
 *
 * - `cancel(ref)`: `DELETE /order` `{"orderID": <hash>}` once, on the
 *   `cancel` route; when the CLOB lists the hash as canceled the order is
 *   looked up for its state after the cancel (a failed lookup is `unknown`:
 *   asked again, the cancel is `not_open`). `not_canceled` is `not_open`
 *   with the venue's reason; 429 and the plane's rate denials are
 *   `rejected` with `rateLimited`; 5xx, timeouts, dropped answers `unknown`.
 * - `keepAlive({account})`: one heartbeat (`POST /v1/heartbeats`
 *   `{"heartbeat_id": <id>}`, on the `heartbeat` route): `""` to start,
 *   then the id the CLOB answered last (it issues a new one with every
 *   heartbeat). An id the CLOB refuses (`Invalid Heartbeat ID`: a session
 *   that lapsed, or an answer lost) is dropped and one heartbeat with `""`
 *   is sent at once. Once started, the CLOB cancels all the account's open
 *   orders when no heartbeat arrives for about 10 s.
 *
 * Heartbeats of one account are sent one at a time; the ids stay in this
 * object (never in an outcome).
 */
export class PolymarketOrderControl implements VenueOrderControl {
  readonly #o: PolymarketOrderControlOptions;
  /** The heartbeat id to send next, per account id. */
  readonly #heartbeatIds = new Map<string, string>();
  /** The heartbeat in flight per account id, so that the next one carries its answer's id. */
  readonly #inFlight = new Map<string, Promise<KeepAliveOutcome>>();
  #closed = false;

  constructor(opts: PolymarketOrderControlOptions) {
    this.#o = opts;
  }

  /** Refuses every later `cancel` and `keepAlive` (`venue_error:venue_closed`). */
  close(): void {
    this.#closed = true;
  }

  /** The port's `cancel`, by order hash (`ref.venueRef`): sent once, never retried. */
  async cancel(ref: OrderRef): Promise<CancelOutcome> {
    const rejected = (reason: Reason, rateLimited = false): CancelOutcome => ({
      kind: "rejected",
      reason,
      rateLimited,
    });
    if (this.#closed) return rejected("venue_error:venue_closed");
    const account = this.#o.accounts.get(ref.account);
    if (account === undefined) return rejected("venue_error:unknown_account");
    if (!ORDER_HASH_RE.test(ref.venueRef)) return rejected("internal_error:foreign_order");
    const body = JSON.stringify({ orderID: ref.venueRef });
    const headers = await l2Headers(this.#o.plane, {
      account,
      payload: { action: "cancel", method: "DELETE", path: CANCEL_PATH, body, nowMs: this.#o.now() },
      target: { order_id: ref.venueRef, client_order_id: ref.clientOrderId },
      guard: { decision: "CANCEL", purpose: "cancel", mode: "live" },
    });
    if (!headers.ok) return rejected(headers.reason, RATE_DENIALS.has(headers.reason));
    const out = await this.#o.clob.send({
      method: "DELETE",
      pathAndQuery: CANCEL_PATH,
      headers: { ...headers.value },
      body,
      timeoutMs: this.#o.timeoutMs,
    });
    const parsed = out.kind === "response" ? parseJsonKeepingNumbers(out.text) : undefined;
    const answer = classifyCancel(out, parsed, ref.venueRef);
    switch (answer.kind) {
      case "not_open":
      case "unknown":
        return answer;
      case "rejected":
        return rejected(`venue_error:${answer.detail}`, answer.detail === "rate_limited");
      case "canceled": {
        const look = await this.#o.reads.lookup(ref);
        if (look.kind === "found" && look.status !== "open") {
          const { kind: _found, ...state } = look;
          return { kind: "canceled", ...state };
        }
        const why =
          look.kind === "unavailable" ? look.detail : look.kind === "found" ? "still_open" : look.kind;
        return { kind: "unknown", detail: `canceled_then_lookup_${why}` };
      }
    }
  }

  /** The port's `keepAlive` for Polymarket: one heartbeat of the account's API key (`symbols` unused). */
  keepAlive(request: KeepAliveRequest): Promise<KeepAliveOutcome> {
    const id = request.account;
    const before = this.#inFlight.get(id) ?? Promise.resolve<KeepAliveOutcome>({ ok: true });
    const next = before.then(() => this.#keepAlive(id));
    this.#inFlight.set(id, next);
    void next.then(() => {
      if (this.#inFlight.get(id) === next) this.#inFlight.delete(id);
    });
    return next;
  }

  async #keepAlive(accountId: string): Promise<KeepAliveOutcome> {
    if (this.#closed) return { ok: false, detail: "venue_error:venue_closed", rateLimited: false };
    const account = this.#o.accounts.get(accountId);
    if (account === undefined)
      return { ok: false, detail: "venue_error:unknown_account", rateLimited: false };
    const last = this.#heartbeatIds.get(accountId) ?? "";
    let answer = await this.#heartbeat(account, last);
    if (answer.kind === "invalid_id") {
      // The venue's session lapsed or an answer was lost: start a new one (the 400's own id is not used).
      this.#heartbeatIds.delete(accountId);
      if (last !== "") answer = await this.#heartbeat(account, "");
    }
    switch (answer.kind) {
      case "ok":
        this.#heartbeatIds.set(accountId, answer.heartbeatId);
        return { ok: true };
      case "invalid_id":
        return { ok: false, detail: "invalid_heartbeat_id", rateLimited: false };
      case "failed":
        return { ok: false, detail: answer.detail, rateLimited: answer.rateLimited };
    }
  }

  /** One heartbeat carrying `heartbeatId`, signed on the `heartbeat` route. */
  async #heartbeat(account: PolymarketAccount, heartbeatId: string): Promise<HeartbeatAnswer> {
    const body = JSON.stringify({ heartbeat_id: heartbeatId });
    const headers = await l2Headers(this.#o.plane, {
      account,
      payload: { action: "heartbeat", method: "POST", path: HEARTBEAT_PATH, body, nowMs: this.#o.now() },
      target: { heartbeat_id: heartbeatId },
      guard: { decision: "KEEPALIVE", purpose: "keep_alive", mode: "live" },
    });
    if (!headers.ok)
      return { kind: "failed", detail: headers.reason, rateLimited: RATE_DENIALS.has(headers.reason) };
    const out = await this.#o.clob.send({
      method: "POST",
      pathAndQuery: HEARTBEAT_PATH,
      headers: { ...headers.value },
      body,
      timeoutMs: this.#o.timeoutMs,
    });
    return classifyHeartbeat(out, out.kind === "response" ? parseJsonKeepingNumbers(out.text) : undefined);
  }
}
