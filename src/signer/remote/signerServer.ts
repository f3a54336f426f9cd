import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { chmod, lstat, unlink } from "node:fs/promises";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import type { SecretBytes } from "../../core/auth/secretBytes.js";
import type { SigningPlane, SignOutcome, SignRequest } from "../../ports/signingPlane.js";
import { clip, errorFields, type RemoteLogger, SILENT_LOGGER } from "./logger.js";
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

/** Options of {@link startSignerServer}. */
export interface SignerServerOptions {
  /** Path of the Unix domain socket to create (mode 0600). */
  readonly socketPath: string;
  /** Caller id → that caller's token. Each connection authenticates as exactly one caller. */
  readonly callers: ReadonlyMap<string, SecretBytes>;
  /** The plane that authorizes and signs; it gets the authenticated caller id. */
  readonly plane: SigningPlane;
  /** Longest a request may take in the plane; past it the caller gets `signer_unavailable`. */
  readonly requestTimeoutMs: number;
  /** Longest a new connection may take to say hello (default 2000 ms). */
  readonly handshakeTimeoutMs?: number;
  /** Requests one connection may have in flight; more are denied `signer_unavailable` (default 256). */
  readonly maxInFlightPerConnection?: number;
  readonly logger?: RemoteLogger;
}

/** A running signer server. */
export interface SignerServer {
  readonly socketPath: string;
  /**
   * Stops accepting connections and requests, lets the requests in flight
   * finish (each bounded by the request timeout) and answers them, closes
   * every connection and removes the socket file. Idempotent.
   */
  close(): Promise<void>;
}

/** The server could not start (path in use, not a socket, wrong mode, …). Holds no secret. */
export class SignerServerError extends Error {
  override readonly name = "SignerServerError";
}

const DEFAULT_HANDSHAKE_TIMEOUT_MS = 2000;
const DEFAULT_MAX_IN_FLIGHT = 256;
/** How long a closing server waits for a peer to finish its side of a connection. */
const END_GRACE_MS = 500;
/** How long the stale-socket probe waits for a connection. */
const PROBE_TIMEOUT_MS = 1000;

/**
 * Serves `plane` on a Unix domain socket created with mode 0600 (the umask is
 * narrowed around the bind, then the mode is set and verified). Refuses to
 * start when the path exists and is anything but a stale socket (a socket no
 * one listens on, which is removed). Each connection authenticates with its
 * caller's token (HMAC digests under a per-process random key compared with
 * `timingSafeEqual`, so neither the token's length nor whether the caller id
 * exists leaks through timing); the plane gets the authenticated caller id,
 * never one from a request body.
 */
export async function startSignerServer(opts: SignerServerOptions): Promise<SignerServer> {
  const logger = opts.logger ?? SILENT_LOGGER;
  const { socketPath } = opts;
  if (!(opts.requestTimeoutMs > 0)) throw new SignerServerError("requestTimeoutMs must be positive");
  const auth = new TokenChecker(opts.callers);
  await prepareSocketPath(socketPath, logger);

  const connections = new Set<ServerConnection>();
  let closing = false;
  const server = createServer({ allowHalfOpen: false }, (socket) => {
    if (closing) {
      socket.destroy();
      return;
    }
    const conn = new ServerConnection(socket, {
      auth,
      plane: opts.plane,
      requestTimeoutMs: opts.requestTimeoutMs,
      handshakeTimeoutMs: opts.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
      maxInFlight: opts.maxInFlightPerConnection ?? DEFAULT_MAX_IN_FLIGHT,
      logger,
      isClosing: () => closing,
    });
    connections.add(conn);
    socket.once("close", () => connections.delete(conn));
  });

  const ino = await listenPrivately(server, socketPath);
  logger.info({ socket: socketPath, callers: opts.callers.size }, "signer listening");

  let closed: Promise<void> | undefined;
  return {
    socketPath,
    close() {
      closed ??= (async () => {
        closing = true;
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        await Promise.all([...connections].map((c) => c.drainAndEnd()));
        await stopped;
        await unlinkIfOurs(socketPath, ino);
        logger.info({ socket: socketPath }, "signer stopped");
      })();
      return closed;
    },
  };
}

// ---------------------------------------------------------------------------
// Socket file

/** Removes a stale socket at `path`; refuses a live one or anything that is not a socket. */
async function prepareSocketPath(path: string, logger: RemoteLogger): Promise<void> {
  let st: Awaited<ReturnType<typeof lstat>>;
  try {
    st = await lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
    throw new SignerServerError(`${path}: cannot inspect (${(err as NodeJS.ErrnoException).code})`);
  }
  if (!st.isSocket())
    throw new SignerServerError(`${path} exists and is not a socket; refusing to replace it`);
  const probe = await probeSocket(path);
  if (probe !== "stale") {
    throw new SignerServerError(
      probe === "live"
        ? `${path}: another signer is serving this socket`
        : `${path}: exists and cannot be probed (${probe}); refusing to replace it`,
    );
  }
  await unlink(path);
  logger.warn({ socket: path }, "removed a stale signer socket");
}

/** `live` when something accepts connections at `path`, `stale` when nothing listens, else the error code. */
function probeSocket(path: string): Promise<string> {
  return new Promise((resolve) => {
    const s = createConnection(path);
    const timer = setTimeout(() => {
      s.destroy();
      resolve("timeout");
    }, PROBE_TIMEOUT_MS);
    s.once("connect", () => {
      clearTimeout(timer);
      s.destroy();
      resolve("live");
    });
    s.once("error", (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(err.code === "ECONNREFUSED" ? "stale" : (err.code ?? "error"));
    });
  });
}

/**
 * Binds with the umask narrowed to 0177 so the socket is born 0600 (the bind
 * of a Unix socket happens synchronously inside `listen`), then sets and
 * verifies the mode. Returns the socket file's inode.
 */
async function listenPrivately(server: Server, path: string): Promise<number> {
  const listening = new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  let previous: number | undefined;
  try {
    previous = process.umask(0o177);
  } catch {
    previous = undefined; // worker threads cannot change the umask: the chmod below still applies
  }
  try {
    server.listen(path);
  } finally {
    if (previous !== undefined) process.umask(previous);
  }
  try {
    await listening;
  } catch (err) {
    throw new SignerServerError(`${path}: cannot listen (${(err as NodeJS.ErrnoException).code ?? "error"})`);
  }
  try {
    await chmod(path, 0o600);
    const st = await lstat(path);
    if (!st.isSocket() || (st.mode & 0o777) !== 0o600) {
      throw new SignerServerError(`${path}: socket mode is ${(st.mode & 0o777).toString(8)}, not 600`);
    }
    return st.ino;
  } catch (err) {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    if (err instanceof SignerServerError) throw err;
    throw new SignerServerError(`${path}: cannot secure the socket (${(err as NodeJS.ErrnoException).code})`);
  }
}

/** Unlinks `path` if it is still the socket this server created (not a successor's). */
async function unlinkIfOurs(path: string, ino: number): Promise<void> {
  try {
    const st = await lstat(path);
    if (st.isSocket() && st.ino === ino) await unlink(path);
  } catch {
    // already gone (the runtime unlinks a closed server's socket)
  }
}

// ---------------------------------------------------------------------------
// Authentication

/** Constant-time token check; holds keyed digests of the tokens, never the tokens. */
class TokenChecker {
  readonly #key = randomBytes(32);
  readonly #digests = new Map<string, Buffer>();
  /** Compared against when the caller is unknown, so unknown and known callers take the same time. */
  readonly #decoy = randomBytes(32);

  constructor(callers: ReadonlyMap<string, SecretBytes>) {
    for (const [caller, token] of callers) {
      if (token.length === 0) throw new SignerServerError(`caller ${caller}: empty token`);
      this.#digests.set(caller, this.#digest(token.expose()));
    }
  }

  #digest(bytes: Buffer): Buffer {
    return createHmac("sha256", this.#key).update(bytes).digest();
  }

  /** True when `tokenBase64` decodes to `caller`'s token. */
  check(caller: string, tokenBase64: string): boolean {
    const presented = Buffer.from(tokenBase64, "base64");
    const digest = this.#digest(presented);
    presented.fill(0);
    const expected = this.#digests.get(caller);
    const same = timingSafeEqual(digest, expected ?? this.#decoy);
    return same && expected !== undefined;
  }
}

// ---------------------------------------------------------------------------
// Connections

/** The request id to echo in a transport denial ("" when the body has none). */
function requestIdOf(request: SignRequest): string {
  return typeof request.request_id === "string" ? request.request_id.slice(0, 256) : "";
}

interface ConnectionDeps {
  readonly auth: TokenChecker;
  readonly plane: SigningPlane;
  readonly requestTimeoutMs: number;
  readonly handshakeTimeoutMs: number;
  readonly maxInFlight: number;
  readonly logger: RemoteLogger;
  readonly isClosing: () => boolean;
}

/** One client connection: hello, then requests answered in any order. */
class ServerConnection {
  readonly #socket: Socket;
  readonly #deps: ConnectionDeps;
  readonly #decoder = new FrameDecoder(MAX_FRAME_BYTES);
  readonly #writer: FrameWriter;
  readonly #inFlight = new Map<number, Promise<void>>();
  #caller: string | undefined;
  #state: "hello" | "ready" | "done" = "hello";
  #handshakeTimer: NodeJS.Timeout | undefined;

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
    }, deps.handshakeTimeoutMs);
    socket.on("data", (chunk: Buffer) => this.#onData(chunk));
    socket.on("error", () => {}); // a peer gone mid-write; "close" follows
    socket.once("close", () => {
      clearTimeout(this.#handshakeTimer);
      this.#state = "done";
    });
  }

  #onData(chunk: Buffer): void {
    if (this.#state === "done") return;
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
  }

  #onHello(message: unknown): void {
    const hello = helloSchema.safeParse(message);
    if (!hello.success) {
      this.#violation(new ProtocolError("expected a hello"));
      return;
    }
    clearTimeout(this.#handshakeTimer);
    const { caller, token } = hello.data;
    if (!this.#deps.auth.check(caller, token)) {
      this.#deps.logger.warn({ caller: clip(caller) }, "signer connection refused: bad caller or token");
      this.#state = "done";
      this.#socket.end(encodeFrame({ type: "refused" }));
      setTimeout(() => this.#socket.destroy(), END_GRACE_MS).unref();
      return;
    }
    this.#caller = caller;
    this.#state = "ready";
    this.#socket.write(encodeFrame({ type: "welcome" }));
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
    if (this.#deps.isClosing() || this.#inFlight.size >= this.#deps.maxInFlight) {
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
    // never from the body), so a token holder cannot write lines in another caller's name.
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
  }

  #violation(err: unknown): void {
    this.#deps.logger.warn(
      { ...errorFields(err), caller: this.#caller, reason: err instanceof Error ? err.message : "" },
      "signer connection closed: protocol violation",
    );
    this.#destroy();
  }

  #destroy(): void {
    this.#state = "done";
    clearTimeout(this.#handshakeTimer);
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
