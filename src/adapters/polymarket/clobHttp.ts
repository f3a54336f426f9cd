import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";

/**
 * One HTTP exchange with a Polymarket host, never retried: the answer, or
 * why there is none and whether the request may have reached the venue.
 * Bodies are read as UTF-8 text up to 1 MiB.
 */
/** Why a request got no answer (a registered `venue_error` detail when it may have reached the CLOB). */
export type HttpErrorDetail = "timeout" | "refused" | "dns" | "reset" | "too_large" | "network";

export type HttpOutcome =
  | { readonly kind: "response"; readonly status: number; readonly text: string }
  | {
      readonly kind: "error";
      /** False only when the request certainly never left (no connection was made). */
      readonly mayHaveReached: boolean;
      /** Never a secret. */
      readonly detail: HttpErrorDetail;
    };

/** One request: method, path with query, headers, body, and how long to wait for the whole answer. */
export interface HttpRequest {
  readonly method: "GET" | "POST" | "DELETE";
  /** Path and query, e.g. `/tick-size?token_id=1`. */
  readonly pathAndQuery: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly timeoutMs: number;
}

const MAX_BODY = 1 << 20;

/** A keep-alive client for one base URL (`http:` or `https:`). */
export class ClobHttp {
  readonly #base: URL;
  readonly #agent: HttpAgent | HttpsAgent;
  readonly #request: typeof httpRequest;

  constructor(baseUrl: string) {
    const base = new URL(baseUrl);
    if (base.protocol !== "http:" && base.protocol !== "https:")
      throw new TypeError("a Polymarket base URL is http: or https:");
    this.#base = base;
    const https = base.protocol === "https:";
    this.#agent = https ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
    this.#request = https ? (httpsRequest as unknown as typeof httpRequest) : httpRequest;
  }

  /** Sends one request and waits for the whole answer, at most `timeoutMs`. Never throws. */
  send(req: HttpRequest): Promise<HttpOutcome> {
    const prefix = this.#base.pathname.replace(/\/+$/, "");
    const url = new URL(prefix + req.pathAndQuery, this.#base);
    return new Promise((resolve) => {
      let connected = false;
      let settled = false;
      const finish = (out: HttpOutcome) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(out);
      };
      const fail = (code: string | undefined) =>
        // No connection, no bytes sent: the request certainly never reached the venue.
        finish({ kind: "error", mayHaveReached: connected, detail: errorDetail(code) });
      const headers: Record<string, string> = { Accept: "application/json", ...req.headers };
      if (req.body !== undefined) {
        headers["Content-Type"] = "application/json";
        headers["Content-Length"] = String(Buffer.byteLength(req.body));
      }
      const r = this.#request(url, { method: req.method, headers, agent: this.#agent });
      const timer = setTimeout(() => {
        fail("ETIMEDOUT");
        r.destroy();
      }, req.timeoutMs);
      r.on("socket", (socket) => {
        if (!socket.connecting) connected = true;
        else socket.once("connect", () => (connected = true));
      });
      r.on("error", (err: NodeJS.ErrnoException) => fail(err.code));
      r.on("response", (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (c: Buffer) => {
          size += c.length;
          if (size > MAX_BODY) {
            fail("too_large");
            res.destroy();
            return;
          }
          chunks.push(c);
        });
        res.on("end", () =>
          finish({
            kind: "response",
            status: res.statusCode ?? 0,
            text: Buffer.concat(chunks).toString("utf8"),
          }),
        );
        res.on("error", () => fail("ECONNRESET"));
        res.on("aborted", () => fail("ECONNRESET"));
      });
      r.end(req.body);
    });
  }

  /** Closes idle keep-alive connections. */
  close(): void {
    this.#agent.destroy();
  }
}

function errorDetail(code: string | undefined): HttpErrorDetail {
  switch (code) {
    case "ETIMEDOUT":
      return "timeout";
    case "ECONNREFUSED":
      return "refused";
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return "dns";
    case "ECONNRESET":
    case "EPIPE":
      return "reset";
    case "too_large":
      return "too_large";
    default:
      return "network";
  }
}
