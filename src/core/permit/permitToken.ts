import { z } from "zod";
import { decodeBase64url } from "../auth/base64url.js";
import { verifySignature } from "../auth/verifySignature.js";
import { type Decimal, parseDecimal, UNSIGNED_DECIMAL_RE } from "../decimal.js";
import type { Side } from "../plan.js";
import type { Policy } from "../policy.js";
import { parseStrictJson } from "../strictJson.js";

/** A permit payload that verified (wire-v1 §5). */
export interface Permit {
  readonly permit_id: string;
  readonly plan_id: string;
  readonly symbol: string;
  readonly side: Side;
  readonly max_qty: Decimal;
  readonly reduce_only: boolean;
  readonly exp: number;
  readonly iss: string;
}

const permitPayloadSchema = z.strictObject({
  v: z.literal(1),
  permit_id: z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/),
  plan_id: z.string().min(1).max(64),
  symbol: z.string().min(1).max(128),
  side: z.enum(["BUY", "SELL"]),
  max_qty: z.string().regex(UNSIGNED_DECIMAL_RE),
  reduce_only: z.boolean(),
  exp: z.number().int().nonnegative(),
  iss: z.string().min(1).max(128),
});

/** Why a token is not a valid permit: the `<detail>` of `permit_invalid:<detail>`. */
export type PermitInvalid = "format" | "payload" | "issuer" | "signature";

/**
 * Decodes a permit token `<payload>.<sig>` and verifies it with the issuer key
 * it names, which must be listed in `permits.issuers` and have the
 * `permit_issuer` role. Expiry and plan binding are the permit gate's job.
 */
export function verifyPermitToken(
  token: string,
  policy: Policy,
): { ok: true; permit: Permit } | { ok: false; invalid: PermitInvalid } {
  const parts = token.split(".");
  if (parts.length !== 2) return { ok: false, invalid: "format" };
  const [payloadText, sigText] = parts as [string, string];
  const payloadBytes = decodeBase64url(payloadText);
  const sig = decodeBase64url(sigText);
  if (!payloadBytes || !sig || payloadBytes.length === 0 || sig.length === 0)
    return { ok: false, invalid: "format" };
  const json = parseStrictJson(payloadBytes.toString("utf8"));
  if (!json.ok) return { ok: false, invalid: "payload" };
  const parsed = permitPayloadSchema.safeParse(json.value);
  if (!parsed.success) return { ok: false, invalid: "payload" };
  const p = parsed.data;
  const key = policy.keys.get(p.iss);
  if (key?.role !== "permit_issuer" || !policy.permits.issuers.has(p.iss))
    return { ok: false, invalid: "issuer" };
  if (!verifySignature(key, Buffer.from(payloadText, "latin1"), sig))
    return { ok: false, invalid: "signature" };
  const maxQty = parseDecimal(p.max_qty);
  if (maxQty === undefined) return { ok: false, invalid: "payload" };
  return {
    ok: true,
    permit: {
      permit_id: p.permit_id,
      plan_id: p.plan_id,
      symbol: p.symbol,
      side: p.side,
      max_qty: maxQty,
      reduce_only: p.reduce_only,
      exp: p.exp,
      iss: p.iss,
    },
  };
}

/**
 * Reads a token's `permit_id` without verifying it, only to know which
 * permit facts to load; the permit gate verifies before anything relies on it.
 */
export function peekPermitId(token: string): string | undefined {
  return peekPermitField(token, "permit_id");
}

/** The `iss` (issuer key id) a permit token claims, unverified; undefined when unreadable. */
export function peekPermitIssuer(token: string): string | undefined {
  return peekPermitField(token, "iss");
}

function peekPermitField(token: string, field: "permit_id" | "iss"): string | undefined {
  const payload = decodeBase64url(token.split(".")[0] ?? "");
  if (!payload) return undefined;
  try {
    const value = (JSON.parse(payload.toString("utf8")) as Record<string, unknown>)[field];
    return typeof value === "string" ? value : undefined;
  } catch {
    return undefined;
  }
}
