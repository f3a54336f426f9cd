import { inspect } from "node:util";
import { SecretBytes } from "../../core/auth/secretBytes.js";
import { BINANCE_DEFAULT_RECV_WINDOW_MS, BINANCE_MAX_RECV_WINDOW_MS } from "../../core/binance/recvWindow.js";
import { BINANCE_CLIENT_ORDER_ID_MAX_LENGTH, isClientOrderId } from "../../core/clientOrderId.js";
import { reason, type VenueErrorDetail } from "../../core/reasons.js";
import type { SigningPlane } from "../../ports/signingPlane.js";
import type {
  LookupOutcome,
  OrderGuard,
  OrderRef,
  PositionsOutcome,
  PreparedOrder,
  PrepareOutcome,
  Readiness,
  SendOutcome,
  Venue,
  VenueOrder,
} from "../../ports/venue.js";
import { classifyOrderAnswer, classifyReadAnswer } from "./binanceErrors.js";
import { BinanceHttp } from "./binanceHttp.js";
import { parseOrder, parsePositionRisk } from "./binanceOrders.js";
import { BINANCE_ROUTES, type BinanceRoutes, encodeQuery, signQuery } from "./binanceSigning.js";
import { checkOrderRules, RulesCache } from "./exchangeFilters.js";
import { ServerClock, type TimeSample } from "./serverTime.js";

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

/** Options of {@link createBinanceVenue}. */
export interface BinanceVenueOptions {
  /** API root: `https://fapi.binance.com`, a testnet/demo host, or an emulator's URL. */
  readonly baseUrl: string;
  /** IntentGate account id → its API key. The account id is also the signing plane's account. */
  readonly accounts: Readonly<Record<string, BinanceAccountOptions>>;
  /** The signing plane: the adapter asks it for every HMAC and never sees the secret. */
  readonly plane: SigningPlane;
  /** The caller id the plane knows this executor by. */
  readonly caller: string;
  /** `recvWindow` of every signed request; default 5000 (Binance's default; at most 60000). */
  readonly recvWindowMs?: number;
  /** Whole-request deadline; default 5000 ms. */
  readonly timeoutMs?: number;
  /** Added to `recvWindowMs` for {@link Venue.inFlightMs} (clock estimate error, matching-engine lag); default 3000 ms. */
  readonly inFlightMarginMs?: number;
  /** Server-time resync period; default 60 000 ms (and after every -1021). */
  readonly resyncIntervalMs?: number;
  /** How long loaded exchange rules are used before reloading; default 1 h. */
  readonly rulesTtlMs?: number;
  /** How long a credentials check (a signed request that succeeded) counts for readiness; default 60 000 ms. */
  readonly credentialsTtlMs?: number;
  /** Signing-plane routes; default {@link BINANCE_ROUTES}. */
  readonly routes?: Partial<BinanceRoutes>;
  /** Local clock (ms); default `Date.now`. Must be the executor's clock (`inFlightMs` is measured on it). */
  readonly now?: () => number;
}

const VENUE = "binance-usdm" as const;

/** A signed order ready to send: the exact form body (query + signature), held out of sight. */
class BinanceTicket {
  readonly #body: string;
  constructor(
    body: string,
    readonly account: string,
    readonly clientOrderId: string,
    /** Local time the timestamp was taken at. */
    readonly signedAt: number,
  ) {
    this.#body = body;
  }
  get body(): string {
    return this.#body;
  }
  toJSON(): string {
    return "[REDACTED]";
  }
  [inspect.custom](): string {
    return `BinanceTicket { clientOrderId: '${this.clientOrderId}', [REDACTED] }`;
  }
}

/**
 * The Binance USDⓈ-M futures venue adapter behind the {@link Venue} port.
 *
 * - `prepare` checks the order against the symbol's exchangeInfo filters
 *   (see `exchangeFilters.ts`), builds the exact `POST /fapi/v1/order` query
 *   (`newOrderRespType=RESULT`, LIMIT as GTC, `recvWindow`, a `timestamp` on
 *   the server's clock) and has the signing plane sign it (`cex_api_signer`,
 *   the full `target`, the executor's {@link OrderGuard} as `guard_context`).
 *   The ref is the client order id. Nothing is sent.
 * - `send` posts it once on a fresh connection and maps the answer through
 *   `binanceErrors.ts` (the one table of Binance codes → outcomes). A prepared
 *   order older than `recvWindow` is not sent (Binance would refuse it).
 * - `lookup` asks `GET /fapi/v1/order?origClientOrderId=` (-2013 → `not_found`),
 *   `positions` `GET /fapi/v2/positionRisk`, both signed with a
 *   `guard_context` saying why (`reconcile` / `positions` / `readiness`),
 *   on their own routes (the readiness probe on `routes.readiness`) and sent
 *   with the account's read-only API key when one is configured.
 * - `readiness`: exchange rules loaded, server clock synced with
 *   |offset| < recvWindow/2, and every account's key works (a signed request
 *   succeeded within `credentialsTtlMs`).
 * - `inFlightMs` = recvWindow + margin: Binance refuses a request whose
 *   timestamp is older than recvWindow, and the timestamp is taken before the
 *   executor records the send, so after it `not_found` is final.
 *
 * Money stays exact decimal text; the API key is never logged, put in an
 * error, or shown by `util.inspect`.
 * @example const venue = createBinanceVenue({ baseUrl, accounts: { a1: { apiKey } }, plane, caller: "exec-a" });
 */
export function createBinanceVenue(opts: BinanceVenueOptions): Venue {
  return new BinanceVenue(opts);
}

class BinanceVenue implements Venue {
  readonly name = VENUE;
  readonly inFlightMs: number;
  readonly #origin: string;
  readonly #http: BinanceHttp;
  readonly #clock: ServerClock;
  readonly #plane: SigningPlane;
  readonly #caller: string;
  readonly #keys = new Map<string, SecretBytes>();
  readonly #readKeys = new Map<string, SecretBytes>();
  readonly #recvWindow: number;
  readonly #routes: BinanceRoutes;
  readonly #now: () => number;
  readonly #credentialsTtlMs: number;
  readonly #rules: RulesCache;
  readonly #verifiedAt = new Map<string, number>();
  readonly #background = new Set<Promise<unknown>>();
  #closed = false;

  constructor(opts: BinanceVenueOptions) {
    this.#recvWindow = opts.recvWindowMs ?? BINANCE_DEFAULT_RECV_WINDOW_MS;
    if (
      !Number.isInteger(this.#recvWindow) ||
      this.#recvWindow < 1 ||
      this.#recvWindow > BINANCE_MAX_RECV_WINDOW_MS
    ) {
      throw new RangeError("recvWindowMs must be an integer from 1 to 60000");
    }
    this.inFlightMs = this.#recvWindow + (opts.inFlightMarginMs ?? 3000);
    this.#origin = new URL(opts.baseUrl).origin;
    this.#http = new BinanceHttp({ baseUrl: opts.baseUrl, timeoutMs: opts.timeoutMs ?? 5000 });
    this.#now = opts.now ?? Date.now;
    this.#plane = opts.plane;
    this.#caller = opts.caller;
    this.#routes = { ...BINANCE_ROUTES, ...opts.routes };
    this.#rules = new RulesCache({
      now: this.#now,
      ttlMs: opts.rulesTtlMs ?? 3_600_000,
      load: async () => {
        const answer = classifyReadAnswer(
          await this.#http.request({ method: "GET", path: "/fapi/v1/exchangeInfo" }),
        );
        return answer.kind === "ok" ? answer.text : undefined;
      },
    });
    this.#credentialsTtlMs = opts.credentialsTtlMs ?? 60_000;
    const secret = (k: string | SecretBytes) =>
      typeof k === "string" ? new SecretBytes(Buffer.from(k, "utf8")) : k;
    for (const [account, a] of Object.entries(opts.accounts)) {
      this.#keys.set(account, secret(a.apiKey));
      if (a.readApiKey !== undefined) this.#readKeys.set(account, secret(a.readApiKey));
    }
    this.#clock = new ServerClock({
      now: this.#now,
      sample: () => this.#sampleTime(),
      ...(opts.resyncIntervalMs === undefined ? {} : { resyncIntervalMs: opts.resyncIntervalMs }),
    });
  }

  async prepare(order: VenueOrder, guard: OrderGuard): Promise<PrepareOutcome> {
    const failed = (detail: VenueErrorDetail): PrepareOutcome => ({
      ok: false,
      reason: reason("venue_error", detail),
      decision: "FAILED",
    });
    if (this.#closed) return failed("venue_closed");
    if (!this.#keys.has(order.account)) return failed("unknown_account");
    if (!isClientOrderId(order.clientOrderId, BINANCE_CLIENT_ORDER_ID_MAX_LENGTH)) {
      return { ok: false, reason: reason("invalid_plan", "client_order_id"), decision: "DENIED" };
    }
    const rules = await this.#rules.get();
    if (rules === undefined) return failed("exchange_info_unavailable");
    const refusal = checkOrderRules(rules, order);
    if (refusal !== undefined) return { ok: false, ...refusal };
    if (!(await this.#clock.ensure())) return failed("server_time_unavailable");

    const pairs: [string, string][] = [
      ["symbol", order.symbol],
      ["side", order.side],
      ["type", order.type],
      ["quantity", order.qty],
    ];
    if (order.type === "LIMIT") pairs.push(["price", order.price as string], ["timeInForce", "GTC"]);
    const signedAt = this.#now();
    pairs.push(
      ["reduceOnly", order.reduceOnly ? "true" : "false"],
      ["newClientOrderId", order.clientOrderId],
      ["newOrderRespType", "RESULT"],
      ["recvWindow", String(this.#recvWindow)],
      ["timestamp", String(this.#clock.at(signedAt))],
    );
    const target: Record<string, unknown> = {
      venue: VENUE,
      action: "order",
      symbol: order.symbol,
      side: order.side,
      type: order.type,
      qty: order.qty,
      reduce_only: order.reduceOnly,
      client_order_id: order.clientOrderId,
    };
    if (order.type === "LIMIT") target.price = order.price;
    if (order.referencePrice !== undefined) target.reference_price = order.referencePrice;
    const signed = await signQuery(this.#plane, this.#caller, {
      account: order.account,
      route: this.#routes.order,
      target,
      guard: { ...guard },
      query: encodeQuery(pairs),
    });
    if (!signed.ok) return { ok: false, reason: signed.reason, decision: "DENIED" };
    const ref: OrderRef = {
      venue: VENUE,
      account: order.account,
      symbol: order.symbol,
      clientOrderId: order.clientOrderId,
      venueRef: order.clientOrderId,
    };
    return {
      ok: true,
      prepared: {
        ref,
        venueData: new BinanceTicket(signed.signed, order.account, order.clientOrderId, signedAt),
      },
    };
  }

  async send(prepared: PreparedOrder): Promise<SendOutcome> {
    const rejected = (detail: VenueErrorDetail): SendOutcome => ({
      kind: "rejected",
      reason: reason("venue_error", detail),
    });
    const ticket = prepared.venueData;
    if (!(ticket instanceof BinanceTicket) || ticket.clientOrderId !== prepared.ref.clientOrderId) {
      return rejected("bad_prepared_order");
    }
    if (this.#closed) return rejected("venue_closed");
    const apiKey = this.#keys.get(ticket.account);
    if (apiKey === undefined) return rejected("unknown_account");
    // Binance refuses a request older than recvWindow (-1021): not sending it is the same outcome, surely.
    if (this.#now() - ticket.signedAt >= this.#recvWindow) return rejected("prepared_order_expired");
    const http = await this.#http.request({
      method: "POST",
      path: "/fapi/v1/order",
      body: ticket.body,
      apiKey,
      freshConnection: true,
    });
    const answer = classifyOrderAnswer(http);
    switch (answer.kind) {
      case "ok": {
        const order = parseOrder(answer.text);
        if (order === undefined || order.clientOrderId !== ticket.clientOrderId) {
          return { kind: "unknown", detail: "bad_response" };
        }
        this.#verifiedAt.set(ticket.account, this.#now());
        const { clientOrderId: _c, symbol: _s, ...state } = order;
        return { kind: "placed", ...state };
      }
      case "rejected":
        if (answer.resyncClock) this.#resyncSoon();
        if (answer.badCredentials) this.#verifiedAt.delete(ticket.account);
        return { kind: "rejected", reason: answer.reason };
      case "already_placed":
        return { kind: "already_placed", detail: answer.detail };
      case "unknown":
        return { kind: "unknown", detail: answer.detail };
    }
  }

  async lookup(ref: OrderRef): Promise<LookupOutcome> {
    const unavailable = (detail: string): LookupOutcome => ({ kind: "unavailable", detail });
    if (ref.venue !== VENUE) return unavailable("wrong_venue");
    const read = await this.#signedRead(ref.account, {
      path: "/fapi/v1/order",
      route: this.#routes.queryOrder,
      pairs: [
        ["symbol", ref.symbol],
        ["origClientOrderId", ref.venueRef],
      ],
      target: { venue: VENUE, action: "query_order", symbol: ref.symbol, client_order_id: ref.venueRef },
      guard: { purpose: "reconcile", mode: "live", client_order_id: ref.clientOrderId },
    });
    if (read.kind === "not_found") return { kind: "not_found" };
    if (read.kind === "failed") return unavailable(read.detail);
    const order = parseOrder(read.text);
    if (order === undefined || order.clientOrderId !== ref.venueRef || order.symbol !== ref.symbol) {
      return unavailable("bad_response");
    }
    const { clientOrderId: _c, symbol: _s, ...state } = order;
    return { kind: "found", ...state };
  }

  async positions(account: string): Promise<PositionsOutcome> {
    const read = await this.#positionRisk(account, "positions");
    if (read.kind !== "ok")
      return { ok: false, detail: read.kind === "failed" ? read.detail : "bad_response" };
    const positions = parsePositionRisk(account, read.text);
    return positions === undefined ? { ok: false, detail: "bad_response" } : { ok: true, positions };
  }

  async readiness(): Promise<Readiness> {
    if (this.#closed) return { ready: false, detail: "closed" };
    if (this.#keys.size === 0) return { ready: false, detail: "no accounts configured" };
    const rules = await this.#rules.get();
    if (rules === undefined) return { ready: false, detail: "exchange info unavailable" };
    if (this.#clock.needsSync() && !(await this.#clock.sync())) {
      return { ready: false, detail: "server time unavailable" };
    }
    const offset = this.#clock.offsetMs ?? 0;
    const clock = { clockOffsetMs: offset };
    if (Math.abs(offset) >= this.#recvWindow / 2) {
      return {
        ready: false,
        detail: `clock offset ${offset} ms is not within recvWindow/2 (${this.#recvWindow / 2} ms)`,
        ...clock,
      };
    }
    const accounts: Record<string, { ready: boolean; detail: string }> = {};
    let good = 0;
    for (const account of this.#keys.keys()) {
      const at = this.#verifiedAt.get(account);
      if (at !== undefined && this.#now() - at < this.#credentialsTtlMs) {
        accounts[account] = { ready: true, detail: "credentials ok" };
        good++;
        continue;
      }
      const read = await this.#positionRisk(account, "readiness");
      if (read.kind !== "ok" || parsePositionRisk(account, read.text) === undefined) {
        const detail = read.kind === "failed" ? read.detail : "bad_response";
        accounts[account] = { ready: false, detail: `credentials check failed (${detail})` };
      } else {
        accounts[account] = { ready: true, detail: "credentials ok" };
        good++;
      }
    }
    if (good === 0) return { ready: false, detail: "no account's credentials work", accounts, ...clock };
    return {
      ready: true,
      detail: `ready: ${good}/${this.#keys.size} account(s), ${rules.size} symbols, clock offset ${offset} ms`,
      accounts,
      ...clock,
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.allSettled([...this.#background]);
    this.#http.close();
  }

  toJSON(): Record<string, unknown> {
    return { name: this.name, baseUrl: this.#origin, accounts: [...this.#keys.keys()] };
  }

  [inspect.custom](): string {
    return `BinanceVenue { baseUrl: '${this.#origin}', accounts: ${inspect([...this.#keys.keys()])}, recvWindowMs: ${this.#recvWindow}, [REDACTED] }`;
  }

  #positionRisk(account: string, purpose: "positions" | "readiness") {
    return this.#signedRead(account, {
      path: "/fapi/v2/positionRisk",
      route: purpose === "readiness" ? this.#routes.readiness : this.#routes.positionRisk,
      pairs: [],
      target: { venue: VENUE, action: "position_risk" },
      guard: { purpose, mode: "live" },
    });
  }

  /**
   * A signed GET: clock, signature through the plane, request (with the
   * account's read-only API key when it has one), classification; marks
   * credentials verified.
   */
  async #signedRead(
    account: string,
    r: {
      readonly path: string;
      readonly route: string;
      readonly pairs: readonly [string, string][];
      readonly target: Record<string, unknown>;
      readonly guard: Record<string, unknown>;
    },
  ): Promise<ReturnType<typeof classifyReadAnswer>> {
    const failed = (detail: string) => ({ kind: "failed", detail }) as const;
    if (this.#closed) return failed("venue_closed");
    const apiKey = this.#readKeys.get(account) ?? this.#keys.get(account);
    if (apiKey === undefined) return failed("unknown_account");
    if (!(await this.#clock.ensure())) return failed("server_time_unavailable");
    const query = encodeQuery([
      ...r.pairs,
      ["recvWindow", String(this.#recvWindow)],
      ["timestamp", String(this.#clock.now())],
    ]);
    const signed = await signQuery(this.#plane, this.#caller, {
      account,
      route: r.route,
      target: r.target,
      guard: r.guard,
      query,
    });
    if (!signed.ok) return failed(signed.reason);
    const answer = classifyReadAnswer(
      await this.#http.request({ method: "GET", path: r.path, query: signed.signed, apiKey }),
    );
    if (answer.kind === "failed") {
      if (answer.resyncClock) this.#resyncSoon();
      if (answer.badCredentials) this.#verifiedAt.delete(account);
    } else {
      this.#verifiedAt.set(account, this.#now());
    }
    return answer;
  }

  /** After -1021: the offset is stale; resync in the background (close() waits for it). */
  #resyncSoon(): void {
    this.#clock.invalidate();
    if (this.#closed) return;
    const p = this.#clock.sync().catch(() => false);
    this.#background.add(p);
    void p.finally(() => this.#background.delete(p));
  }

  async #sampleTime(): Promise<TimeSample | undefined> {
    if (this.#closed) return undefined;
    const sentAt = this.#now();
    const http = await this.#http.request({ method: "GET", path: "/fapi/v1/time" });
    const receivedAt = this.#now();
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
