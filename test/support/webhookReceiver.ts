import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** One request a {@link WebhookReceiver} got. */
export interface ReceivedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** When it arrived (ms). */
  readonly at: number;
  /** The status it was answered with (once answered). */
  status?: number;
}

/** Answers request number `n` (0-based): set the status, headers and body on `res`, or never answer. */
export type ReceiverScript = (n: number, req: ReceivedRequest, res: ServerResponse) => void;

/** A real HTTP server on 127.0.0.1 that records every request and answers as a script says. */
export interface WebhookReceiver {
  readonly port: number;
  readonly requests: ReceivedRequest[];
  /** Requests answered with a 2xx: the alerts that arrived. */
  delivered(): ReceivedRequest[];
  /** `http://127.0.0.1:<port><path>`. */
  url(path: string): string;
  close(): Promise<void>;
}

/** Starts a receiver; by default it answers every request 200 `ok`. */
export async function startWebhookReceiver(script: ReceiverScript = ok): Promise<WebhookReceiver> {
  const requests: ReceivedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const got: ReceivedRequest = {
        method: req.method ?? "",
        path: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
        at: Date.now(),
      };
      const n = requests.length;
      requests.push(got);
      res.on("finish", () => {
        got.status = res.statusCode;
      });
      script(n, got, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    requests,
    delivered: () => requests.filter((r) => r.status !== undefined && r.status >= 200 && r.status < 300),
    url: (path) => `http://127.0.0.1:${port}${path}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Answers 200 `ok`. */
export function ok(_n: number, _req: ReceivedRequest, res: ServerResponse): void {
  res.writeHead(200, { "content-type": "text/plain" }).end("ok");
}

/** Fails the first `failures` requests with `status` (default 503), then answers 200. */
export function failThenOk(failures: number, status = 503): ReceiverScript {
  return (n, req, res) => {
    if (n < failures) res.writeHead(status, { "content-type": "text/plain" }).end(`failing ${req.path}`);
    else ok(n, req, res);
  };
}
