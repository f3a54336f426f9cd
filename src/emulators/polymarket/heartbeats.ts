import { randomUUID } from "node:crypto";

/** The CLOB's heartbeat timeout: with no heartbeat for this long, the user's open orders are canceled. */
export const DEFAULT_HEARTBEAT_TIMEOUT_MS = 10_000;

/** The answer to one heartbeat. */
export type HeartbeatAnswer =
  | { readonly ok: true; readonly heartbeatId: string }
  | { readonly ok: false; readonly heartbeatId: string; readonly error: string };

/**
 * The CLOB's order-safety heartbeats (`POST /v1/heartbeats`), per API key,
 * on the real clock. A heartbeat carries `heartbeat_id`: `""` (always
 * taken: starts a session, or goes on with the running one) or the id the
 * key's previous heartbeat was answered with. Every heartbeat taken is
 * answered with a new id, which the next one must carry, and re-arms the
 * timer; any other id is refused (`Invalid Heartbeat ID`, the refused id
 * echoed) and re-arms nothing. When `timeoutMs` passes without a heartbeat,
 * `expire` is called for the key (the emulator cancels all its open orders)
 * and the session ends. A key that never sent a heartbeat is never touched.
 *
 * As the CLOB does it: py-clob-client's `post_heartbeat` ("if heartbeats
 * are started and one isn't sent within 10s, all orders will be
 * cancelled") and its `examples/post_heartbeat.py` (each heartbeat sends
 * the id of the previous answer; a refused one is 400 `{"error":"Invalid
 * Heartbeat ID","heartbeat_id":…}`); a new id per heartbeat as observed on
 * clob.polymarket.com by clients that follow the chain.
 */
export class Heartbeats {
  readonly #sessions = new Map<string, { id: string; timer: NodeJS.Timeout }>();
  readonly #timeoutMs: number;
  readonly #expire: (owner: string) => void;

  constructor(opts: { readonly timeoutMs: number; readonly expire: (owner: string) => void }) {
    if (!(opts.timeoutMs > 0)) throw new RangeError("heartbeat timeout must be > 0 ms");
    this.#timeoutMs = opts.timeoutMs;
    this.#expire = opts.expire;
  }

  /** One heartbeat of `owner` carrying `heartbeatId` ("" to start). */
  beat(owner: string, heartbeatId: string): HeartbeatAnswer {
    const current = this.#sessions.get(owner);
    if (heartbeatId !== "" && heartbeatId !== current?.id)
      return { ok: false, heartbeatId, error: "Invalid Heartbeat ID" };
    if (current !== undefined) clearTimeout(current.timer);
    const id = randomUUID();
    const timer = setTimeout(() => {
      this.#sessions.delete(owner);
      this.#expire(owner);
    }, this.#timeoutMs);
    timer.unref();
    this.#sessions.set(owner, { id, timer });
    return { ok: true, heartbeatId: id };
  }

  /** Whether `owner` has a heartbeat session running. */
  active(owner: string): boolean {
    return this.#sessions.has(owner);
  }

  /** Stops every timer (the emulator is closing). */
  clear(): void {
    for (const s of this.#sessions.values()) clearTimeout(s.timer);
    this.#sessions.clear();
  }
}
