import type { Decimal } from "../../core/decimal.js";
import { DECIMAL_ONE } from "../../core/decimal.js";
import { parseStaticText } from "../../core/evm/eip712.js";
import { DECIMAL_PER_UNIT, sharesAndUsdc } from "../../core/polymarket/ctfOrder.js";
import type { BindOutcome } from "../payloadKind.js";
import { mismatch, ownField, readTargetDecimal, readTargetSide, readTargetString } from "./targetFields.js";

/** The venue both Polymarket payload kinds sign for. */
export const POLYMARKET_VENUE = "polymarket";
/** The most a conditional token share is worth: 1 USDC (as a Decimal). */
const SHARE_CAP = DECIMAL_ONE as Decimal;

/** What a Polymarket order trades, as a payload carries it (undefined: absent or malformed). */
export interface OrderTerms {
  readonly tokenId: bigint | undefined;
  /** `BUY` or `SELL`; anything else never matches. */
  readonly side: unknown;
  /** 6-decimal base units. */
  readonly makerAmount: bigint | undefined;
  readonly takerAmount: bigint | undefined;
}

/**
 * Compares what an order trades, whether from the EIP-712 `Order`
 * (`eip712-order`) or the body of `POST /order` (`hmac-clob-l2`), with
 * `target`, in order: `target.token_id` (or `target.symbol`), `target.side`,
 * the amounts (present and > 0), `target.qty` shares and, when given,
 * `target.price` exactly, from the maker and taker amounts. The effect is the
 * order's shares, its price (its amounts' ratio, rounded up) and the cap of 1
 * USDC a share is worth, for the signer's own notional (§3a). Never throws.
 */
export function bindOrderTerms(terms: OrderTerms, target: Readonly<Record<string, unknown>>): BindOutcome {
  const targetToken = ownField(target, "token_id") !== undefined ? "token_id" : "symbol";
  const expectedToken = readTargetString(target, targetToken);
  const expectedTokenId = expectedToken.ok ? parseStaticText("uint256", expectedToken.value) : undefined;
  if (terms.tokenId === undefined || expectedTokenId === undefined || terms.tokenId !== expectedTokenId) {
    return mismatch("token_id");
  }

  const side = readTargetSide(target);
  if (!side.ok || side.value === undefined || terms.side !== side.value) return mismatch("side");

  const { makerAmount, takerAmount } = terms;
  if (makerAmount === undefined || takerAmount === undefined || makerAmount === 0n || takerAmount === 0n) {
    return mismatch("amounts");
  }
  const [shareUnits, usdcUnits] = sharesAndUsdc(side.value, makerAmount, takerAmount);

  const qty = readTargetDecimal(target, "qty", true);
  if (!qty.ok || qty.value === undefined || shareUnits * DECIMAL_PER_UNIT !== qty.value)
    return mismatch("qty");

  // Price per share is usdc / shares; compare usdc × 1 with shares × price exactly.
  const price = readTargetDecimal(target, "price", true);
  if (!price.ok) return mismatch("price");
  if (price.value !== undefined && usdcUnits * DECIMAL_ONE !== shareUnits * price.value)
    return mismatch("price");

  return {
    ok: true,
    effect: {
      venue: POLYMARKET_VENUE,
      action: "order",
      symbol: terms.tokenId.toString(),
      order: {
        qty: (shareUnits * DECIMAL_PER_UNIT) as Decimal,
        price: ((usdcUnits * DECIMAL_ONE + shareUnits - 1n) / shareUnits) as Decimal,
        unitCap: SHARE_CAP,
      },
      replayableRead: false,
    },
  };
}
