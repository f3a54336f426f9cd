/**
 * A hand-driven client of the remote signer's socket protocol
 * (`src/signer/remote/protocol.ts`), to send what the real client never
 * would: a hello without checks, frames cut in half, requests whose replies
 * are never read.
 */
import { createConnection, type Socket } from "node:net";
import { encodeFrame, FrameDecoder, MAX_FRAME_BYTES } from "../../src/signer/remote/protocol.js";

export interface RawSignerClient {
  send(message: unknown): void;
  sendRaw(bytes: Buffer): void;
  /** The next message from the signer (rejects once the connection closed). */
  next(): Promise<Record<string, unknown>>;
  /** Resolves when the connection closed, from either side. */
  readonly closed: Promise<void>;
  readonly socket: Socket;
}

/** Connects to `path`; `read: false` never reads what the signer sends (the socket is paused). */
export function rawSignerClient(
  path: string,
  opts: { readonly read?: boolean } = {},
): Promise<RawSignerClient> {
  return new Promise((resolveClient, reject) => {
    const socket = createConnection(path);
    const decoder = new FrameDecoder(MAX_FRAME_BYTES);
    const queue: Record<string, unknown>[] = [];
    const waiters: ((m: Record<string, unknown>) => void)[] = [];
    if (opts.read !== false) {
      socket.on("data", (chunk: Buffer) => {
        for (const m of decoder.push(chunk) as Record<string, unknown>[]) {
          const w = waiters.shift();
          if (w) w(m);
          else queue.push(m);
        }
      });
    } else {
      socket.pause();
    }
    socket.on("error", () => {});
    const closed = new Promise<void>((r) => socket.once("close", () => r()));
    socket.once("connect", () =>
      resolveClient({
        socket,
        closed,
        send: (m) => socket.write(encodeFrame(m)),
        sendRaw: (b) => socket.write(b),
        next: () => {
          const m = queue.shift();
          if (m) return Promise.resolve(m);
          return new Promise((r, rej) => {
            waiters.push(r);
            void closed.then(() => rej(new Error("closed")));
          });
        },
      }),
    );
    socket.once("error", reject);
  });
}

/** Connects and says hello as `caller` with `token` (text). */
export async function rawHello(path: string, caller: string, token: string): Promise<RawSignerClient> {
  const c = await rawSignerClient(path);
  c.send({ type: "hello", caller, token: Buffer.from(token, "utf8").toString("base64") });
  return c;
}
