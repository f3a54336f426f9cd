import { UNSIGNED_DECIMAL_RE } from "../core/decimal.js";
import { type SigningKey, signerFor } from "./keys.js";

/** What a permit grants (wire-v1 §5), without the version field. */
export interface PermitPayloadIn {
  readonly permit_id: string;
  readonly plan_id: string;
  readonly symbol: string;
  readonly side: "BUY" | "SELL";
  /** Decimal string; the plan's qty must be ≤ it. */
  readonly max_qty: string;
  readonly reduce_only: boolean;
  /** Expiry, ms since epoch. */
  readonly exp: number;
  /** The issuer's key id; defaults to the signing key's id and must equal it. */
  readonly iss?: string;
}

/**
 * Issues a permit token `<payload>.<sig>` (wire-v1 §5): `payload` is the
 * unpadded base64url of the JSON `{"v":1,…}`, and `sig` the issuer key's
 * signature over the ASCII bytes of that base64url text.
 */
export function issuePermit(payload: PermitPayloadIn, key: SigningKey): string {
  const iss = payload.iss ?? key.keyId;
  if (iss !== key.keyId)
    throw new TypeError(`issuePermit: iss "${iss}" is not the signing key's id "${key.keyId}"`);
  for (const f of ["permit_id", "plan_id", "symbol"] as const) {
    if (typeof payload[f] !== "string" || payload[f] === "")
      throw new TypeError(`issuePermit: ${f} must be a non-empty string`);
  }
  if (payload.side !== "BUY" && payload.side !== "SELL")
    throw new TypeError("issuePermit: side must be BUY or SELL");
  if (typeof payload.max_qty !== "string" || !UNSIGNED_DECIMAL_RE.test(payload.max_qty)) {
    throw new TypeError("issuePermit: max_qty must be a decimal string");
  }
  if (typeof payload.reduce_only !== "boolean")
    throw new TypeError("issuePermit: reduce_only must be a boolean");
  if (!Number.isSafeInteger(payload.exp) || payload.exp <= 0)
    throw new TypeError("issuePermit: exp must be ms since epoch");
  const body = {
    v: 1,
    permit_id: payload.permit_id,
    plan_id: payload.plan_id,
    symbol: payload.symbol,
    side: payload.side,
    max_qty: payload.max_qty,
    reduce_only: payload.reduce_only,
    exp: payload.exp,
    iss,
  };
  const encoded = Buffer.from(JSON.stringify(body), "utf8").toString("base64url");
  const sig = signerFor(key)(Buffer.from(encoded, "ascii"));
  return `${encoded}.${sig}`;
}
