import { createHash } from "node:crypto";

/**
 * Client order ids: the one statement of their alphabet and lengths, the
 * check every venue adapter, the signer's payload checks and the emulators
 * apply, and the id the executor derives for a plan.
 *
 * The alphabet is Binance's, `[.A-Z:/a-z0-9_-]`: every venue takes it, and
 * plan_id's alphabet is a subset of it.
 */
export const CLIENT_ORDER_ID_ALPHABET = ".A-Z:/a-z0-9_-";
/** Binance's limit, the strictest of the venues: what an id sent to a venue fits. */
export const BINANCE_CLIENT_ORDER_ID_MAX_LENGTH = 36;
/**
 * What the executor carries in an order ref and tells the signer where the
 * venue never sees the id (paper, Polymarket): plan_id's own limit.
 */
export const CLIENT_ORDER_ID_MAX_LENGTH = 64;

const ALPHABET_RE = new RegExp(`^[${CLIENT_ORDER_ID_ALPHABET}]+$`);

/**
 * True when `text` is 1 to `maxLength` characters of {@link CLIENT_ORDER_ID_ALPHABET}.
 * @example isClientOrderId("ig-plan/1", BINANCE_CLIENT_ORDER_ID_MAX_LENGTH) // true
 */
export function isClientOrderId(
  text: unknown,
  maxLength: number = CLIENT_ORDER_ID_MAX_LENGTH,
): text is string {
  return typeof text === "string" && text.length <= maxLength && ALPHABET_RE.test(text);
}

const PREFIX = "ig-";
/** Hashed ids start with `ig/`: `/` is in the alphabet but never in a plan_id, so the two forms cannot collide. */
const HASHED_PREFIX = "ig/";

/**
 * The client order id for a plan: derived from `plan_id` alone, so a retry of
 * the same plan can never place a second order. It always passes
 * {@link isClientOrderId} at {@link BINANCE_CLIENT_ORDER_ID_MAX_LENGTH}: a
 * plan_id too long to fit is replaced by a hash of it under a prefix no
 * plan_id can produce.
 */
export function clientOrderId(planId: string): string {
  if (PREFIX.length + planId.length <= BINANCE_CLIENT_ORDER_ID_MAX_LENGTH) return PREFIX + planId;
  const digest = createHash("sha256").update(planId, "utf8").digest("base64url");
  return HASHED_PREFIX + digest.slice(0, BINANCE_CLIENT_ORDER_ID_MAX_LENGTH - HASHED_PREFIX.length);
}
