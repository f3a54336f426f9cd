import {
  type ClientRequest,
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingMessage,
} from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import type { Socket } from "node:net";
import type { SecretBytes } from "../../core/auth/secretBytes.js";

/** Largest answer body read (exchangeInfo lists hundreds of symbols). */
const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

/** One request to the Binance REST API. */
export interface BinanceHttpRequest {
  readonly method: "GET" | "POST" | "DELETE";
  /** Path from the API root, e.g. `/fapi/v1/order`. */
  readonly path: string;
  /** Query string without `?` (sent as is). */
  readonly query?: string;
  /** Form body (sent as is, `application/x-www-form-urlencoded`). */
  readonly body?: string;
  /** Sent as `X-MBX-APIKEY`. */
  readonly apiKey?: SecretBytes;
  /**
   * Open a new connection for this request instead of reusing an idle one.
   * Orders use it: on a fresh connection an error before it is established
   * proves nothing was sent, while a reused idle connection the server has
   * already closed would fail only after the request was written.
   */
  readonly freshConnection?: boolean;
}

/**
 * How a request ended. `failed.sent` is false only when the request provably
 * never left this process: the connection (TCP, and TLS for https) was never
 * established (refused, DNS failure, TLS failure, timeout while connecting).
 * Anything after that (timeout, reset, a cut answer) may have reached Binance.
 */
export type HttpOutcome =
  | { readonly kind: "response"; readonly status: number; readonly text: string }
  | {
      readonly kind: "failed";
      readonly sent: boolean;
      /** `connect_failed` | `timeout` | `connection_lost` | `response_too_large`. */
      readonly cause: "connect_failed" | "timeout" | "connection_lost" | "response_too_large";
      /** The system error code (`ECONNREFUSED`, …) when there is one; never a message. */
      readonly code?: string;
    };

/** Options of {@link BinanceHttp}. */
export interface BinanceHttpOptions {
  /** API root, e.g. `https://fapi.binance.com` (a path prefix is kept). */
  readonly baseUrl: string;
  /** Whole-request deadline (connect, send, answer), ms. */
  readonly timeoutMs: number;
}

/**
 * The adapter's HTTP transport (node:http / node:https rather than fetch, so
 * it can tell whether the connection was ever established, which decides
 * `rejected` vs `unknown`). Never throws; never retries; never logs; the API
 * key goes only into the `X-MBX-APIKEY` header.
 */
export class BinanceHttp {
  readonly #base: URL;
  readonly #timeoutMs: number;
  readonly #https: boolean;
  readonly #agent: HttpAgent | HttpsAgent;
  #closed = false;

  constructor(opts: BinanceHttpOptions) {
    this.#base = new URL(opts.baseUrl);
    if (this.#base.protocol !== "http:" && this.#base.protocol !== "https:") {
      throw new TypeError("binance baseUrl must be http(s)");
    }
    this.#https = this.#base.protocol === "https:";
    this.#timeoutMs = opts.timeoutMs;
    this.#agent = this.#https
      ? new HttpsAgent({ keepAlive: true, maxSockets: 16, timeout: 30_000 })
      : new HttpAgent({ keepAlive: true, maxSockets: 16, timeout: 30_000 });
  }

  /** Sends one request once; see {@link HttpOutcome}. */
  request(r: BinanceHttpRequest): Promise<HttpOutcome> {
    if (this.#closed)
      return Promise.resolve({ kind: "failed", sent: false, cause: "connect_failed", code: "CLOSED" });
    const basePath = this.#base.pathname.replace(/\/+$/, "");
    const path = `${basePath}${r.path}${r.query ? `?${r.query}` : ""}`;
    const headers: Record<string, string> = { "user-agent": "intentgate", accept: "application/json" };
    if (r.apiKey !== undefined) headers["x-mbx-apikey"] = r.apiKey.expose().toString("utf8");
    if (r.body !== undefined) {
      headers["content-type"] = "application/x-www-form-urlencoded";
      headers["content-length"] = String(Buffer.byteLength(r.body));
    }
    const options = {
      protocol: this.#base.protocol,
      hostname: this.#base.hostname.replace(/^\[|\]$/g, ""),
      port: this.#base.port || (this.#https ? 443 : 80),
      method: r.method,
      path,
      headers,
      agent: r.freshConnection ? false : this.#agent,
    };

    return new Promise<HttpOutcome>((resolve) => {
      let connected = false;
      let settled = false;
      const finish = (outcome: HttpOutcome): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(outcome);
      };
      const fail = (cause: "timeout" | "connection_lost" | "response_too_large", code?: string): void =>
        finish(
          connected
            ? { kind: "failed", sent: true, cause, ...(code ? { code } : {}) }
            : {
                kind: "failed",
                sent: false,
                cause: cause === "timeout" ? "timeout" : "connect_failed",
                ...(code ? { code } : {}),
              },
        );

      const req: ClientRequest = (this.#https ? httpsRequest : httpRequest)(options as never);
      const timer = setTimeout(() => {
        fail("timeout");
        req.destroy();
      }, this.#timeoutMs);

      req.on("socket", (socket: Socket) => {
        if (!socket.connecting) connected = true;
        else
          socket.once(this.#https ? "secureConnect" : "connect", () => {
            connected = true;
          });
      });
      req.on("error", (err: NodeJS.ErrnoException) => fail("connection_lost", err.code));
      req.on("response", (res: IncomingMessage) => {
        connected = true;
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_RESPONSE_BYTES) {
            fail("response_too_large");
            req.destroy();
            return;
          }
          chunks.push(chunk);
        });
        res.on("end", () => {
          if (!res.complete) return fail("connection_lost");
          finish({
            kind: "response",
            status: res.statusCode ?? 0,
            text: Buffer.concat(chunks).toString("utf8"),
          });
        });
        res.on("aborted", () => fail("connection_lost"));
        res.on("error", (err: NodeJS.ErrnoException) => fail("connection_lost", err.code));
        res.on("close", () => {
          if (!res.complete) fail("connection_lost");
        });
      });
      req.end(r.body);
    });
  }

  /** Closes idle connections; later requests fail as not sent. */
  close(): void {
    this.#closed = true;
    this.#agent.destroy();
  }
}
