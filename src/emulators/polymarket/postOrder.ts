import { DECIMAL_ONE, type Decimal, formatDecimal } from "../../core/decimal.js";
import { toChecksumAddress } from "../../core/evm/address.js";
import { recoverSigner } from "../../core/evm/ecdsa.js";
import { toHex32 } from "../../core/evm/eip712.js";
import { isRecord } from "../../core/isRecord.js";
import {
  CTF_ORDER_VERSIONS,
  exchangeFor,
  isSignatureType,
  makerAndTaker,
  type OrderVersion,
  orderDigest,
  orderDomain,
  sharesAndUsdc,
} from "../../core/polymarket/ctfOrder.js";
import { readOrderJson, versionOfJson } from "../../core/polymarket/orderJson.js";
import { parseStrictJson } from "../../core/strictJson.js";
import type { EmulatorExchange, EmulatorOrder } from "./emulatorExchange.js";
import { unitsText } from "./emulatorExchange.js";
import { EMULATOR_CONDITION_ID } from "./trades.js";

/** The API key a request authenticated as. */
export interface AuthedKey {
  readonly key: string;
  readonly address: bigint;
  /** The wallet whose funds the key trades (the order's maker for signature types 1 and 2). */
  readonly funder: bigint;
}

/** An HTTP answer: status and JSON body. */
export interface Answer {
  readonly status: number;
  readonly body: unknown;
}

/** The CLOB's messages, as its documentation and clients spell them. */
export const CLOB_MESSAGES = {
  payload: "Invalid order payload",
  owner: "the order owner has to be the owner of the API KEY",
  version: "order_version_mismatch",
  market: "market not found",
  signer: "the order signer address has to be the address of the API KEY",
  signature: "invalid signature",
  duplicated: "order is invalid. Duplicated. Same order has already been placed, can't be placed again",
  tick: "order is invalid. Price breaks minimum tick size rules",
  minSize: "order is invalid. Size lower than the minimum",
  marketBuyAmounts:
    "invalid amounts, the market buy orders maker amount supports a max accuracy of 2 decimals, taker amount a max of 4 decimals",
  marketSellAmounts:
    "invalid amounts, the market sell orders maker amount supports a max accuracy of 2 decimals, taker amount a max of 4 decimals",
  marketBuyMin: "invalid amount for a marketable buy order, min size: $1",
  balance: "not enough balance / allowance",
  fok: "order couldn't be fully filled. FOK orders are fully filled or killed.",
  fak: "no orders found to match with FAK order. FAK orders are partially filled or killed if no match is found.",
  expiration: "invalid expiration",
} as const;

const ORDER_TYPES = new Set(["GTC", "GTD", "FOK", "FAK"]);

/** What `POST /order` is checked against: the exchange state, the chain, the versions taken, the clock. */
export interface PostOrderContext {
  readonly exchange: EmulatorExchange;
  readonly chainId: number;
  readonly acceptVersions: ReadonlySet<OrderVersion>;
  /** The server's clock (skew applied), ms. */
  readonly nowMs: number;
}

/**
 * `POST /order` after the L2 headers passed, checked as the CLOB does, in
 * order: payload, owner = API key, domain version accepted, market known,
 * signer = the key's address, maker (EOA: the signer; proxy/safe: the key's
 * funder), EIP-712 signature recovers to the signer under the market's
 * exchange (neg-risk or standard), order type, duplicate (order hash or
 * maker + salt), price on the tick, minimum size, marketable-order amount
 * precision, balance (a SELL needs the tokens not held by resting orders),
 * then matching: FOK fills in full or is killed, FAK fills what it can,
 * GTC/GTD rest what does not fill.
 */
export function postOrder(ctx: PostOrderContext, key: AuthedKey, rawBody: string): Answer {
  const no = (error: string): Answer => ({ status: 400, body: { error } });
  const parsed = parseStrictJson(rawBody);
  if (!parsed.ok || !isRecord(parsed.value)) return no(CLOB_MESSAGES.payload);
  const body = parsed.value;
  const json = body.order;
  if (!isRecord(json) || typeof body.orderType !== "string") return no(CLOB_MESSAGES.payload);
  if (body.owner !== key.key) return no(CLOB_MESSAGES.owner);
  const version = versionOfJson(json);
  if (version === undefined) return no(CLOB_MESSAGES.payload);
  if (!ctx.acceptVersions.has(version)) return no(CLOB_MESSAGES.version);
  const spec = CTF_ORDER_VERSIONS[version];
  const read = readOrderJson(spec, json);
  if (!read.ok) return no(CLOB_MESSAGES.payload);
  const v = read.values;
  const tokenId = v.tokenId!.toString();
  const market = ctx.exchange.markets.get(tokenId);
  if (market === undefined) return no(CLOB_MESSAGES.market);

  const signer = v.signer!;
  const maker = v.maker!;
  const signatureType = v.signatureType!;
  if (signer !== key.address) return no(CLOB_MESSAGES.signer);
  if (!isSignatureType(signatureType)) return no(CLOB_MESSAGES.signature);
  if (signatureType === 0n ? maker !== signer : maker !== key.funder) return no(CLOB_MESSAGES.signature);
  const exchangeAddress = exchangeFor(spec, ctx.chainId, market.negRisk);
  if (exchangeAddress === undefined) return no(CLOB_MESSAGES.version);
  const domain = orderDomain(spec, ctx.chainId, exchangeAddress);
  const digest = orderDigest(spec, domain, v);
  if (recoverSigner(digest, json.signature) !== signer) return no(CLOB_MESSAGES.signature);

  const orderType = body.orderType;
  if (!ORDER_TYPES.has(orderType)) return no(CLOB_MESSAGES.payload);
  const expiration = v.expiration ?? 0n;
  if (orderType === "GTD" && expiration * 1000n <= BigInt(ctx.nowMs) + 60_000n)
    return no(CLOB_MESSAGES.expiration);
  const hash = toHex32(digest);
  if (ctx.exchange.isDuplicate(hash, maker, v.salt!)) return no(CLOB_MESSAGES.duplicated);

  const side = v.side === 0n ? "BUY" : "SELL";
  const makerAmount = v.makerAmount!;
  const takerAmount = v.takerAmount!;
  const [shares, usdc] = sharesAndUsdc(side, makerAmount, takerAmount);
  if (shares === 0n || usdc === 0n) return no(CLOB_MESSAGES.payload);
  // price = usdc / shares must be k × tick, with tick ≤ price ≤ 1 − tick.
  const tick = market.tickSize;
  if ((usdc * DECIMAL_ONE) % (shares * tick) !== 0n) return no(CLOB_MESSAGES.tick);
  const price = ((usdc * DECIMAL_ONE) / shares) as Decimal;
  if (price < tick || price > DECIMAL_ONE - tick) return no(CLOB_MESSAGES.tick);
  if (shares < market.minOrderUnits) return no(CLOB_MESSAGES.minSize);
  const marketable = orderType === "FOK" || orderType === "FAK";
  if (marketable) {
    if (makerAmount % 10_000n !== 0n || takerAmount % 100n !== 0n)
      return no(side === "BUY" ? CLOB_MESSAGES.marketBuyAmounts : CLOB_MESSAGES.marketSellAmounts);
    if (side === "BUY" && usdc < 1_000_000n) return no(CLOB_MESSAGES.marketBuyMin);
  }
  const available = ctx.exchange.available(maker, side, tokenId);
  if (available !== undefined && available < (side === "BUY" ? usdc : shares))
    return no(CLOB_MESSAGES.balance);

  const fill = ctx.exchange.fillable(tokenId, side, price, shares);
  if (orderType === "FOK" && fill < shares) return no(CLOB_MESSAGES.fok);
  if (orderType === "FAK" && fill === 0n) return no(CLOB_MESSAGES.fak);
  const fillUsdc = (usdc * fill) / shares;
  const full = fill === shares;
  const order: EmulatorOrder = {
    orderHash: hash,
    owner: key.key,
    maker: toChecksumAddress(maker),
    signer: toChecksumAddress(signer),
    tokenId,
    side,
    orderType,
    version,
    negRisk: market.negRisk,
    exchange: exchangeAddress,
    salt: v.salt!.toString(),
    size: unitsText(shares),
    price: formatDecimal(price),
    sizeMatched: unitsText(fill),
    status: full ? "MATCHED" : marketable ? "CANCELED" : "LIVE",
    createdAt: Math.floor(ctx.nowMs / 1000),
    rawBody,
  };
  const tradeId = ctx.exchange.accept(order, {
    saltMaker: maker,
    salt: v.salt!,
    shares: fill,
    usdc: fillUsdc,
    nowMs: ctx.nowMs,
  });
  const [making, taking] = makerAndTaker(side, fill, fillUsdc);
  return {
    status: 200,
    body: {
      success: true,
      errorMsg: "",
      orderID: hash,
      status: fill > 0n ? "matched" : "live",
      makingAmount: unitsText(making),
      takingAmount: unitsText(taking),
      transactionsHashes: [],
      tradeIDs: tradeId === undefined ? [] : [tradeId],
    },
  };
}

/** `GET /data/order/{hash}` for the key that placed it, as clob-client-v2's `OpenOrder`. */
export function orderView(o: EmulatorOrder): Record<string, unknown> {
  return {
    id: o.orderHash,
    status: o.status,
    owner: o.owner,
    maker_address: o.maker,
    market: EMULATOR_CONDITION_ID,
    asset_id: o.tokenId,
    side: o.side,
    original_size: o.size,
    size_matched: o.sizeMatched,
    price: o.price,
    associate_trades: [],
    outcome: "YES",
    created_at: o.createdAt,
    expiration: "0",
    order_type: o.orderType,
  };
}
