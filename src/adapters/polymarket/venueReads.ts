import { type Decimal, formatDecimal, parseDecimal } from "../../core/decimal.js";
import { isRecord } from "../../core/isRecord.js";
import { ORDER_HASH_RE, type OrderVersion } from "../../core/polymarket/ctfOrder.js";
import type {
  LookupOutcome,
  MarketPrice,
  MarketPricesOutcome,
  OrderRef,
  PositionsOutcome,
  Readiness,
  VenueOrderState,
  VenuePosition,
} from "../../ports/venue.js";
import type { PolymarketAccount } from "./accounts.js";
import type { ClobHttp, HttpOutcome } from "./clobHttp.js";
import { parseJsonKeepingNumbers } from "./jsonText.js";
import type { MarketCache } from "./marketCache.js";
import { type L2Action, l2Headers, type PlaneContext, type PlaneResult } from "./planeSigning.js";

/**
 * The Polymarket venue's reads, asked and their answers read: an order by
 * hash (`GET /data/order/{hash}`, clob-client-v2's `OpenOrder`), positions
 * (`GET /positions?user=` of the data API), a token balance
 * (`GET /balance-allowance`), the server time (`GET /time`), and readiness.
 * Numbers are read as exact decimal text, never as floats.
 */

const POSITION_PAGE = 500;
const MAX_POSITION_PAGES = 40;

/** Options of {@link PolymarketReads}. */
export interface PolymarketReadsOptions {
  /** The CLOB. */
  readonly clob: ClobHttp;
  /** The data API (positions). */
  readonly data: ClobHttp;
  readonly plane: PlaneContext;
  readonly accounts: ReadonlyMap<string, PolymarketAccount>;
  readonly cache: MarketCache;
  /** Per HTTP request. */
  readonly timeoutMs: number;
  /** Largest clock offset (venue − local) readiness accepts. */
  readonly maxClockSkewMs: number;
  /** Token ids whose rules readiness loads. */
  readonly markets: readonly string[];
  /** The order version, for readiness's summary. */
  readonly orderVersion: OrderVersion;
  readonly now: () => number;
}

/** What an L2-signed GET asks, and why. */
interface SignedGet {
  readonly action: Exclude<L2Action, "order">;
  readonly path: string;
  /** Appended to `path` when sent, not signed. */
  readonly query: string;
  readonly target: Readonly<Record<string, unknown>>;
  /** Why it is read (the guard context of a read that has none of its own). */
  readonly purpose: string;
  readonly guard?: Readonly<Record<string, unknown>> | undefined;
}

/**
 * The port's reads for Polymarket: `lookup` (L2-signed
 * `GET /data/order/{hash}`), `positions` (the data API, paged), `readiness`
 * (clock, every account's credentials, the configured markets' rules), and
 * the CLOB balance the reduce-only check of `prepare` reads.
 */
export class PolymarketReads {
  readonly #o: PolymarketReadsOptions;

  constructor(opts: PolymarketReadsOptions) {
    this.#o = opts;
  }

  /** The port's `lookup`, by order hash (`ref.venueRef`). */
  async lookup(ref: OrderRef): Promise<LookupOutcome> {
    const account = this.#o.accounts.get(ref.account);
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

  /**
   * The port's `marketPrices`: per token, `GET /book?token_id=` (public);
   * the best bid and ask and their midpoint. A token whose book cannot be
   * read, or has an empty side, is left out (no midpoint: no reference).
   */
  async marketPrices(symbols: readonly string[]): Promise<MarketPricesOutcome> {
    const { clob, timeoutMs } = this.#o;
    const books = await Promise.all(
      symbols.map(async (token) => ({
        token,
        out: await clob.send({
          method: "GET",
          pathAndQuery: `/book?token_id=${encodeURIComponent(token)}`,
          timeoutMs,
        }),
      })),
    );
    const prices: MarketPrice[] = [];
    let failure: string | undefined;
    for (const { token, out } of books) {
      if (out.kind === "error" || out.status !== 200) {
        failure ??= out.kind === "error" ? out.detail : `http_${out.status}`;
        continue;
      }
      const top = readBookTop(out.text);
      if (top?.bid === undefined || top.ask === undefined) continue;
      const mid = ((top.bid + top.ask) / 2n) as Decimal;
      prices.push({
        symbol: token,
        price: formatDecimal(mid),
        bid: formatDecimal(top.bid),
        ask: formatDecimal(top.ask),
        kind: "book_mid",
      });
    }
    if (prices.length === 0 && failure !== undefined) return { ok: false, detail: failure };
    return { ok: true, prices };
  }

  /** The port's `positions`: every token balance of the account's funder, from the data API. */
  async positions(account: string): Promise<PositionsOutcome> {
    const acct = this.#o.accounts.get(account);
    if (acct === undefined) return { ok: false, detail: "unknown_account" };
    const all: VenuePosition[] = [];
    for (let page = 0; page < MAX_POSITION_PAGES; page++) {
      const query = `?user=${acct.makerText}&sizeThreshold=0&limit=${POSITION_PAGE}&offset=${page * POSITION_PAGE}`;
      const out = await this.#o.data.send({
        method: "GET",
        pathAndQuery: `/positions${query}`,
        timeoutMs: this.#o.timeoutMs,
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

  /** The port's `readiness`: clock offset (`GET /time`), each account's credentials (`GET /auth/api-keys`), the markets' rules. */
  async readiness(): Promise<Readiness> {
    const { clob, accounts, markets, maxClockSkewMs, timeoutMs, now } = this.#o;
    const t0 = now();
    const time = await clob.send({ method: "GET", pathAndQuery: "/time", timeoutMs });
    const t1 = now();
    const seconds = readServerSeconds(time);
    if (seconds === undefined) return { ready: false, detail: "the CLOB clock (GET /time) is unreachable" };
    // The venue's clock has whole seconds: its midpoint against ours.
    const clockOffsetMs = Math.round(seconds * 1000 + 500 - (t0 + t1) / 2);
    if (Math.abs(clockOffsetMs) > maxClockSkewMs)
      return {
        ready: false,
        detail: `clock offset ${clockOffsetMs} ms exceeds ${maxClockSkewMs} ms`,
        clockOffsetMs,
      };
    if (accounts.size === 0) return { ready: false, detail: "no accounts configured", clockOffsetMs };
    for (const account of accounts.values()) {
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
    for (const token of markets) {
      const rules = await this.#o.cache.refresh(token);
      if (!rules.ok) return { ready: false, detail: `market ${token}: ${rules.detail}`, clockOffsetMs };
    }
    return {
      ready: true,
      detail: `ready: ${accounts.size} account(s), ${markets.length} market(s), order version ${this.#o.orderVersion}`,
      clockOffsetMs,
    };
  }

  /** The account's balance of a token, per the CLOB (`GET /balance-allowance`, L2), in base units. */
  async balanceUnits(
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
  async #signedGet(account: PolymarketAccount, get: SignedGet): Promise<PlaneResult<HttpOutcome>> {
    const { action, path, query, target, purpose, guard } = get;
    const headers = await l2Headers(this.#o.plane, {
      account,
      payload: { action, method: "GET", path, body: "", nowMs: this.#o.now() },
      target,
      guard: guard ?? { decision: "QUERY", purpose, mode: "live" },
    });
    if (!headers.ok) return headers;
    const out = await this.#o.clob.send({
      method: "GET",
      pathAndQuery: path + query,
      headers: { ...headers.value },
      timeoutMs: this.#o.timeoutMs,
    });
    return { ok: true as const, value: out };
  }
}

/** CLOB order statuses → the port's. Anything else is not guessed: the lookup is `unavailable`. */
const ORDER_STATUS: Readonly<Record<string, VenueOrderState["status"]>> = {
  LIVE: "open",
  DELAYED: "open",
  UNMATCHED: "open",
  MATCHED: "filled",
  CANCELED: "canceled",
  CANCELLED: "canceled",
  CANCELED_MARKET_RESOLVED: "canceled",
  INVALID: "rejected",
  EXPIRED: "expired",
};

/** `GET /data/order/{hash}`: found, not found (404, or an empty answer), or unavailable. */
export function readOrderLookup(out: HttpOutcome): LookupOutcome {
  if (out.kind === "error") return { kind: "unavailable", detail: out.detail };
  if (out.status === 404) return { kind: "not_found" };
  if (out.status !== 200) return { kind: "unavailable", detail: `http_${out.status}` };
  const trimmed = out.text.trim();
  if (trimmed === "" || trimmed === "null" || trimmed === "{}") return { kind: "not_found" };
  const body = parseJsonKeepingNumbers(trimmed);
  if (!isRecord(body)) return { kind: "unavailable", detail: "malformed_answer" };
  const id = body.id;
  const rawStatus =
    typeof body.status === "string" ? body.status.toUpperCase().replace(/^ORDER_STATUS_/, "") : "";
  const status = Object.hasOwn(ORDER_STATUS, rawStatus) ? ORDER_STATUS[rawStatus] : undefined;
  const matched = decimalOf(body.size_matched);
  const original = decimalOf(body.original_size);
  const price = decimalOf(body.price);
  if (typeof id !== "string" || id === "") return { kind: "not_found" };
  if (status === undefined || matched === undefined || original === undefined || price === undefined)
    return { kind: "unavailable", detail: "unrecognised_order" };
  // MATCHED with less than the original size matched cannot be told apart from a partial fill: report what matched.
  const st = status === "filled" && matched < original ? "open" : status;
  return {
    kind: "found",
    orderId: id,
    status: st,
    fillQty: formatDecimal(matched),
    avgPrice: matched > 0n ? formatDecimal(price) : null,
  };
}

/** One page of the data API's `GET /positions`: every non-zero position, or undefined for a malformed answer. */
export function readPositionsPage(
  text: string,
  account: string,
): { readonly positions: VenuePosition[]; readonly count: number } | undefined {
  const body = parseJsonKeepingNumbers(text);
  if (!Array.isArray(body)) return undefined;
  const positions: VenuePosition[] = [];
  for (const item of body) {
    if (!isRecord(item) || typeof item.asset !== "string" || item.asset === "") return undefined;
    const size = typeof item.size === "string" ? parseDecimal(item.size, { signed: true }) : undefined;
    if (size === undefined) return undefined;
    if (size !== 0n) positions.push({ account, symbol: item.asset, qty: formatDecimal(size) });
  }
  return { positions, count: body.length };
}

/** `GET /balance-allowance`: the `balance` in base units (6 decimals), or undefined. */
export function readBalanceUnits(out: HttpOutcome): bigint | undefined {
  if (out.kind !== "response" || out.status !== 200) return undefined;
  const body = parseJsonKeepingNumbers(out.text);
  if (!isRecord(body) || typeof body.balance !== "string" || !/^(0|[1-9][0-9]*)$/.test(body.balance))
    return undefined;
  return BigInt(body.balance);
}

/** `GET /time`: the server's clock in seconds, or undefined. */
export function readServerSeconds(out: HttpOutcome): number | undefined {
  if (out.kind !== "response" || out.status !== 200) return undefined;
  const body = parseJsonKeepingNumbers(out.text.trim());
  const text = typeof body === "string" ? body : undefined;
  if (text === undefined || !/^[1-9][0-9]{0,12}$/.test(text)) return undefined;
  return Number(text);
}

function decimalOf(v: unknown): Decimal | undefined {
  return typeof v === "string" ? parseDecimal(v) : undefined;
}

/** The best bid and ask of a `GET /book` answer (levels as `{price, size}` text, in any order); undefined when it is not one. */
function readBookTop(text: string): { bid?: Decimal; ask?: Decimal } | undefined {
  const body = parseJsonKeepingNumbers(text);
  if (!isRecord(body) || !Array.isArray(body.bids) || !Array.isArray(body.asks)) return undefined;
  const prices = (levels: unknown[]): Decimal[] | undefined => {
    const out: Decimal[] = [];
    for (const l of levels) {
      if (!isRecord(l) || typeof l.price !== "string") return undefined;
      const p = parseDecimal(l.price);
      if (p === undefined) return undefined;
      out.push(p);
    }
    return out;
  };
  const bids = prices(body.bids);
  const asks = prices(body.asks);
  if (bids === undefined || asks === undefined) return undefined;
  const best = (xs: Decimal[], pick: (a: Decimal, b: Decimal) => boolean) =>
    xs.reduce<Decimal | undefined>((m, x) => (m === undefined || pick(x, m) ? x : m), undefined);
  const bid = best(bids, (a, b) => a > b);
  const ask = best(asks, (a, b) => a < b);
  return { ...(bid === undefined ? {} : { bid }), ...(ask === undefined ? {} : { ask }) };
}
