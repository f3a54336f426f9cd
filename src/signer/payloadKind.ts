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
  /**
   * {@link bind} and what to sign, from ONE decode of the payload: the
   * planes sign the returned {@link SigningInput} (with a revealed key, or
   * inside a token), so what is signed is exactly what was bound to `target`
   * and the payload is decoded once. A handler without it is signed through
   * `sign(payload, key)` (vault planes only; a token cannot sign it).
   */
  bindInput?(
    payload: Extract<SignPayload, { kind: K }>,
    target: Readonly<Record<string, unknown>>,
  ): BoundInput;
}

/**
 * What a bound payload asks the key to sign, in a form every plane can sign:
 * with a key in memory (`signInput.ts`) or inside a PKCS#11 token.
 */
export type SigningInput =
  /**
   * HMAC-SHA256 of `data`. `secret: "base64"` keys it with the base64-DECODED
   * stored secret (Polymarket L2), `"raw"` with the stored bytes (Binance).
   * The MAC is written as lowercase hex, or urlsafe base64 with padding.
   */
  | {
      readonly mechanism: "hmac-sha256";
      readonly data: Uint8Array;
      readonly secret: "raw" | "base64";
      readonly encoding: "hex" | "base64url-padded";
    }
  /**
   * ECDSA secp256k1 of a 32-byte digest (no prehash): `0x` ‖ r ‖ s ‖ v, low-S,
   * verified against the key's address before it is returned. `signer` is the
   * address the payload says signs it: a key with another address is
   * {@link PayloadKeyMismatch} on `signer`, before anything is signed.
   */
  | {
      readonly mechanism: "ecdsa-secp256k1";
      readonly digest: Uint8Array;
      readonly signer: bigint;
    };

export type BoundInput =
  | { readonly ok: true; readonly effect: PayloadEffect; readonly input: SigningInput }
  | { readonly ok: false; readonly field: string };

/** What a bound payload does, for the signer's own limits (policy, §3a). Read from the payload alone. */
export interface PayloadEffect {
  /** The venue the payload is for (`binance-usdm`, `polymarket`): where the signer looks up its reference price. */
  readonly venue: string;
  /** The action the payload was decoded as (the route's, see `payloads/actions.ts`). */
  readonly action: string;
  /** The symbol or token id it trades or reads, when it names one. */
  readonly symbol?: string;
  /**
   * Present when the payload places an order (limits apply): its quantity,
   * its own price per unit when it has one (a LIMIT price; Polymarket: its
   * amounts' ratio, rounded up), and the most a unit can be worth when that
   * is bounded (a Polymarket share: 1 USDC).
   */
  readonly order?: {
    readonly qty: Decimal;
    readonly price?: Decimal | undefined;
    readonly unitCap?: Decimal | undefined;
  };
  /** The payload's own time: milliseconds since the epoch and its resolution (1000 for whole seconds). */
  readonly timestamp?: { readonly ms: number; readonly resolutionMs: number };
  /** Binance `recvWindow` (5000 when absent: Binance's default). */
  readonly recvWindowMs?: number;
  /** A dead-man countdown (Binance `countdownTime`): the milliseconds it arms, 0 to disarm (`policy:countdown`). */
  readonly countdownMs?: number;
  /** A read whose signature could also act (`payloads/actions.ts` `replayable`). */
  readonly replayableRead: boolean;
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
