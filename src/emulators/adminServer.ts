import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { isRecord } from "../core/isRecord.js";
import { parseStrictJson } from "../core/strictJson.js";

/** One admin command: takes the JSON body, returns what to answer; throws (TypeError) for a bad request. */
export type AdminCommand = (body: Readonly<Record<string, unknown>>) => unknown;

/** Options of {@link startAdminServer}. */
export interface AdminServerOptions {
  /** The venue it controls (answered at `GET /`). */
  readonly venue: string;
  /** Commands by name: `POST /<name>`. */
  readonly commands: Readonly<Record<string, AdminCommand>>;
  /** TCP port on 127.0.0.1; default 0 (any free port). */
  readonly port?: number;
}

/** A running admin server. */
export interface AdminServer {
  /** e.g. `http://127.0.0.1:41235`. */
  readonly url: string;
  close(): Promise<void>;
}

const MAX_BODY = 1024 * 1024;

/**
 * The operator's side door into a running emulator: an HTTP server on
 * 127.0.0.1 only (never another interface; it has no authentication, like
 * the emulator's in-process back doors it calls). `GET /` answers
 * `{venue, commands}`; `POST /<command>` with a JSON object body runs the
 * command and answers `{ok: true, result}`, or 400 `{error}` when the body
 * or the command's arguments are wrong, 404 for an unknown command.
 * `intentgate emulator book|price --admin <url>` are its clients.
 */
export async function startAdminServer(opts: AdminServerOptions): Promise<AdminServer> {
  const send = (res: ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
    res.end(text);
  };
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? "/").split("?")[0]!;
    const body = await readBody(req);
    if (req.method === "GET" && path === "/")
      return send(res, 200, { venue: opts.venue, commands: Object.keys(opts.commands) });
    const command = req.method === "POST" ? opts.commands[path.slice(1)] : undefined;
    if (command === undefined || !Object.hasOwn(opts.commands, path.slice(1)))
      return send(res, 404, { error: `no such admin command: ${req.method} ${path}` });
    if (body === undefined) return send(res, 413, { error: "body too large" });
    const parsed = parseStrictJson(body === "" ? "{}" : body);
    if (!parsed.ok || !isRecord(parsed.value))
      return send(res, 400, { error: "the body must be a JSON object" });
    try {
      return send(res, 200, { ok: true, result: command(parsed.value) ?? null });
    } catch (err) {
      return send(res, 400, { error: err instanceof Error ? err.message : "bad request" });
    }
  };
  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) send(res, 500, { error: "internal error" });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A string argument of an admin command, or a TypeError naming it. */
export function stringArg(body: Readonly<Record<string, unknown>>, name: string): string {
  const v = body[name];
  if (typeof v !== "string" || v === "") throw new TypeError(`"${name}" must be a non-empty string`);
  return v;
}

/** `[[price, qty], …]` (decimal strings) of an admin command, or a TypeError naming it. */
export function levelsArg(
  body: Readonly<Record<string, unknown>>,
  name: string,
): { price: string; size: string }[] {
  const v = body[name] ?? [];
  if (!Array.isArray(v)) throw new TypeError(`"${name}" must be a list of [price, size]`);
  return v.map((l) => {
    if (!Array.isArray(l) || l.length !== 2 || typeof l[0] !== "string" || typeof l[1] !== "string")
      throw new TypeError(`"${name}" must be a list of [price, size] decimal strings`);
    return { price: l[0], size: l[1] };
  });
}

function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on("end", () => resolve(size > MAX_BODY ? undefined : Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}
