import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { createServer } from "node:net";
import type { SecretBytes } from "../../core/auth/secretBytes.js";
import type { SigningPlane } from "../../ports/signingPlane.js";
import { secretStrengthProblem } from "../secretStrength.js";
import { type RemoteLogger, SILENT_LOGGER } from "./logger.js";
import { type ConnectionLimits, ServerConnection } from "./serverConnection.js";
import { bindPrivateSocket, SignerServerError } from "./socketFile.js";

export type { ClaimedCallerAuditor } from "./serverConnection.js";
export { SignerServerError } from "./socketFile.js";

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
  /** Connections open at once, authenticated or not; more are closed at once (default 64). */
  readonly maxConnections?: number;
  /** Authenticated connections one caller may hold; more are refused (default 16). */
  readonly maxConnectionsPerCaller?: number;
  /** An authenticated connection with nothing received and nothing in flight is closed after this (default 120 000 ms). */
  readonly idleTimeoutMs?: number;
  /** A started frame must complete within this (default 5000 ms). */
  readonly frameTimeoutMs?: number;
  /** Reply bytes a peer may leave unread before its connection stops reading (default 1 MiB). */
  readonly maxUnreadBytes?: number;
  /** How long a connection paused for unread replies may stay so before it is closed (default 5000 ms). */
  readonly unreadTimeoutMs?: number;
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

const DEFAULT_HANDSHAKE_TIMEOUT_MS = 2000;
const DEFAULT_MAX_IN_FLIGHT = 256;
const DEFAULT_MAX_CONNECTIONS = 64;
const DEFAULT_MAX_CONNECTIONS_PER_CALLER = 16;
const DEFAULT_IDLE_TIMEOUT_MS = 120_000;
const DEFAULT_FRAME_TIMEOUT_MS = 5000;
const DEFAULT_MAX_UNREAD_BYTES = 1024 * 1024;
const DEFAULT_UNREAD_TIMEOUT_MS = 5000;
/** Least time between two log lines about connections refused at the cap. */
const CAP_LOG_INTERVAL_MS = 10_000;

/**
 * Serves `plane` on a Unix domain socket created with mode 0600
 * (`socketFile.ts`: the umask is narrowed around the bind, then the mode is
 * set and verified). Refuses to start when the path exists and is anything
 * but a stale socket (a socket no one listens on, which is removed). Each connection authenticates with its
 * caller's token (HMAC digests under a per-process random key compared with
 * `timingSafeEqual`, so neither the token's length nor whether the caller id
 * exists leaks through timing); the plane gets the authenticated caller id,
 * never one from a request body. Refuses a token shorter than 32 random
 * bytes (`secretStrength.ts`). Connections are capped in number (all, and
 * per caller) and each is bounded in time and memory (`serverConnection.ts`,
 * signing-plane-v1 §7).
 */
export async function startSignerServer(opts: SignerServerOptions): Promise<SignerServer> {
  const logger = opts.logger ?? SILENT_LOGGER;
  const { socketPath } = opts;
  if (!(opts.requestTimeoutMs > 0)) throw new SignerServerError("requestTimeoutMs must be positive");
  const auth = new TokenChecker(opts.callers);

  const limits: ConnectionLimits = {
    handshakeTimeoutMs: opts.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
    maxInFlight: opts.maxInFlightPerConnection ?? DEFAULT_MAX_IN_FLIGHT,
    idleTimeoutMs: opts.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
    frameTimeoutMs: opts.frameTimeoutMs ?? DEFAULT_FRAME_TIMEOUT_MS,
    maxUnreadBytes: opts.maxUnreadBytes ?? DEFAULT_MAX_UNREAD_BYTES,
    unreadTimeoutMs: opts.unreadTimeoutMs ?? DEFAULT_UNREAD_TIMEOUT_MS,
  };
  const maxConnections = opts.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  const perCaller = opts.maxConnectionsPerCaller ?? DEFAULT_MAX_CONNECTIONS_PER_CALLER;
  const slots = new Map<string, number>();
  const connections = new Set<ServerConnection>();
  let closing = false;
  let lastCapLog = Number.NEGATIVE_INFINITY;
  const server = createServer({ allowHalfOpen: false }, (socket) => {
    if (closing) {
      socket.destroy();
      return;
    }
    if (connections.size >= maxConnections) {
      socket.destroy();
      const now = Date.now();
      if (now - lastCapLog >= CAP_LOG_INTERVAL_MS) {
        lastCapLog = now;
        logger.warn({ max_connections: maxConnections }, "signer connection refused: connection cap reached");
      }
      return;
    }
    const conn = new ServerConnection(socket, {
      checkToken: (caller, token) => auth.check(caller, token),
      admit: (caller) => {
        const n = slots.get(caller) ?? 0;
        if (n >= perCaller) return false;
        slots.set(caller, n + 1);
        return true;
      },
      release: (caller) => {
        const n = (slots.get(caller) ?? 1) - 1;
        if (n <= 0) slots.delete(caller);
        else slots.set(caller, n);
      },
      plane: opts.plane,
      requestTimeoutMs: opts.requestTimeoutMs,
      limits,
      logger,
      isClosing: () => closing,
    });
    connections.add(conn);
    socket.once("close", () => connections.delete(conn));
  });

  const socketFile = await bindPrivateSocket({ server, path: socketPath, logger });
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
        await socketFile.remove();
        logger.info({ socket: socketPath }, "signer stopped");
      })();
      return closed;
    },
  };
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
      const weak = secretStrengthProblem(token.expose());
      if (weak !== undefined) throw new SignerServerError(`caller ${caller}: the token ${weak}`);
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
