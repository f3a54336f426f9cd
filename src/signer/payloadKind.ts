import type { Decimal } from "../core/decimal.js";
import type { PayloadKind, SignPayload } from "../ports/signingPlane.js";
import type { RevealedKey } from "./keyStore.js";

/**
 * One payload kind: how the plane decodes a payload, checks that it does what
 * `target` says, and signs it. The plane never signs bytes it did not decode.
 */
export interface PayloadKindHandler<K extends PayloadKind = PayloadKind> {
  readonly kind: K;
  /**
   * Decodes the payload and compares it with `target` field by field. Returns
   * the first mismatching field (`payload_mismatch:<field>`), or what the
   * signer's own limits need to know about the payload.
   */
  bind(payload: Extract<SignPayload, { kind: K }>, target: Readonly<Record<string, unknown>>): BindOutcome;
  /** Signs the exact payload with `key` (only ever called after authorization passed). */
  sign(payload: Extract<SignPayload, { kind: K }>, key: RevealedKey): Promise<SignatureOut>;
}

/** What a bound payload does, for the signer's limits (policy). */
export interface PayloadEffect {
  /** The symbol or token id it trades, when it trades. */
  readonly symbol?: string;
  /** qty × price when the payload places an order and a price is known. */
  readonly notional?: Decimal;
  /** True when the payload places an order (limits apply); false for queries. */
  readonly placesOrder: boolean;
}

export type BindOutcome =
  | { readonly ok: true; readonly effect: PayloadEffect }
  | { readonly ok: false; readonly field: string };

/** A signature as the venue wants it, plus the EIP-712 signer address. */
export interface SignatureOut {
  readonly signature: string;
  readonly signer_address?: string;
}

/**
 * Thrown by a handler's `sign` when the payload names a signer other than the
 * account's key (found only once the key is known). The plane denies it
 * `payload_mismatch:<field>`, not `signer_unavailable`.
 */
export class PayloadKeyMismatch extends Error {
  override readonly name = "PayloadKeyMismatch";
  constructor(readonly field: string) {
    super(`payload_mismatch:${field}: the payload is not signed by the account's key`);
  }
}
