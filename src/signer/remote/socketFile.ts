import { chmod, lstat, unlink } from "node:fs/promises";
import { createConnection, type Server } from "node:net";
import type { RemoteLogger } from "./logger.js";

/**
 * The signer's Unix socket file: made ready (a stale socket left by a dead
 * signer is removed; anything else at the path refuses the start), bound with
 * mode 0600 (the umask narrowed around the bind, then the mode set and
 * verified), and removed on close only if it is still the file this server
 * created. The framing and the protocol are `serverConnection.ts`.
 */

/** The server could not start (path in use, not a socket, wrong mode, …). Holds no secret. */
export class SignerServerError extends Error {
  override readonly name = "SignerServerError";
}

/** How long the stale-socket probe waits for a connection. */
const PROBE_TIMEOUT_MS = 1000;

/** Options of {@link bindPrivateSocket}. */
export interface BindSocketOptions {
  /** The server to listen with (not yet listening). */
  readonly server: Server;
  /** Path of the Unix domain socket to create. */
  readonly path: string;
  readonly logger: RemoteLogger;
}

/** A socket file this process bound. */
export interface BoundSocket {
  readonly path: string;
  /** Unlinks the socket file if it is still ours (not a successor's). Never throws. */
  remove(): Promise<void>;
}

/**
 * Prepares `path` (see the module comment) and makes `server` listen on it
 * with mode 0600. Throws {@link SignerServerError}; a server that listened
 * but whose socket could not be secured is closed again.
 */
export async function bindPrivateSocket(opts: BindSocketOptions): Promise<BoundSocket> {
  await prepareSocketPath(opts.path, opts.logger);
  const ino = await listenPrivately(opts.server, opts.path);
  return { path: opts.path, remove: () => unlinkIfOurs(opts.path, ino) };
}

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
