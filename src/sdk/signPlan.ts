import { type SigningKey, signerFor } from "./keys.js";

/** A plan ready to publish: the `plan` and `auth` fields of a plan entry (wire-v1 §2). */
export interface SignedPlan {
  /** The exact plan text that was signed; publish it unchanged. */
  readonly plan: string;
  /** `<alg>:<key_id>:<sig>`. */
  readonly auth: string;
}

/**
 * Signs a plan. A string is signed as its exact UTF-8 bytes; an object is
 * serialised once with `JSON.stringify` and those bytes are signed and
 * returned, so the published text is exactly what was signed.
 */
export function signPlan(opts: { plan: string | object; key: SigningKey }): SignedPlan {
  const { plan, key } = opts;
  if (Buffer.isBuffer(plan) || plan instanceof Uint8Array) {
    throw new TypeError("signPlan: pass the plan as a string or a plain object, not bytes");
  }
  const text = typeof plan === "string" ? plan : JSON.stringify(plan);
  if (typeof text !== "string") throw new TypeError("signPlan: plan is not serialisable as JSON");
  const sig = signerFor(key)(Buffer.from(text, "utf8"));
  return { plan: text, auth: `${key.alg}:${key.keyId}:${sig}` };
}
