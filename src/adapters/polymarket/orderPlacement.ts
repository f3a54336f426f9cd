import { randomBytes } from "node:crypto";
import { CLIENT_ORDER_ID_MAX_LENGTH, isClientOrderId } from "../../core/clientOrderId.js";
import { formatDecimal, parseDecimal } from "../../core/decimal.js";
import { parseStaticText } from "../../core/evm/eip712.js";
import type { OrderVersion } from "../../core/polymarket/ctfOrder.js";
import type { Reason, VenueErrorDetail } from "../../core/reasons.js";
import type {
  OrderGuard,
  OrderRef,
  PreparedOrder,
  PrepareOutcome,
  SendOutcome,
  VenueOrder,
} from "../../ports/venue.js";
import type { PolymarketAccount } from "./accounts.js";
import { buildSignedOrder } from "./buildOrder.js";
import { classifyPostOrder } from "./clobErrors.js";
import type { ClobHttp } from "./clobHttp.js";
import { parseJsonKeepingNumbers } from "./jsonText.js";
import type { MarketCache } from "./marketCache.js";
import { type ClobOrderType, checkOrder } from "./orderRules.js";
import { l2Headers, type PlaneContext } from "./planeSigning.js";
import { PolymarketTicket, placedState } from "./polymarketTicket.js";
import type { PolymarketReads } from "./venueReads.js";

const SALT_MASK = (1n << 53n) - 1n;

/** Options of {@link OrderPlacement}. */
export interface OrderPlacementOptions {
  /** The CLOB (`POST /order`). */
  readonly clob: ClobHttp;
  readonly plane: PlaneContext;
  readonly accounts: ReadonlyMap<string, PolymarketAccount>;
  readonly cache: MarketCache;
  /** The balance a `reduceOnly` SELL is checked against. */
  readonly reads: PolymarketReads;
  readonly chainId: number;
  readonly orderVersion: OrderVersion;
  /** Per HTTP request. */
  readonly timeoutMs: number;
  readonly now: () => number;
  /** The order salt; default 53 bits from the CSPRNG. */
  readonly randomSalt?: (() => bigint) | undefined;
}

/**
 * Placing Polymarket orders in the port's two steps: `prepare` checks the
 * order (its own fields, the market's rules, a `reduceOnly` SELL's balance),
 * builds the CTF Exchange order and has the plane sign it, the ref being its
 * order hash; `send` posts it once with L2 headers and maps the answer
 * through `clobErrors.ts`. The refusals are tabled on `createPolymarketVenue`.
 */
export class OrderPlacement {
  readonly #o: OrderPlacementOptions;
  readonly #salt: () => bigint;
  #closed = false;

  constructor(opts: OrderPlacementOptions) {
    this.#o = opts;
    this.#salt = opts.randomSalt ?? cryptoSalt;
  }

  /** Refuses every later `prepare` and `send` (`venue_error:venue_closed`). */
  close(): void {
    this.#closed = true;
  }

  /** The port's `prepare`: checks, signs, and fixes the ref (the order hash); never sends. */
  async prepare(order: VenueOrder, guard: OrderGuard): Promise<PrepareOutcome> {
    const deny = (reason: Reason, decision: "DENIED" | "FAILED" = "DENIED"): PrepareOutcome => ({
      ok: false,
      reason,
      decision,
    });
    if (this.#closed) return deny("venue_error:venue_closed", "FAILED");
    const account = this.#o.accounts.get(order.account);
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

    const market = await this.#o.cache.get(order.symbol);
    if (!market.ok)
      return market.detail === "unknown_market"
        ? deny("invalid_plan:unknown_symbol")
        : deny(`venue_error:${market.detail}`, "FAILED");
    const orderType: ClobOrderType = order.type === "LIMIT" ? "GTC" : "FOK";
    const checked = checkOrder({ side: order.side, qty, price, orderType }, market.rules);
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
      const held = await this.#o.reads.balanceUnits(account, order.symbol, guardContext);
      if (held === undefined) return deny("venue_error:balance_unavailable", "FAILED");
      if (held < amounts.shareUnits) return deny("venue_error:reduce_only_rejected", "FAILED");
    }

    const built = await buildSignedOrder({
      plane: this.#o.plane,
      account,
      version: this.#o.orderVersion,
      chainId: this.#o.chainId,
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
        nowMs: this.#o.now(),
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

  /** The port's `send`: `POST /order` once, never retried, never twice for one ticket. */
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
    const headers = await l2Headers(this.#o.plane, {
      account,
      payload: { action: "order", method: "POST", path: "/order", body, nowMs: this.#o.now() },
      target,
      guard: { ...guard },
    });
    if (!headers.ok) return { kind: "rejected", reason: headers.reason };
    const out = await this.#o.clob.send({
      method: "POST",
      pathAndQuery: "/order",
      headers: { ...headers.value },
      body,
      timeoutMs: this.#o.timeoutMs,
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
        if (answer.detail === "tick_size" || answer.detail === "min_size")
          this.#o.cache.invalidate(ref.symbol);
        const detail: VenueErrorDetail =
          answer.detail === "insufficient_balance" && reduceOnly ? "reduce_only_rejected" : answer.detail;
        return { kind: "rejected", reason: `venue_error:${detail}` };
      }
      case "placed":
        return { kind: "placed", ...placedState(ticket.contents, answer) };
    }
  }
}

/** A nonzero 53-bit salt from the CSPRNG (a salt travels as a JSON number). */
function cryptoSalt(): bigint {
  for (;;) {
    const salt = randomBytes(8).readBigUInt64BE() & SALT_MASK;
    if (salt !== 0n) return salt;
  }
}
