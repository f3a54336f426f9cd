import { SecretBytes } from "../../core/auth/secretBytes.js";
import type { Reason } from "../../core/reasons.js";
import type { SigningPlane } from "../../ports/signingPlane.js";
import { classifyReadAnswer, type ReadAnswerClass } from "./binanceErrors.js";
import { BinanceHttp, type BinanceHttpRequest, type HttpOutcome } from "./binanceHttp.js";
import {
  type BinanceRoutes,
  encodeQuery,
  type SignedQuery,
  type SignQueryRequest,
  signQuery,
} from "./binanceSigning.js";
import { ServerClock, type TimeSample } from "./serverTime.js";

/** The venue's name (`Venue.name`), in every ref and signer target. */
export const BINANCE_VENUE = "binance-usdm" as const;

/** One account's credential the executor itself sends: the API key (`X-MBX-APIKEY`), never the HMAC secret. */
export interface BinanceAccountOptions {
  /** Sensitive (not a signing secret, but never logged): held as {@link SecretBytes}. */
  readonly apiKey: string | SecretBytes;
  /**
   * The account's read-only API key, sent with signed reads. Give it when the
   * signer signs this account's reads with the read-only key's secret
   * (`read_only_entry`): a read's signature then cannot cancel anything
   * (signing-plane-v1 §3a). Absent: reads are sent with `apiKey`.
   */
  readonly readApiKey?: string | SecretBytes | undefined;
}

/** Options of {@link BinanceSession}. */
export interface BinanceSessionOptions {
  readonly baseUrl: string;
  readonly timeoutMs: number;
  readonly accounts: Readonly<Record<string, BinanceAccountOptions>>;
  readonly plane: SigningPlane;
  readonly caller: string;
  readonly routes: BinanceRoutes;
  /** `recvWindow` of every signed request (already checked by the venue). */
  readonly recvWindowMs: number;
  readonly resyncIntervalMs?: number | undefined;
  readonly now: () => number;
}

/** What a signed GET asks: path, route, query pairs (without `recvWindow`/`timestamp`), and what the signer is told. */
export interface SignedReadRequest {
  readonly path: string;
  readonly route: string;
  readonly pairs: readonly [string, string][];
  readonly target: Record<string, unknown>;
  readonly guard: Record<string, unknown>;
}

/** A signed request of any method: a GET reads, a POST or DELETE acts (a cancel, a countdown). */
export interface SignedRequest extends SignedReadRequest {
  readonly method: BinanceHttpRequest["method"];
}

/**
 * How a signed request ended: not sent (the venue closing, an account
 * without a key, no server time), refused by the signer (its
 * `signer_denied:<reason>`), or sent with the transport's outcome.
 */
export type SignedRequestOutcome =
  | {
      readonly kind: "not_sent";
      readonly detail: "venue_closed" | "unknown_account" | "server_time_unavailable";
    }
  | { readonly kind: "signer_denied"; readonly reason: Reason }
  | { readonly kind: "sent"; readonly http: HttpOutcome };

/**
 * What every request of one Binance venue shares: the HTTP transport, the
 * server clock (resynced in the background after a -1021), the signing
 * plane and its routes, each account's API keys (held as
 * {@link SecretBytes}, never shown), and when each account's credentials
 * last worked. Placement, reads and order control all go through it.
 */
export class BinanceSession {
  readonly http: BinanceHttp;
  readonly clock: ServerClock;
  readonly routes: BinanceRoutes;
  readonly recvWindow: number;
  readonly now: () => number;
  readonly #plane: SigningPlane;
  readonly #caller: string;
  readonly #keys = new Map<string, SecretBytes>();
  readonly #readKeys = new Map<string, SecretBytes>();
  readonly #verifiedAt = new Map<string, number>();
  readonly #background = new Set<Promise<unknown>>();
  #closed = false;

  constructor(opts: BinanceSessionOptions) {
    this.http = new BinanceHttp({ baseUrl: opts.baseUrl, timeoutMs: opts.timeoutMs });
    this.routes = opts.routes;
    this.recvWindow = opts.recvWindowMs;
    this.now = opts.now;
    this.#plane = opts.plane;
    this.#caller = opts.caller;
    const secret = (k: string | SecretBytes) =>
      typeof k === "string" ? new SecretBytes(Buffer.from(k, "utf8")) : k;
    for (const [account, a] of Object.entries(opts.accounts)) {
      this.#keys.set(account, secret(a.apiKey));
      if (a.readApiKey !== undefined) this.#readKeys.set(account, secret(a.readApiKey));
    }
    this.clock = new ServerClock({
      now: this.now,
      sample: () => this.#sampleTime(),
      ...(opts.resyncIntervalMs === undefined ? {} : { resyncIntervalMs: opts.resyncIntervalMs }),
    });
  }

  /** Whether {@link close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The configured account ids, in configuration order. */
  accounts(): string[] {
    return [...this.#keys.keys()];
  }

  /** The account's API key (`X-MBX-APIKEY` of orders), if it is configured. */
  apiKey(account: string): SecretBytes | undefined {
    return this.#keys.get(account);
  }

  /** Has the plane sign `r.query` (see {@link signQuery}). */
  sign(r: SignQueryRequest): Promise<SignedQuery> {
    return signQuery(this.#plane, this.#caller, r);
  }

  /** When a signed request of the account last succeeded (local ms), if it did. */
  verifiedAt(account: string): number | undefined {
    return this.#verifiedAt.get(account);
  }

  /** Records that a signed request of the account succeeded now. */
  markVerified(account: string): void {
    this.#verifiedAt.set(account, this.now());
  }

  /** Forgets that the account's credentials worked (Binance refused them). */
  forgetVerified(account: string): void {
    this.#verifiedAt.delete(account);
  }

  /**
   * A signed request: clock, query (`recvWindow`, `timestamp` on the
   * server's clock), signature through the plane, then sent once. A GET goes
   * with the account's read-only API key when it has one; a POST or DELETE
   * (TRADE) with the trade key, on a fresh connection, so a failure before
   * it was established proves nothing was sent. Never retried. The caller classifies the
   * answer (and records what it says about credentials and the clock).
   */
  async signedRequest(account: string, r: SignedRequest): Promise<SignedRequestOutcome> {
    if (this.#closed) return { kind: "not_sent", detail: "venue_closed" };
    const trade = r.method !== "GET";
    const apiKey = (trade ? undefined : this.#readKeys.get(account)) ?? this.#keys.get(account);
    if (apiKey === undefined) return { kind: "not_sent", detail: "unknown_account" };
    if (!(await this.clock.ensure())) return { kind: "not_sent", detail: "server_time_unavailable" };
    const query = encodeQuery([
      ...r.pairs,
      ["recvWindow", String(this.recvWindow)],
      ["timestamp", String(this.clock.now())],
    ]);
    const signed = await this.sign({ account, route: r.route, target: r.target, guard: r.guard, query });
    if (!signed.ok) return { kind: "signer_denied", reason: signed.reason };
    const http = await this.http.request({
      method: r.method,
      path: r.path,
      // A POST's parameters go as a form body (as orders do); a GET's or DELETE's as the query string.
      ...(r.method === "POST" ? { body: signed.signed } : { query: signed.signed }),
      ...(trade ? { freshConnection: true } : {}),
      apiKey,
    });
    return { kind: "sent", http };
  }

  /**
   * A signed GET ({@link signedRequest}) classified as a read; marks
   * credentials verified on an answer, forgets them on a credentials error.
   */
  async signedRead(account: string, r: SignedReadRequest): Promise<ReadAnswerClass> {
    const out = await this.signedRequest(account, { ...r, method: "GET" });
    if (out.kind === "not_sent") return { kind: "failed", detail: out.detail };
    if (out.kind === "signer_denied") return { kind: "failed", detail: out.reason };
    const answer = classifyReadAnswer(out.http);
    if (answer.kind === "failed") {
      if (answer.resyncClock) this.resyncSoon();
      if (answer.badCredentials) this.forgetVerified(account);
    } else {
      this.markVerified(account);
    }
    return answer;
  }

  /** After -1021: the offset is stale; resync in the background ({@link close} waits for it). */
  resyncSoon(): void {
    this.clock.invalidate();
    if (this.#closed) return;
    const p = this.clock.sync().catch(() => false);
    this.#background.add(p);
    void p.finally(() => this.#background.delete(p));
  }

  /** Refuses further requests, waits for a background resync, closes the transport. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.allSettled([...this.#background]);
    this.http.close();
  }

  async #sampleTime(): Promise<TimeSample | undefined> {
    if (this.#closed) return undefined;
    const sentAt = this.now();
    const http = await this.http.request({ method: "GET", path: "/fapi/v1/time" });
    const receivedAt = this.now();
    const answer = classifyReadAnswer(http);
    if (answer.kind !== "ok") return undefined;
    try {
      const serverTime = (JSON.parse(answer.text) as { serverTime?: unknown }).serverTime;
      return Number.isSafeInteger(serverTime)
        ? { serverTime: serverTime as number, sentAt, receivedAt }
        : undefined;
    } catch {
      return undefined;
    }
  }
}
