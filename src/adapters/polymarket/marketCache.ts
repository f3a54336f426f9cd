import { type Decimal, parseDecimal } from "../../core/decimal.js";
import type { ClobHttp, HttpOutcome } from "./clobHttp.js";
import { parseJsonKeepingNumbers } from "./jsonText.js";
import type { MarketRules } from "./orderRules.js";

/** A market's rules, or why they could not be read (a `venue_error` detail). */
export type RulesOutcome =
  | { readonly ok: true; readonly rules: MarketRules }
  | { readonly ok: false; readonly detail: "unknown_market" | "market_unavailable" };

/**
 * Reads and caches each outcome token's market rules from the public CLOB
 * endpoints clob-client-v2 uses: `GET /tick-size?token_id=` (tick size),
 * `GET /neg-risk?token_id=` (which exchange signs), `GET /book?token_id=`
 * (`min_order_size`). Entries live `ttlMs` (tick sizes change when a price
 * nears 0 or 1) and are dropped at once when the venue refuses an order for
 * its tick or size. Concurrent reads of one token share one round of requests.
 */
export class MarketCache {
  readonly #http: ClobHttp;
  readonly #ttlMs: number;
  readonly #timeoutMs: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, { readonly rules: MarketRules; readonly at: number }>();
  readonly #inFlight = new Map<string, Promise<RulesOutcome>>();

  constructor(deps: { http: ClobHttp; ttlMs: number; timeoutMs: number; now: () => number }) {
    this.#http = deps.http;
    this.#ttlMs = deps.ttlMs;
    this.#timeoutMs = deps.timeoutMs;
    this.#now = deps.now;
  }

  /** The token's rules, from the cache while fresh. */
  get(tokenId: string): Promise<RulesOutcome> {
    const hit = this.#entries.get(tokenId);
    if (hit !== undefined && this.#now() - hit.at < this.#ttlMs)
      return Promise.resolve({ ok: true, rules: hit.rules });
    return this.refresh(tokenId);
  }

  /** Reads the token's rules from the venue now. */
  refresh(tokenId: string): Promise<RulesOutcome> {
    const pending = this.#inFlight.get(tokenId);
    if (pending !== undefined) return pending;
    const p = this.#read(tokenId).finally(() => this.#inFlight.delete(tokenId));
    this.#inFlight.set(tokenId, p);
    return p;
  }

  /** Forgets a token's rules (the venue refused an order for them). */
  invalidate(tokenId: string): void {
    this.#entries.delete(tokenId);
  }

  async #read(tokenId: string): Promise<RulesOutcome> {
    const q = `?token_id=${encodeURIComponent(tokenId)}`;
    const get = (path: string) =>
      this.#http.send({ method: "GET", pathAndQuery: path + q, timeoutMs: this.#timeoutMs });
    const [tick, neg, book] = await Promise.all([get("/tick-size"), get("/neg-risk"), get("/book")]);
    for (const out of [tick, neg, book]) {
      if (out.kind === "response" && out.status === 404) return { ok: false, detail: "unknown_market" };
    }
    const tickSize = decimalField(tick, "minimum_tick_size");
    const negRisk = field(neg, "neg_risk");
    const minOrderSize = decimalField(book, "min_order_size");
    if (
      tickSize === undefined ||
      tickSize <= 0n ||
      typeof negRisk !== "boolean" ||
      minOrderSize === undefined
    )
      return { ok: false, detail: "market_unavailable" };
    const rules: MarketRules = { tickSize, negRisk, minOrderSize };
    this.#entries.set(tokenId, { rules, at: this.#now() });
    return { ok: true, rules };
  }
}

function field(out: HttpOutcome, name: string): unknown {
  if (out.kind !== "response" || out.status !== 200) return undefined;
  const body = parseJsonKeepingNumbers(out.text);
  if (typeof body !== "object" || body === null || !Object.hasOwn(body, name)) return undefined;
  return (body as Record<string, unknown>)[name];
}

function decimalField(out: HttpOutcome, name: string): Decimal | undefined {
  const v = field(out, name);
  return typeof v === "string" ? parseDecimal(v) : undefined;
}
