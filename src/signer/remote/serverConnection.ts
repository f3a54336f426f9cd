import type { Socket } from "node:net";
import type { SigningPlane, SignOutcome, SignRequest } from "../../ports/signingPlane.js";
import { clip, errorFields, type RemoteLogger } from "./logger.js";
import {
  bodyOf,
  encodeFrame,
  FrameDecoder,
  FrameWriter,
  helloSchema,
  MAX_FRAME_BYTES,
  ProtocolError,
  parseSignMessage,
  unavailable,
} from "./protocol.js";

/**
 * A plane that records a request whose client claimed a caller other than
 * the one its connection authenticated: denied `unknown_caller` and audited
 * under the authenticated caller (the claimed one goes to the signer's log
 * only). Never signs.
 */
export interface ClaimedCallerAuditor {
  denyClaimedCaller(claimedCaller: string, request: unknown): Promise<SignOutcome>;
}

/** The limits that keep one connection from exhausting the signer (signing-plane-v1 §7). */
export interface ConnectionLimits {
  /** Longest a new connection may take to say hello. */
  readonly handshakeTimeoutMs: number;
  /** Requests one connection may have in flight; more are denied `signer_unavailable`. */
  readonly maxInFlight: number;
  /** An authenticated connection with nothing received and nothing in flight for this long is closed. */
  readonly idleTimeoutMs: number;
  /** A frame that has started must be complete within this long, after the hello as before it. */
  readonly frameTimeoutMs: number;
  /** Reply bytes waiting for the peer to read them above which the connection stops reading requests. */
  readonly maxUnreadBytes: number;
  /** How long a connection may stay paused that way before it is closed. */
  readonly unreadTimeoutMs: number;
}

/** What a connection needs from its server. */
export interface ConnectionDeps {
  /** True when `tokenBase64` is `caller`'s token (constant time). */
  readonly checkToken: (caller: string, tokenBase64: string) => boolean;
  /** Takes one of `caller`'s connection slots; false when the caller has all of its slots. */
  readonly admit: (caller: string) => boolean;
  /** Gives a slot {@link admit} took back. */
  readonly release: (caller: string) => void;
  readonly plane: SigningPlane;
  readonly requestTimeoutMs: number;
  readonly limits: ConnectionLimits;
  readonly logger: RemoteLogger;
  readonly isClosing: () => boolean;
}

/** How long a refused peer is given to read the `refused` frame. */
const END_GRACE_MS = 500;

/** The request id to echo in a transport denial ("" when the body has none). */
function requestIdOf(request: SignRequest): string {
  return typeof request.request_id === "string" ? request.request_id.slice(0, 128) : "";
}

/**
 * One client connection: hello, then requests answered in any order. Every
 * way a peer could hold the signer's memory or a slot is bounded: a hello
 * within `handshakeTimeoutMs`; a started frame completed within
 * `frameTimeoutMs`; an idle authenticated connection closed after
 * `idleTimeoutMs`; at most `maxInFlight` requests; and when the peer does
 * not read its replies (more than `maxUnreadBytes` waiting) the connection
 * stops reading requests (back-pressure: the peer's writes then block) and
 * is closed if that lasts `unreadTimeoutMs`.
 */
export class ServerConnection {
  readonly #socket: Socket;
  readonly #deps: ConnectionDeps;
  readonly #decoder = new FrameDecoder(MAX_FRAME_BYTES);
  readonly #writer: FrameWriter;
  readonly #inFlight = new Map<number, Promise<void>>();
  #caller: string | undefined;
  /** True once the caller's slot was taken (given back on close). */
  #admitted = false;
  #state: "hello" | "ready" | "done" = "hello";
  #handshakeTimer: NodeJS.Timeout | undefined;
  #idleTimer: NodeJS.Timeout | undefined;
  #frameTimer: NodeJS.Timeout | undefined;
  #unreadTimer: NodeJS.Timeout | undefined;

  /** Where the conversation is. */
  get state(): "hello" | "ready" | "done" {
    return this.#state;
  }

  constructor(socket: Socket, deps: ConnectionDeps) {
    this.#socket = socket;
    this.#writer = new FrameWriter(socket);
    this.#deps = deps;
    this.#handshakeTimer = setTimeout(() => {
      deps.logger.warn({}, "signer connection closed: no hello in time");
      this.#destroy();
    }, deps.limits.handshakeTimeoutMs);
    socket.on("data", (chunk: Buffer) => this.#onData(chunk));
    socket.on("drain", () => this.#onDrain());
    socket.on("error", () => {}); // a peer gone mid-write; "close" follows
    socket.once("close", () => {
      this.#clearTimers();
      if (this.#admitted && this.#caller !== undefined) this.#deps.release(this.#caller);
      this.#admitted = false;
      this.#state = "done";
    });
  }

  #onData(chunk: Buffer): void {
    if (this.#state === "done") return;
    this.#idleTimer?.refresh();
    let messages: unknown[];
    try {
      messages = this.#decoder.push(chunk);
    } catch (err) {
      this.#violation(err);
      return;
    }
    for (const message of messages) {
      const state = this.#state as ServerConnection["state"];
      if (state === "done") return;
      if (state === "hello") this.#onHello(message);
      else this.#onRequest(message);
    }
    this.#watchPartialFrame();
  }

  /** A frame that started must end in time (after the hello as before it). */
  #watchPartialFrame(): void {
    if (this.#state !== "ready" || this.#unreadTimer !== undefined) return;
    if (this.#decoder.pendingBytes === 0) {
      clearTimeout(this.#frameTimer);
      this.#frameTimer = undefined;
    } else {
      this.#frameTimer ??= setTimeout(() => {
        this.#deps.logger.warn(
          { caller: this.#caller },
          "signer connection closed: a frame did not complete in time",
        );
        this.#destroy();
      }, this.#deps.limits.frameTimeoutMs);
    }
  }

  #onHello(message: unknown): void {
    const hello = helloSchema.safeParse(message);
    if (!hello.success) {
      this.#violation(new ProtocolError("expected a hello"));
      return;
    }
    clearTimeout(this.#handshakeTimer);
    const { caller, token } = hello.data;
    if (!this.#deps.checkToken(caller, token)) {
      this.#deps.logger.warn({ caller: clip(caller) }, "signer connection refused: bad caller or token");
      this.#refuse();
      return;
    }
    if (!this.#deps.admit(caller)) {
      this.#deps.logger.warn({ caller }, "signer connection refused: this caller has all of its connections");
      this.#refuse();
      return;
    }
    this.#caller = caller;
    this.#admitted = true;
    this.#state = "ready";
    this.#idleTimer = setTimeout(() => this.#onIdle(), this.#deps.limits.idleTimeoutMs);
    this.#socket.write(encodeFrame({ type: "welcome" }));
  }

  #refuse(): void {
    this.#state = "done";
    this.#clearTimers();
    this.#socket.end(encodeFrame({ type: "refused" }));
    setTimeout(() => this.#socket.destroy(), END_GRACE_MS).unref();
  }

  #onIdle(): void {
    if (this.#state !== "ready") return;
    if (this.#inFlight.size > 0 || this.#unreadTimer !== undefined) {
      this.#idleTimer?.refresh();
      return;
    }
    this.#deps.logger.info({ caller: this.#caller }, "signer connection closed: idle");
    this.#destroy();
  }

  #onRequest(message: unknown): void {
    const parsed = parseSignMessage(message);
    if (parsed === undefined) {
      this.#violation(new ProtocolError("expected a sign request"));
      return;
    }
    const { id } = parsed;
    // The plane validates every field itself (they are `unknown` to it); the caller is never the body's.
    const request = bodyOf(parsed.request) as unknown as SignRequest;
    if (this.#inFlight.has(id)) {
      this.#violation(new ProtocolError("request id already in flight"));
      return;
    }
    if (this.#deps.isClosing() || this.#inFlight.size >= this.#deps.limits.maxInFlight) {
      this.#reply(id, unavailable(requestIdOf(request)));
      return;
    }
    const done = this.#serve(id, request, parsed.caller);
    this.#inFlight.set(id, done);
    void done.then(() => this.#inFlight.delete(id));
  }

  /** Asks the plane, bounded by the request timeout; resolves once the answer (or the denial) is sent. */
  #serve(id: number, request: SignRequest, claimed: string | undefined): Promise<void> {
    const caller = this.#caller!;
    const { logger, plane, requestTimeoutMs } = this.#deps;
    return new Promise<void>((resolve) => {
      let settled = false;
      const timer = setTimeout(() => {
        if (settled) return;
        settled = true;
        logger.warn(
          {
            caller,
            request_id: clip(requestIdOf(request)),
            intent: clip(String(request.intent)),
            route: clip(String(request.route)),
            timeout_ms: requestTimeoutMs,
          },
          "signing timed out; denied signer_unavailable",
        );
        this.#reply(id, unavailable(requestIdOf(request)));
        resolve();
      }, requestTimeoutMs);
      let run: Promise<SignOutcome>;
      try {
        run =
          claimed === undefined || claimed === caller
            ? plane.sign(caller, request)
            : this.#denyClaimedCaller(caller, claimed, request);
      } catch (err) {
        run = Promise.reject(err);
      }
      run.then(
        (outcome) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          this.#reply(id, outcome);
          resolve();
        },
        (err: unknown) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          logger.error(
            { ...errorFields(err), caller, request_id: clip(requestIdOf(request)) },
            "signing plane failed; denied signer_unavailable",
          );
          this.#reply(id, unavailable(requestIdOf(request)));
          resolve();
        },
      );
    });
  }

  /**
   * The client's code asked to sign as another caller than the one this
   * connection authenticated: `unknown_caller`, never signed. A plane that
   * can audit it (the signer engine) records it under the authenticated caller;
   * the log line names both.
   */
  #denyClaimedCaller(caller: string, claimed: string, request: SignRequest): Promise<SignOutcome> {
    this.#deps.logger.warn(
      { caller, claimed_caller: clip(claimed), request_id: clip(requestIdOf(request)) },
      "request claims another caller than its connection's; denied unknown_caller",
    );
    const plane = this.#deps.plane as Partial<ClaimedCallerAuditor>;
    // Audited under the caller the connection authenticated (signing-plane-v1 §2: from the transport,
    // never from the body), so a token holder cannot write audit lines in another caller's name.
    if (typeof plane.denyClaimedCaller === "function") return plane.denyClaimedCaller(caller, request);
    return Promise.resolve({ granted: false, request_id: requestIdOf(request), reason: "unknown_caller" });
  }

  #reply(id: number, outcome: SignOutcome): void {
    if (this.#socket.destroyed || !this.#socket.writable) return;
    let frame: Buffer;
    try {
      frame = encodeFrame({ type: "outcome", id, outcome });
    } catch {
      frame = encodeFrame({ type: "outcome", id, outcome: unavailable(outcome.request_id) });
    }
    this.#writer.write(frame);
    if (this.#socket.writableLength > this.#deps.limits.maxUnreadBytes) this.#pauseForUnread();
  }

  /** The peer is not reading its replies: stop reading its requests, and close if it stays so. */
  #pauseForUnread(): void {
    if (this.#unreadTimer !== undefined) return;
    this.#socket.pause();
    // A frame cut short now is ours (we stopped reading): its clock restarts when reading resumes.
    clearTimeout(this.#frameTimer);
    this.#frameTimer = undefined;
    this.#unreadTimer = setTimeout(() => {
      this.#deps.logger.warn(
        { caller: this.#caller, unread_bytes: this.#socket.writableLength },
        "signer connection closed: the caller does not read its replies",
      );
      this.#destroy();
    }, this.#deps.limits.unreadTimeoutMs);
  }

  #onDrain(): void {
    if (this.#unreadTimer === undefined || this.#state === "done") return;
    clearTimeout(this.#unreadTimer);
    this.#unreadTimer = undefined;
    this.#socket.resume();
    this.#watchPartialFrame();
  }

  #violation(err: unknown): void {
    this.#deps.logger.warn(
      { ...errorFields(err), caller: this.#caller, reason: err instanceof Error ? clip(err.message) : "" },
      "signer connection closed: protocol violation",
    );
    this.#destroy();
  }

  #clearTimers(): void {
    clearTimeout(this.#handshakeTimer);
    clearTimeout(this.#idleTimer);
    clearTimeout(this.#frameTimer);
    clearTimeout(this.#unreadTimer);
  }

  #destroy(): void {
    this.#state = "done";
    this.#clearTimers();
    this.#socket.destroy();
  }

  /** Lets the requests in flight finish and answers them, then ends the connection. */
  async drainAndEnd(): Promise<void> {
    if (this.#state === "hello") {
      this.#destroy();
      return;
    }
    await Promise.all([...this.#inFlight.values()]);
    if (this.#socket.destroyed) return;
    const ended = new Promise<void>((resolve) => this.#socket.once("close", () => resolve()));
    this.#socket.end();
    const grace = setTimeout(() => this.#socket.destroy(), END_GRACE_MS);
    await ended;
    clearTimeout(grace);
  }
}
