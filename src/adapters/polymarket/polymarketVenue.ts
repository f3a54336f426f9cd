import { randomBytes } from "node:crypto";
import { inspect } from "node:util";
import { CLIENT_ORDER_ID_MAX_LENGTH, isClientOrderId } from "../../core/clientOrderId.js";
import { formatDecimal, parseDecimal } from "../../core/decimal.js";
import { parseStaticText } from "../../core/evm/eip712.js";
import {
  ctfOrderVersion,
  exchangeFor,
  ORDER_HASH_RE,
  type OrderVersion,
} from "../../core/polymarket/ctfOrder.js";
import type { Reason, VenueErrorDetail } from "../../core/reasons.js";
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
  VenuePosition,
} from "../../ports/venue.js";
import { PolymarketAccount, type PolymarketAccountConfig } from "./accounts.js";
import { buildSignedOrder } from "./buildOrder.js";
import { classifyPostOrder } from "./clobErrors.js";
import { ClobHttp } from "./clobHttp.js";
import { parseJsonKeepingNumbers } from "./jsonText.js";
import { MarketCache } from "./marketCache.js";
import { type ClobOrderType, checkOrder } from "./orderRules.js";
import {
  type L2Action,
  l2Headers,
  type PlaneContext,
  POLYMARKET_ROUTES,
  type PolymarketRoutes,
} from "./planeSigning.js";
import { PolymarketTicket, placedState } from "./polymarketTicket.js";
import { readBalanceUnits, readOrderLookup, readPositionsPage, readServerSeconds } from "./venueReads.js";

/** Options of {@link createPolymarketVenue}. */
export interface PolymarketVenueOptions {
  /** The CLOB, e.g. `https://clob.polymarket.com`, or an emulator's `url`. */
  readonly baseUrl: string;
  /** The data API for {@link Venue.positions} (`https://data-api.polymarket.com` in production); default `baseUrl`. */
  readonly dataApiUrl?: string;
  /** 137 (Polygon, default) or 80002 (Amoy). */
  readonly chainId?: number;
  /** The CTF Exchange EIP-712 domain version orders are built for: "2" (default; production since 2026-04-28) or "1". */
  readonly orderVersion?: OrderVersion;
  /** Per account id (the plan's `account`): what the executor holds. The secret and the private key stay in the plane. */
  readonly accounts: Readonly<Record<string, PolymarketAccountConfig>>;
  /** Signs orders (`per_user_clob_signer`) and L2 headers (`clob_api_signer`). */
  readonly plane: SigningPlane;
  /** The caller id the plane knows this executor as. */
  readonly caller: string;
  /** Signer routes, one per action; default {@link POLYMARKET_ROUTES}. */
  readonly routes?: Partial<PolymarketRoutes>;
  /** Per HTTP request; default 10 000. */
  readonly timeoutMs?: number;
  /** {@link Venue.inFlightMs}; default `timeoutMs` + 60 000 (a late request, within the venue's L2 timestamp window). */
  readonly inFlightMs?: number;
  /** How long market rules are cached; default 60 000. */
  readonly marketCacheMs?: number;
  /** Largest clock offset (venue − local) readiness accepts; default 5 000. */
  readonly maxClockSkewMs?: number;
  /** Token ids whose rules readiness loads ("markets reachable"); default none. */
  readonly markets?: readonly string[];
  /** Milliseconds since the epoch; default `Date.now`. */
  readonly now?: () => number;
  /** The order salt; default 53 bits from the CSPRNG (a salt travels as a JSON number). A test hook. */
  readonly randomSalt?: () => bigint;
}

const SALT_MASK = (1n << 53n) - 1n;
const POSITION_PAGE = 500;
const MAX_POSITION_PAGES = 40;

/**
 * The Polymarket CLOB venue: orders are CTF Exchange EIP-712 orders (domain
 * version "2" by default, "1" supported), signed through the signing plane,
 * never with a key held here; each is found again by its order hash
 * (`ref.venueRef`), Polymarket having no client order id.
 *
 * `prepare` refuses, before signing anything:
 *
 * | reason | decision | when |
 * |---|---|---|
 * | `venue_error:venue_closed` | FAILED | after `close()` |
 * | `venue_error:unknown_account` | FAILED | no credentials for the order's account |
 * | `invalid_plan:client_order_id` | DENIED | not 1–64 chars of `[.A-Z:/a-z0-9_-]` (kept in the ref, told to the signer) |
 * | `invalid_plan:token_id` | DENIED | the symbol is not a token id (a uint256 in decimal) |
 * | `invalid_plan:qty`, `invalid_plan:price` | DENIED | not a decimal > 0; a LIMIT without a price |
 * | `limit:no_reference_price` | DENIED | a MARKET plan without the executor's reference price |
 * | `venue_error:reduce_only_rejected` | FAILED | a `reduceOnly` BUY (a position is a token balance: buying grows it), or a `reduceOnly` SELL of more than the account holds |
 * | `invalid_plan:unknown_symbol` | DENIED | the CLOB does not know the token (404) |
 * | `venue_error:market_unavailable` | FAILED | the market's rules could not be read |
 * | `venue_error:balance_unavailable` | FAILED | a `reduceOnly` SELL whose balance could not be read |
 * | `invalid_plan:lot_size`, `tick_size`, `price_range`, `min_size`, `amount_precision`; `limit:min_notional` | DENIED | see `orderRules.ts` |
 * | `signer_denied:<reason>` | DENIED (FAILED for `signer_unavailable`) | the plane refused to sign |
 * | `internal_error:signature_mismatch` | FAILED | the plane's signature does not recover to the order's signer |
 *
 * MARKET plans: a Polymarket order always carries a price. A MARKET plan is
 * sent as a FOK order at the plan's reference price (which must be on the
 * tick): it fills in full at that price or better, or is killed
 * (`venue_error:fok_not_filled`, nothing placed). LIMIT plans are GTC orders
 * at their price: what does not fill rests.
 *
 * `send` posts the order once, never retried (see `clobErrors.ts` for how
 * answers map to outcomes; a `reduceOnly` SELL the venue refuses for lack of
 * balance is `venue_error:reduce_only_rejected`). `lookup` asks
 * `GET /data/order/{hash}`. `positions` reads the data API's
 * `GET /positions?user=<funder>&sizeThreshold=0` (every token balance, paged;
 * never negative: a position is a token balance), while the reduce-only
 * check reads the CLOB's own `GET /balance-allowance` (what it checks orders
 * against). `readiness` measures the clock offset (`GET /time`), checks
 * every account's credentials with an L2-signed `GET /auth/api-keys`, and
 * loads the rules of `markets`.
 *
 * Every L2 header and order signature comes from the plane: the adapter
 * holds the API key id and passphrase only (never printed), never the L2
 * secret or a private key.
 *
 * @example
 * const venue = createPolymarketVenue({
 *   baseUrl: "https://clob.polymarket.com",
 *   dataApiUrl: "https://data-api.polymarket.com",
 *   accounts: { "acct-1": { apiKey, passphrase, address: "0x…" } },
 *   plane,
 *   caller: "executor-1",
 * });
 */
export function createPolymarketVenue(opts: PolymarketVenueOptions): Venue {
  return new PolymarketVenue(opts);
}

class PolymarketVenue implements Venue {
  readonly name = "polymarket" as const;
  readonly inFlightMs: number;
  readonly #clob: ClobHttp;
  readonly #data: ClobHttp;
  readonly #accounts: ReadonlyMap<string, PolymarketAccount>;
  readonly #plane: PlaneContext;
  readonly #chainId: number;
  readonly #version: OrderVersion;
  readonly #timeoutMs: number;
  readonly #maxSkewMs: number;
  readonly #markets: readonly string[];
  readonly #now: () => number;
  readonly #salt: () => bigint;
  readonly #cache: MarketCache;
  #closed = false;

  constructor(opts: PolymarketVenueOptions) {
    this.#chainId = opts.chainId ?? 137;
    this.#version = opts.orderVersion ?? "2";
    const spec = ctfOrderVersion(this.#version);
    if (spec === undefined || exchangeFor(spec, this.#chainId, false) === undefined)
      throw new TypeError(`polymarket: no CTF Exchange V${this.#version} on chain ${this.#chainId}`);
    this.#timeoutMs = opts.timeoutMs ?? 10_000;
    this.inFlightMs = opts.inFlightMs ?? this.#timeoutMs + 60_000;
    this.#maxSkewMs = opts.maxClockSkewMs ?? 5_000;
    this.#markets = opts.markets ?? [];
    this.#now = opts.now ?? Date.now;
    this.#salt = opts.randomSalt ?? cryptoSalt;
    this.#accounts = new Map(
      Object.entries(opts.accounts).map(([id, c]) => [id, new PolymarketAccount(id, c)]),
    );
    this.#plane = {
      plane: opts.plane,
      caller: opts.caller,
      routes: { ...POLYMARKET_ROUTES, ...opts.routes },
    };
    this.#clob = new ClobHttp(opts.baseUrl);
    this.#data = new ClobHttp(opts.dataApiUrl ?? opts.baseUrl);
    this.#cache = new MarketCache({
      http: this.#clob,
      ttlMs: opts.marketCacheMs ?? 60_000,
      timeoutMs: this.#timeoutMs,
      now: this.#now,
    });
  }

  async prepare(order: VenueOrder, guard: OrderGuard): Promise<PrepareOutcome> {
    const deny = (reason: Reason, decision: "DENIED" | "FAILED" = "DENIED"): PrepareOutcome => ({
      ok: false,
      reason,
      decision,
    });
    if (this.#closed) return deny("venue_error:venue_closed", "FAILED");
    const account = this.#accounts.get(order.account);
    if (account === undefined) return deny("venue_error:unknown_account", "FAILED");
    // Not sent to Polymarket (it has none), but kept in the ref and told to the signer.
    if (!isClientOrderId(order.clientOrderId, CLIENT_ORDER_ID_MAX_LENGTH))
      return deny("invalid_plan:client_order_id");
    if (parseStaticText("uint256", order.symbol) === undefined) return deny("invalid_plan:token_id");
    const qty = parseDecimal(order.qty);
    if (qty === undefined || qty <= 0n) return deny("invalid_plan:qty");
    const priceText = order.type === "LIMIT" ? order.price : order.referencePrice;
    if (priceText === undefined)
      return deny(order.type === "LIMIT" ? "invalid_plan:price" : "limit:no_reference_price");
    const price = parseDecimal(priceText);
    if (price === undefined) return deny("invalid_plan:price");
    if (order.reduceOnly && order.side === "BUY") return deny("venue_error:reduce_only_rejected", "FAILED");

    const market = await this.#cache.get(order.symbol);
    if (!market.ok)
      return market.detail === "unknown_market"
        ? deny("invalid_plan:unknown_symbol")
        : deny(`venue_error:${market.detail}`, "FAILED");
    const orderType: ClobOrderType = order.type === "LIMIT" ? "GTC" : "FOK";
    const checked = checkOrder(order.side, qty, price, market.rules, orderType);
    if (!checked.ok) return deny(checked.reason);
    const { amounts } = checked;
    const negRisk = market.rules.negRisk;
    const target = {
      venue: "polymarket",
      token_id: order.symbol,
      side: order.side,
      qty: formatDecimal(qty),
      price: formatDecimal(price),
      neg_risk: negRisk,
      maker: account.makerText,
      reduce_only: order.reduceOnly,
      order_type: orderType,
      client_order_id: order.clientOrderId,
    };
    const guardContext = { ...guard };

    if (order.reduceOnly) {
      const held = await this.#balanceUnits(account, order.symbol, guardContext);
      if (held === undefined) return deny("venue_error:balance_unavailable", "FAILED");
      if (held < amounts.shareUnits) return deny("venue_error:reduce_only_rejected", "FAILED");
    }

    const built = await buildSignedOrder({
      plane: this.#plane,
      account,
      version: this.#version,
      chainId: this.#chainId,
      negRisk,
      draft: {
        salt: this.#salt(),
        maker: account.maker,
        signer: account.signer,
        tokenId: BigInt(order.symbol),
        makerAmount: amounts.makerAmount,
        takerAmount: amounts.takerAmount,
        side: order.side,
        signatureType: account.signatureType,
        nowMs: this.#now(),
      },
      target,
      guard: guardContext,
    });
    if (!built.ok) return deny(built.reason, built.decision);

    const ref: OrderRef = {
      venue: "polymarket",
      account: order.account,
      symbol: order.symbol,
      clientOrderId: order.clientOrderId,
      venueRef: built.value.hash,
    };
    const ticket = new PolymarketTicket({
      ref,
      account,
      order: built.value.json,
      orderType,
      target,
      guard,
      side: order.side,
      qty,
      price,
      reduceOnly: order.reduceOnly,
    });
    return { ok: true, prepared: { ref, venueData: ticket } };
  }

  async send(prepared: PreparedOrder): Promise<SendOutcome> {
    const ticket = prepared.venueData;
    if (!(ticket instanceof PolymarketTicket))
      return { kind: "rejected", reason: "internal_error:foreign_order" };
    if (ticket.sent) return { kind: "already_placed", detail: "sent_before" };
    if (this.#closed) return { kind: "rejected", reason: "venue_error:venue_closed" };
    ticket.sent = true;
    const { account, order, orderType, target, guard, reduceOnly, ref } = ticket.contents;
    // Member order as clob-client-v2's orderToJsonV2 writes it.
    const body = JSON.stringify({
      deferExec: false,
      postOnly: false,
      order,
      owner: account.apiKey(),
      orderType,
    });
    const headers = await l2Headers(this.#plane, {
      account,
      payload: { action: "order", method: "POST", path: "/order", body, nowMs: this.#now() },
      target,
      guard: { ...guard },
    });
    if (!headers.ok) return { kind: "rejected", reason: headers.reason };
    const out = await this.#clob.send({
      method: "POST",
      pathAndQuery: "/order",
      headers: { ...headers.value },
      body,
      timeoutMs: this.#timeoutMs,
    });
    const answer = classifyPostOrder(
      out,
      out.kind === "response" ? parseJsonKeepingNumbers(out.text) : undefined,
    );
    switch (answer.kind) {
      case "duplicate":
        return { kind: "already_placed", detail: "duplicate_order_hash" };
      case "unknown":
        return { kind: "unknown", detail: answer.detail };
      case "rejected": {
        if (answer.detail === "tick_size" || answer.detail === "min_size") this.#cache.invalidate(ref.symbol);
        const detail: VenueErrorDetail =
          answer.detail === "insufficient_balance" && reduceOnly ? "reduce_only_rejected" : answer.detail;
        return { kind: "rejected", reason: `venue_error:${detail}` };
      }
      case "placed":
        return { kind: "placed", ...placedState(ticket.contents, answer) };
    }
  }

  async lookup(ref: OrderRef): Promise<LookupOutcome> {
    const account = this.#accounts.get(ref.account);
    if (account === undefined) return { kind: "unavailable", detail: "unknown_account" };
    if (!ORDER_HASH_RE.test(ref.venueRef)) return { kind: "unavailable", detail: "malformed_ref" };
    const path = `/data/order/${ref.venueRef}`;
    const out = await this.#signedGet(account, {
      action: "query_order",
      path,
      query: "",
      target: { client_order_id: ref.clientOrderId },
      purpose: "lookup",
    });
    return out.ok ? readOrderLookup(out.value) : { kind: "unavailable", detail: out.reason };
  }

  async positions(account: string): Promise<PositionsOutcome> {
    const acct = this.#accounts.get(account);
    if (acct === undefined) return { ok: false, detail: "unknown_account" };
    const all: VenuePosition[] = [];
    for (let page = 0; page < MAX_POSITION_PAGES; page++) {
      const query = `?user=${acct.makerText}&sizeThreshold=0&limit=${POSITION_PAGE}&offset=${page * POSITION_PAGE}`;
      const out = await this.#data.send({
        method: "GET",
        pathAndQuery: `/positions${query}`,
        timeoutMs: this.#timeoutMs,
      });
      if (out.kind === "error") return { ok: false, detail: out.detail };
      if (out.status !== 200) return { ok: false, detail: `http_${out.status}` };
      const read = readPositionsPage(out.text, account);
      if (read === undefined) return { ok: false, detail: "malformed_answer" };
      all.push(...read.positions);
      if (read.count < POSITION_PAGE) return { ok: true, positions: all };
    }
    return { ok: false, detail: "too_many_positions" };
  }

  async readiness(): Promise<Readiness> {
    const t0 = this.#now();
    const time = await this.#clob.send({ method: "GET", pathAndQuery: "/time", timeoutMs: this.#timeoutMs });
    const t1 = this.#now();
    const seconds = readServerSeconds(time);
    if (seconds === undefined) return { ready: false, detail: "the CLOB clock (GET /time) is unreachable" };
    // The venue's clock has whole seconds: its midpoint against ours.
    const clockOffsetMs = Math.round(seconds * 1000 + 500 - (t0 + t1) / 2);
    if (Math.abs(clockOffsetMs) > this.#maxSkewMs)
      return {
        ready: false,
        detail: `clock offset ${clockOffsetMs} ms exceeds ${this.#maxSkewMs} ms`,
        clockOffsetMs,
      };
    if (this.#accounts.size === 0) return { ready: false, detail: "no accounts configured", clockOffsetMs };
    for (const account of this.#accounts.values()) {
      const out = await this.#signedGet(account, {
        action: "api_keys",
        path: "/auth/api-keys",
        query: "",
        target: {},
        purpose: "readiness",
      });
      if (!out.ok) return { ready: false, detail: `account ${account.id}: ${out.reason}`, clockOffsetMs };
      if (out.value.kind === "error")
        return { ready: false, detail: `account ${account.id}: CLOB ${out.value.detail}`, clockOffsetMs };
      if (out.value.status !== 200)
        return {
          ready: false,
          detail: `account ${account.id}: credentials refused (HTTP ${out.value.status})`,
          clockOffsetMs,
        };
    }
    for (const token of this.#markets) {
      const rules = await this.#cache.refresh(token);
      if (!rules.ok) return { ready: false, detail: `market ${token}: ${rules.detail}`, clockOffsetMs };
    }
    return {
      ready: true,
      detail: `ready: ${this.#accounts.size} account(s), ${this.#markets.length} market(s), order version ${this.#version}`,
      clockOffsetMs,
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#clob.close();
    this.#data.close();
  }

  toJSON(): unknown {
    return { name: this.name, accounts: [...this.#accounts.keys()] };
  }

  [inspect.custom](): string {
    return `PolymarketVenue { accounts: ${JSON.stringify([...this.#accounts.keys()])}, orderVersion: '${this.#version}' }`;
  }

  /** The account's balance of a token, per the CLOB (`GET /balance-allowance`, L2), in base units. */
  async #balanceUnits(
    account: PolymarketAccount,
    tokenId: string,
    guard: Readonly<Record<string, unknown>>,
  ): Promise<bigint | undefined> {
    const query = `?asset_type=CONDITIONAL&token_id=${tokenId}&signature_type=${account.signatureType}`;
    const out = await this.#signedGet(account, {
      action: "balance",
      path: "/balance-allowance",
      query,
      target: { token_id: tokenId },
      purpose: "balance",
      guard,
    });
    return out.ok ? readBalanceUnits(out.value) : undefined;
  }

  /** An L2-signed GET of `path` (signed without its query, as clob-client-v2 does). */
  async #signedGet(
    account: PolymarketAccount,
    get: {
      readonly action: Exclude<L2Action, "order">;
      readonly path: string;
      /** Appended to `path` when sent, not signed. */
      readonly query: string;
      readonly target: Readonly<Record<string, unknown>>;
      /** Why it is read (the guard context of a read that has none of its own). */
      readonly purpose: string;
      readonly guard?: Readonly<Record<string, unknown>> | undefined;
    },
  ) {
    const { action, path, query, target, purpose, guard } = get;
    const headers = await l2Headers(this.#plane, {
      account,
      payload: { action, method: "GET", path, body: "", nowMs: this.#now() },
      target,
      guard: guard ?? { decision: "QUERY", purpose, mode: "live" },
    });
    if (!headers.ok) return headers;
    const out = await this.#clob.send({
      method: "GET",
      pathAndQuery: path + query,
      headers: { ...headers.value },
      timeoutMs: this.#timeoutMs,
    });
    return { ok: true as const, value: out };
  }
}

function cryptoSalt(): bigint {
  for (;;) {
    const salt = randomBytes(8).readBigUInt64BE() & SALT_MASK;
    if (salt !== 0n) return salt;
  }
}
