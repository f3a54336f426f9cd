import { type ChildProcess, spawn } from "node:child_process";
import { createServer, Socket } from "node:net";

/** A running `redis-server` child process. */
export interface RedisServer {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

/** Asks the OS for a free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr !== null ? addr.port : 0;
      srv.close(() => (port > 0 ? resolve(port) : reject(new Error("no free port"))));
    });
  });
}

/** Sends a raw inline PING and resolves true on `+PONG`. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = new Socket();
    let buf = "";
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(500, () => done(false));
    sock.on("error", () => done(false));
    sock.on("data", (d) => {
      buf += d.toString("latin1");
      if (buf.includes("\r\n")) done(buf.startsWith("+PONG"));
    });
    sock.connect(port, "127.0.0.1", () => sock.write("PING\r\n"));
  });
}

/**
 * Spawns the real `redis-server` on a free 127.0.0.1 port with persistence
 * off, and waits until it answers PING.
 */
export async function startRedisServer(
  opts: {
    bin?: string;
    timeoutMs?: number /** This port (e.g. to restart a server where it was). */;
    port?: number;
  } = {},
): Promise<RedisServer> {
  const bin = opts.bin ?? process.env.REDIS_SERVER_BIN ?? "redis-server";
  const timeoutMs = opts.timeoutMs ?? 10_000;
  for (let attempt = 0; ; attempt++) {
    const port = opts.port ?? (await freePort());
    const child = spawn(
      bin,
      [
        "--port",
        String(port),
        "--save",
        "",
        "--appendonly",
        "no",
        "--bind",
        "127.0.0.1",
        "--loglevel",
        "warning",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let output = "";
    child.stdout?.on("data", (d: Buffer) => {
      output += d.toString("utf8");
    });
    child.stderr?.on("data", (d: Buffer) => {
      output += d.toString("utf8");
    });
    let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let spawnError: Error | undefined;
    child.on("exit", (code, signal) => {
      exited = { code, signal };
    });
    child.on("error", (err) => {
      spawnError = err;
    });

    const deadline = Date.now() + timeoutMs;
    let up = false;
    while (Date.now() < deadline && exited === undefined && spawnError === undefined) {
      if (await ping(port)) {
        up = true;
        break;
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    if (up) {
      return { url: `redis://127.0.0.1:${port}`, port, stop: () => stopChild(child) };
    }
    await stopChild(child);
    if (spawnError !== undefined) throw new Error(`cannot start ${bin}: ${spawnError.message}`);
    // port taken between probe and bind: try another
    if (attempt < 3 && opts.port === undefined && /Address already in use/i.test(output)) continue;
    throw new Error(`${bin} did not answer PING on port ${port} within ${timeoutMs} ms:\n${output}`);
  }
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}
