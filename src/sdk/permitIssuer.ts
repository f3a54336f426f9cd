import { issuePermit, type PermitPayloadIn } from "./issuePermit.js";
import { type SigningKey, signerFor } from "./keys.js";

/** What {@link PermitIssuer.issue} grants: a permit payload whose expiry may be given as a lifetime. */
export type PermitGrant = Omit<PermitPayloadIn, "exp" | "iss"> &
  ({ readonly exp: number; readonly ttlMs?: never } | { readonly ttlMs: number; readonly exp?: never });

/**
 * A risk governor's permit issuer (wire-v1 §5): signs permit tokens with
 * its key (which the executor's config lists under `permits.issuers`).
 *
 * @example
 * ```ts
 * const issuer = new PermitIssuer({ key: { keyId: "gov-k1", alg: "ed25519", privateKey } });
 * const permit = issuer.issue({ permit_id: "pm-1", plan_id: "p-1", symbol: "BTCUSDT", side: "BUY",
 *   max_qty: "0.01", reduce_only: false, ttlMs: 30_000 });
 * permit.split(".").length; // => 2
 * ```
 */
export class PermitIssuer {
  readonly #key: SigningKey;
  readonly #clock: () => number;

  constructor(opts: { readonly key: SigningKey; readonly clock?: () => number }) {
    signerFor(opts.key); // a bad key fails here, not at the first permit
    this.#key = opts.key;
    this.#clock = opts.clock ?? Date.now;
  }

  /** A permit token `<payload>.<sig>`; a malformed grant is a `TypeError` naming the field. */
  issue(grant: PermitGrant): string {
    const { ttlMs, exp, ...rest } = grant;
    if (ttlMs !== undefined && (!Number.isSafeInteger(ttlMs) || ttlMs <= 0))
      throw new TypeError("PermitIssuer: ttlMs must be a positive integer (ms)");
    return issuePermit({ ...rest, exp: exp ?? this.#clock() + (ttlMs ?? 0) }, this.#key);
  }
}
