import { createConnection, type Socket } from "node:net";
import { inspect } from "node:util";
import type { SecretBytes } from "../../core/auth/secretBytes.js";
import type { SigningPlane, SignOutcome, SignRequest } from "../../ports/signingPlane.js";
import { errorFields, type RemoteLogger, SILENT_LOGGER } from "./logger.js";
import {
  bodyOf,
  encodeFrame,
  FrameDecoder,
  FrameWriter,
  MAX_FRAME_BYTES,
  ProtocolError,
  parseServerMessage,
  type ServerMessage,
  toSignOutcome,
  unavailable,
} from "./protocol.js";
import { ownUid, socketProblem } from "./socketCheck.js";

/** Options of {@link createRemotePlane}. */
export interface RemotePlaneOptions {
  /** The signer's Unix domain socket. */
  readonly socketPath: string;
  /** The caller id this process authenticates as. */
  readonly caller: string;
  /** This caller's token. */
  readonly token: SecretBytes;
  /** Longest one `sign` takes, connecting included; past it the answer is `signer_unavailable`. */
  readonly timeoutMs: number;
  /**
   * After a failed connection attempt, requests are denied at once for this
   * long (doubling from `initialMs` up to `maxMs`, default 50 ms → 1000 ms);
   * the first request after it tries to connect again.
   */
  readonly backoff?: { readonly initialMs?: number; readonly maxMs?: number };
  /**
   * The uid the socket must be owned by (default: this process's own): the
   * socket is checked before each connection, and the token is never sent
   * to a socket that fails the check (see `socketCheck.ts`).
   */
  readonly socketOwnerUid?: number;
  /**
   * An open connection with nothing in flight for this long is closed by
   * this side (default 60 000 ms), before the signer's idle timeout (default
   * 120 000 ms) could close it under a request being sent.
   */
  readonly idleCloseMs?: number;
  readonly logger?: RemoteLogger;
}

const DEFAULT_BACKOFF_INITIAL_MS = 50;
const DEFAULT_BACKOFF_MAX_MS = 1000;
const DEFAULT_IDLE_CLOSE_MS = 60_000;

/**
 * A {@link SigningPlane} that asks a signer process over its Unix domain
 * socket. It connects lazily: it checks the socket file (owner, mode 0600,
 * a folder no one else may write; `socketCheck.ts`) and only then says
 * hello with its token. Every failure (a socket that fails the check, no
 * socket, refused, timeout, the connection dropping mid-request, a
 * malformed frame) is `signer_unavailable` for the request it hit: `sign`
 * never throws and never takes longer than `timeoutMs`. After the signer
 * returns, the next request past the backoff reconnects. A request for
 * another caller than `opts.caller` is sent with that claim: the signer
 * denies it `unknown_caller` and audits it (it only ever signs as the caller
 * the token authenticates). Printing or serialising the plane never shows
 * the token.
 */
export function createRemotePlane(opts: RemotePlaneOptions): SigningPlane {
  return new RemotePlane(opts);
}

class RemotePlane implements SigningPlane {
  readonly #socketPath: string;
  readonly #caller: string;
  readonly #token: SecretBytes;
  readonly #timeoutMs: number;
  readonly #backoffInitialMs: number;
  readonly #backoffMaxMs: number;
  readonly #logger: RemoteLogger;
  readonly #socketOwnerUid: number | undefined;
  readonly #idleCloseMs: number;
  #conn: ClientConnection | undefined;
  #connecting: Promise<ClientConnection | undefined> | undefined;
  #backoffMs: number;
  #retryAt = 0;
  #down = false;
  #closed = false;

  constructor(opts: RemotePlaneOptions) {
    if (!(opts.timeoutMs > 0)) throw new RangeError("timeoutMs must be positive");
    this.#socketPath = opts.socketPath;
    this.#caller = opts.caller;
    this.#token = opts.token;
    this.#timeoutMs = opts.timeoutMs;
    this.#backoffInitialMs = Math.max(1, opts.backoff?.initialMs ?? DEFAULT_BACKOFF_INITIAL_MS);
    this.#backoffMaxMs = Math.max(this.#backoffInitialMs, opts.backoff?.maxMs ?? DEFAULT_BACKOFF_MAX_MS);
    this.#backoffMs = this.#backoffInitialMs;
    this.#logger = opts.logger ?? SILENT_LOGGER;
    this.#socketOwnerUid = opts.socketOwnerUid ?? ownUid();
    this.#idleCloseMs = Math.max(1, opts.idleCloseMs ?? DEFAULT_IDLE_CLOSE_MS);
  }

  async sign(caller: string, request: SignRequest): Promise<SignOutcome> {
    const requestId = typeof request?.request_id === "string" ? request.request_id : "";
    try {
      if (this.#closed) return unavailable(requestId);
      if (typeof request !== "object" || request === null) return unavailable(requestId);
      // The signer knows this process only as the caller its token authenticates; a request for
      // another caller is sent with that claim, and the signer denies (and audits) it unknown_caller.
      const claimed = caller === this.#caller ? undefined : typeof caller === "string" ? caller : "";
      const deadline = Date.now() + this.#timeoutMs;
      const open = this.#conn;
      const conn = open?.open ? open : await withDeadline(this.#connection(), deadline);
      if (conn === undefined) return unavailable(requestId);
      return await conn.request(requestId, bodyOf(request), claimed, deadline);
    } catch {
      return unavailable(requestId);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    const pending = this.#connecting;
    this.#conn?.fail();
    this.#conn = undefined;
    (await pending?.catch(() => undefined))?.fail();
  }

  /** The open connection, a connection attempt, or undefined while backing off. */
  #connection(): Promise<ClientConnection | undefined> {
    if (this.#conn?.open) return Promise.resolve(this.#conn);
    if (this.#connecting !== undefined) return this.#connecting;
    if (Date.now() < this.#retryAt) return Promise.resolve(undefined);
    const attempt = this.#checkedOpen().then(
      (conn) => {
        if (this.#closed) {
          conn.fail();
          return undefined;
        }
        this.#conn = conn;
        this.#backoffMs = this.#backoffInitialMs;
        this.#retryAt = 0;
        if (this.#down) this.#logger.info({ socket: this.#socketPath }, "signer reachable again");
        this.#down = false;
        return conn;
      },
      (err: unknown) => {
        this.#retryAt = Date.now() + this.#backoffMs;
        if (!this.#down) {
          this.#logger.warn(
            {
              ...errorFields(err),
              socket: this.#socketPath,
              caller: this.#caller,
              ...(err instanceof SocketCheckError ? { problem: err.message } : {}),
            },
            err instanceof SocketCheckError
              ? `signer socket refused, token not sent: ${err.message}`
              : err instanceof RefusedError
                ? "signer refused this caller's token"
                : "signer unreachable",
          );
        }
        this.#down = true;
        this.#backoffMs = Math.min(this.#backoffMs * 2, this.#backoffMaxMs);
        return undefined;
      },
    );
    this.#connecting = attempt.finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  /** Checks the socket file, then connects and says hello (the token is sent only after the check). */
  async #checkedOpen(): Promise<ClientConnection> {
    if (this.#socketOwnerUid !== undefined) {
      const problem = await socketProblem(this.#socketPath, this.#socketOwnerUid);
      if (problem !== undefined) throw new SocketCheckError(problem);
    }
    return ClientConnection.open(
      this.#socketPath,
      this.#caller,
      this.#token,
      this.#timeoutMs,
      this.#idleCloseMs,
    );
  }

  toJSON(): Record<string, unknown> {
    return { plane: "remote", socketPath: this.#socketPath, caller: this.#caller };
  }

  [inspect.custom](): string {
    return `RemotePlane { socketPath: ${JSON.stringify(this.#socketPath)}, caller: ${JSON.stringify(this.#caller)}, token: [REDACTED] }`;
  }
}

/** Resolves to `promise`'s value, or to undefined at `deadline`. */
function withDeadline<T>(promise: Promise<T | undefined>, deadline: number): Promise<T | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), Math.max(0, deadline - Date.now()));
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      () => {
        clearTimeout(timer);
        resolve(undefined);
      },
    );
  });
}

/** The socket file failed the check: the token was not sent. */
class SocketCheckError extends Error {
  override readonly name = "SocketCheckError";
}

/** The signer answered the hello with `refused`. */
class RefusedError extends Error {
  override readonly name = "RefusedError";
}

/** The connection closed, failed or timed out before the welcome. */
class ConnectError extends Error {
  override readonly name = "ConnectError";
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

interface Pending {
  readonly requestId: string;
  readonly resolve: (outcome: SignOutcome) => void;
  readonly timer: NodeJS.Timeout;
}

/** One authenticated connection; requests in flight are matched to outcomes by id. */
class ClientConnection {
  readonly #socket: Socket;
  readonly #decoder = new FrameDecoder(MAX_FRAME_BYTES);
  readonly #writer: FrameWriter;
  readonly #pending = new Map<number, Pending>();
  readonly #idleCloseMs: number;
  #idleTimer: NodeJS.Timeout | undefined;
  #nextId = 0;
  #open = true;

  private constructor(socket: Socket, idleCloseMs: number) {
    this.#socket = socket;
    this.#writer = new FrameWriter(socket);
    this.#idleCloseMs = idleCloseMs;
  }

  get open(): boolean {
    return this.#open;
  }

  /** Connects, says hello and waits for the welcome (at most `timeoutMs`). */
  static open(
    path: string,
    caller: string,
    token: SecretBytes,
    timeoutMs: number,
    idleCloseMs: number,
  ): Promise<ClientConnection> {
    return new Promise((resolve, reject) => {
      const socket = createConnection(path);
      socket.unref(); // pending requests' timers keep the process alive; an idle connection does not
      const conn = new ClientConnection(socket, idleCloseMs);
      let settled = false;
      const settle = (err: Error | undefined) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err === undefined) {
          conn.#idleSoon();
          resolve(conn);
        } else {
          conn.fail();
          reject(err);
        }
      };
      const timer = setTimeout(() => settle(new ConnectError("hello timed out")), timeoutMs);
      socket.once("connect", () => {
        const hello = { type: "hello", caller, token: token.expose().toString("base64") };
        socket.write(encodeFrame(hello));
      });
      socket.on("error", (err: NodeJS.ErrnoException) => {
        settle(new ConnectError("connection failed", err.code));
        conn.fail();
      });
      socket.once("close", () => {
        settle(new ConnectError("connection closed"));
        conn.fail();
      });
      socket.on("data", (chunk: Buffer) => {
        let messages: ServerMessage[];
        try {
          messages = conn.#decode(chunk);
        } catch (err) {
          settle(err as Error);
          conn.fail();
          return;
        }
        for (const message of messages) {
          if (!settled) {
            if (message.type === "welcome") settle(undefined);
            else
              settle(
                message.type === "refused" ? new RefusedError("refused") : new ProtocolError("no welcome"),
              );
          } else if (message.type === "outcome") {
            conn.#onOutcome(message);
          } else {
            conn.fail();
          }
          if (!conn.#open) return;
        }
      });
    });
  }

  #decode(chunk: Buffer): ServerMessage[] {
    return this.#decoder.push(chunk).map((m) => {
      const parsed = parseServerMessage(m);
      if (parsed === undefined) throw new ProtocolError("malformed message from the signer");
      return parsed;
    });
  }

  #onOutcome(message: Extract<ServerMessage, { type: "outcome" }>): void {
    const pending = this.#pending.get(message.id);
    if (pending === undefined) return; // answered after this side gave up on it
    this.#pending.delete(message.id);
    clearTimeout(pending.timer);
    this.#idleSoon();
    const outcome = toSignOutcome(message.outcome);
    // A grant must be for this very request; a denial is passed on as it is (the plane may echo a cut id).
    pending.resolve(
      !outcome.granted || outcome.request_id === pending.requestId ? outcome : unavailable(pending.requestId),
    );
  }

  /** Sends one request; resolves to its outcome, or `signer_unavailable` at `deadline` or on failure. */
  request(
    requestId: string,
    wire: Record<string, unknown>,
    claimedCaller: string | undefined,
    deadline: number,
  ): Promise<SignOutcome> {
    if (!this.#open) return Promise.resolve(unavailable(requestId));
    const id = this.#nextId++;
    // Throws (→ signer_unavailable for this request only) when the body is not JSON or too large.
    const frame = encodeFrame(
      claimedCaller === undefined
        ? { type: "sign", id, request: wire }
        : { type: "sign", id, caller: claimedCaller.slice(0, 256), request: wire },
    );
    return new Promise((resolve) => {
      const timer = setTimeout(
        () => {
          this.#pending.delete(id);
          this.#idleSoon();
          resolve(unavailable(requestId));
        },
        Math.max(0, deadline - Date.now()),
      );
      clearTimeout(this.#idleTimer);
      this.#pending.set(id, { requestId, resolve, timer });
      this.#writer.write(frame);
    });
  }

  /** With nothing in flight, closes the connection after the idle time (the next request reconnects). */
  #idleSoon(): void {
    if (this.#pending.size > 0 || !this.#open) return;
    clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(() => {
      if (this.#pending.size === 0) this.fail();
    }, this.#idleCloseMs);
    this.#idleTimer.unref();
  }

  /** Closes the connection; every request in flight on it is `signer_unavailable`. */
  fail(): void {
    this.#open = false;
    clearTimeout(this.#idleTimer);
    this.#socket.destroy();
    for (const [id, p] of this.#pending) {
      this.#pending.delete(id);
      clearTimeout(p.timer);
      p.resolve(unavailable(p.requestId));
    }
  }
}
