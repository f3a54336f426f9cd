import { randomUUID } from "node:crypto";

/** The CLOB's heartbeat timeout: with no heartbeat for this long, the user's open orders are canceled. */
export const DEFAULT_HEARTBEAT_TIMEOUT_MS = 10_000;

/** The answer to one heartbeat. */
export type HeartbeatAnswer =
  | { readonly ok: true; readonly heartbeatId: string }
  | { readonly ok: false; readonly heartbeatId: string; readonly error: string };

/**
 * The CLOB's order-safety heartbeats (`POST /v1/heartbeats`), per API key,
 * on the real clock. A key's first heartbeat (`heartbeat_id` empty) starts
 * a session and gets its id; each later one must carry that id (another
 * non-empty id is refused with the current one) and re-arms the timer. When
 * `timeoutMs` passes without one, `expire` is called for the key (the
 * emulator cancels all its open orders) and the session ends: the next
 * heartbeat starts a new one. A key that never sent a heartbeat is never
 * touched.
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
    if (current !== undefined && heartbeatId !== "" && heartbeatId !== current.id)
      return { ok: false, heartbeatId: current.id, error: "Invalid Heartbeat ID" };
    if (current !== undefined) clearTimeout(current.timer);
    const id = current?.id ?? randomUUID();
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
