import { type ClientRequest, request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { inspect } from "node:util";
import type { SecretBytes } from "../../core/auth/secretBytes.js";
import {
  type AlertRecord,
  type AlertSink,
  SINK_NAME_PATTERN,
  type SinkOutcome,
} from "../../ports/alertSink.js";
import { AlertSinkConfigError } from "./alertSinkConfigError.js";
import { redactedSnippet } from "./outputSnippet.js";
import { parseRetryAfter } from "./retryAfter.js";
import { slackPayload } from "./slackPayload.js";

/** Default name of a webhook sink (its `sink` metric label). */
export const DEFAULT_WEBHOOK_SINK_NAME = "webhook";
/** Default time one POST may take, connecting and reading the answer included. */
export const DEFAULT_WEBHOOK_TIMEOUT_MS = 10_000;
/** Default cap on the wait a `Retry-After` header may ask for (a larger one is cut to this). */
export const DEFAULT_WEBHOOK_MAX_RETRY_AFTER_MS = 3_600_000;
/** Bytes of an error answer read for its snippet; the rest is drained unread. */
const MAX_ERROR_BODY_BYTES = 2_048;

/** Options of a {@link WebhookSink}. */
export interface WebhookSinkOptions {
  /** Name in logs and metrics (default {@link DEFAULT_WEBHOOK_SINK_NAME}); never the URL. */
  readonly name?: string;
  /**
   * The `http:` or `https:` URL to POST to. A secret (Slack's embeds a
   * token): give it as {@link SecretBytes} (as `readConfigCredential` reads
   * it) or a string; it never leaves this object except on the wire.
   */
  readonly url: SecretBytes | string;
  /** Default {@link DEFAULT_WEBHOOK_TIMEOUT_MS}. */
  readonly timeoutMs?: number;
  /** Default {@link DEFAULT_WEBHOOK_MAX_RETRY_AFTER_MS}. */
  readonly maxRetryAfterMs?: number;
  /** The JSON body of an alert (default: {@link slackPayload}). */
  readonly payload?: (record: AlertRecord) => unknown;
}

/**
 * Posts each alert as JSON (a Slack-compatible message by default) to a
 * webhook, with `Idempotency-Key: <alert id>` so a receiver can drop the
 * repeat a crash may cause. A 2xx answer is `delivered`; a timeout, a network
 * error, 408, 425, 429 or 5xx is `retry` (with the `Retry-After` wait when
 * the answer gives one); any other answer (other 4xx, a redirect, which is
 * never followed) is `rejected`. Failure reasons hold the status and a
 * redacted snippet of the answer, never the URL or a part of it; printing
 * or inspecting the sink shows its name only.
 */
export class WebhookSink implements AlertSink {
  readonly name: string;
  readonly #url: URL;
  /** The URL and its parts, cut out of any answer quoted in a reason. */
  readonly #secrets: readonly string[];
  readonly #timeoutMs: number;
  readonly #maxRetryAfterMs: number;
  readonly #payload: (record: AlertRecord) => unknown;

  /** Throws {@link AlertSinkConfigError} (never quoting the URL). */
  constructor(opts: WebhookSinkOptions) {
    this.name = sinkName(opts.name ?? DEFAULT_WEBHOOK_SINK_NAME);
    this.#url = parseWebhookUrl(this.name, typeof opts.url === "string" ? opts.url : opts.url.expose());
    this.#secrets = secretParts(this.#url);
    this.#timeoutMs = positiveMs(this.name, "timeoutMs", opts.timeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS);
    this.#maxRetryAfterMs = positiveMs(
      this.name,
      "maxRetryAfterMs",
      opts.maxRetryAfterMs ?? DEFAULT_WEBHOOK_MAX_RETRY_AFTER_MS,
    );
    this.#payload = opts.payload ?? slackPayload;
  }

  async deliver(record: AlertRecord, signal?: AbortSignal): Promise<SinkOutcome> {
    try {
      if (signal?.aborted) return { status: "retry", reason: "aborted" };
      const body = Buffer.from(JSON.stringify(this.#payload(record)), "utf8");
      return await this.#post(body, record.id, signal);
    } catch (err) {
      // A payload function that throws, or a request that cannot even start: never a throw.
      return { status: "retry", reason: `internal:${errorName(err)}` };
    }
  }

  #post(body: Buffer, idempotencyKey: string, signal: AbortSignal | undefined): Promise<SinkOutcome> {
    return new Promise<SinkOutcome>((resolve) => {
      let req: ClientRequest | undefined;
      const finish = (outcome: SinkOutcome): void => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        req?.destroy();
        resolve(outcome);
      };
      const timer = setTimeout(() => finish({ status: "retry", reason: "timeout" }), this.#timeoutMs);
      const onAbort = (): void => finish({ status: "retry", reason: "aborted" });
      signal?.addEventListener("abort", onAbort, { once: true });
      const send = this.#url.protocol === "https:" ? httpsRequest : httpRequest;
      req = send(this.#url, {
        method: "POST",
        // A connection per alert: alerts are rare, and a pooled socket the receiver closed meanwhile fails.
        agent: false,
        headers: {
          "content-type": "application/json; charset=utf-8",
          "content-length": body.length,
          "idempotency-key": idempotencyKey,
          "user-agent": "intentgate-alerts/1",
        },
      });
      // Only the code (ECONNREFUSED, ENOTFOUND): messages name the host and port.
      req.on("error", (err) => finish({ status: "retry", reason: `network:${errorCode(err)}` }));
      req.on("response", (res) => this.#answer(res, finish));
      req.end(body);
    });
  }

  #answer(res: IncomingMessage, finish: (outcome: SinkOutcome) => void): void {
    const status = res.statusCode ?? 0;
    if (status >= 200 && status < 300) {
      res.resume();
      finish({ status: "delivered" });
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    res.on("data", (chunk: Buffer) => {
      if (size < MAX_ERROR_BODY_BYTES) chunks.push(chunk);
      size += chunk.length;
    });
    res.on("error", () => undefined);
    res.on("close", () => {
      const snippet = redactedSnippet(Buffer.concat(chunks), this.#secrets);
      const reason = snippet === "" ? `http_${status}` : `http_${status}: ${snippet}`;
      if (status === 408 || status === 425 || status === 429 || status >= 500) {
        const header = res.headers["retry-after"];
        const retryAfterMs = parseRetryAfter(header, Date.now(), this.#maxRetryAfterMs);
        finish(
          retryAfterMs === undefined
            ? { status: "retry", reason }
            : { status: "retry", reason, retryAfterMs },
        );
      } else {
        finish({
          status: "rejected",
          reason: status >= 300 && status < 400 ? `${reason} (redirects are not followed)` : reason,
        });
      }
    });
  }

  toString(): string {
    return `WebhookSink(${this.name})`;
  }

  toJSON(): Record<string, unknown> {
    return { sink: "webhook", name: this.name };
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

/** A sink name checked against {@link SINK_NAME_PATTERN} (an invalid one is not quoted). */
export function sinkName(name: string): string {
  if (!SINK_NAME_PATTERN.test(name))
    throw new AlertSinkConfigError("(unnamed)", "name", "must be 1-64 letters, digits, '_', '.' or '-'");
  return name;
}

/** A positive number of milliseconds, or an {@link AlertSinkConfigError} naming the option. */
export function positiveMs(sink: string, option: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0)
    throw new AlertSinkConfigError(sink, option, "must be a positive number of milliseconds");
  return value;
}

function parseWebhookUrl(sink: string, raw: string | Buffer): URL {
  let url: URL;
  try {
    url = new URL(typeof raw === "string" ? raw : raw.toString("utf8"));
  } catch {
    // Not chained: the TypeError holds the input, i.e. the secret.
    throw new AlertSinkConfigError(sink, "url", "is not a valid URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new AlertSinkConfigError(sink, "url", "must be an http: or https: URL");
  return url;
}

/** The URL and every part of it that may be (or hold) its token, for redaction. */
function secretParts(url: URL): string[] {
  const parts = [url.href, url.pathname + url.search, url.search, url.username, url.password];
  for (const segment of url.pathname.split("/")) parts.push(segment, decodeSafe(segment));
  for (const [, value] of url.searchParams) parts.push(value);
  return parts.filter((p) => p.length >= 4);
}

function decodeSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function errorCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && /^[A-Z0-9_]{1,40}$/.test(code) ? code : "error";
}

function errorName(err: unknown): string {
  return err instanceof Error ? err.name : typeof err;
}
