import type { IncomingMessage, ServerResponse } from "node:http";
import type { Answer } from "./emulatorOrders.js";

/** The emulator's HTTP plumbing: answers and request bodies. */

const MAX_BODY = 64 * 1024;

/** The Binance error code of an answer, if it has one. */
export function codeOf(a: Answer): { code?: number } {
  const body = a.body as { code?: unknown } | undefined;
  return typeof body === "object" && body !== null && typeof body.code === "number"
    ? { code: body.code }
    : {};
}

/** Sends an answer (JSON, or text for a gateway page), unless the response is gone. */
export function send(res: ServerResponse, a: Answer): void {
  if (res.destroyed || res.headersSent) return;
  const text = typeof a.body === "string" ? a.body : JSON.stringify(a.body);
  res.writeHead(a.status, {
    "content-type": typeof a.body === "string" ? "text/html" : "application/json",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

/** The request body as text, or undefined past {@link MAX_BODY}. */
export async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}
