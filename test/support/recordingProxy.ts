/**
 * A plain HTTP proxy on 127.0.0.1 in front of one upstream (an emulator)
 * that keeps each exchange's method, path, request body, status and answer
 * body, so a test can read what an adapter really sent. Headers are passed
 * on, never kept.
 */
import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";

/** One request as it passed the proxy, and its answer. */
export interface ProxiedExchange {
  readonly method: string;
  readonly path: string;
  readonly body: string;
  readonly status: number;
  readonly answer: string;
}

export interface RecordingProxy {
  readonly url: string;
  /** Every exchange so far, oldest first. */
  readonly exchanges: ProxiedExchange[];
  close(): Promise<void>;
}

/** Starts a proxy to `upstreamUrl` (`http://host:port`). */
export async function startRecordingProxy(upstreamUrl: string): Promise<RecordingProxy> {
  const upstream = new URL(upstreamUrl);
  const exchanges: ProxiedExchange[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const up = request(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: req.headers,
        },
        (ans) => {
          const back: Buffer[] = [];
          ans.on("data", (c: Buffer) => back.push(c));
          ans.on("end", () => {
            const answer = Buffer.concat(back);
            exchanges.push({
              method: req.method ?? "",
              path: (req.url ?? "").split("?")[0] ?? "",
              body: body.toString("utf8"),
              status: ans.statusCode ?? 0,
              answer: answer.toString("utf8"),
            });
            res.writeHead(ans.statusCode ?? 502, { "content-type": "application/json" });
            res.end(answer);
          });
        },
      );
      up.on("error", () => res.destroy());
      up.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    exchanges,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
