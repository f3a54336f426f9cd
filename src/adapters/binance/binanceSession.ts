import { SecretBytes } from "../../core/auth/secretBytes.js";
import type { SigningPlane } from "../../ports/signingPlane.js";
import { classifyReadAnswer, type ReadAnswerClass } from "./binanceErrors.js";
import { BinanceHttp } from "./binanceHttp.js";
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

/**
 * What every request of one Binance venue shares: the HTTP transport, the
 * server clock (resynced in the background after a -1021), the signing
 * plane and its routes, each account's API keys (held as
 * {@link SecretBytes}, never shown), and when each account's credentials
 * last worked. Placement and reads both go through it.
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
   * A signed GET: clock, signature through the plane, request (with the
   * account's read-only API key when it has one), classification; marks
   * credentials verified.
   */
  async signedRead(account: string, r: SignedReadRequest): Promise<ReadAnswerClass> {
    const failed = (detail: string) => ({ kind: "failed", detail }) as const;
    if (this.#closed) return failed("venue_closed");
    const apiKey = this.#readKeys.get(account) ?? this.#keys.get(account);
    if (apiKey === undefined) return failed("unknown_account");
    if (!(await this.clock.ensure())) return failed("server_time_unavailable");
    const query = encodeQuery([
      ...r.pairs,
      ["recvWindow", String(this.recvWindow)],
      ["timestamp", String(this.clock.now())],
    ]);
    const signed = await this.sign({ account, route: r.route, target: r.target, guard: r.guard, query });
    if (!signed.ok) return failed(signed.reason);
    const answer = classifyReadAnswer(
      await this.http.request({ method: "GET", path: r.path, query: signed.signed, apiKey }),
    );
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
