import { type DetailOf, REASON_REGISTRY } from "../core/reasons.js";

/**
 * The signing plane port (signing-plane-v1): the only place key material
 * exists in clear. A caller asks it to sign one concrete payload and gets a
 * signature back, never a key. Which plane (local, remote, pkcs11) answers is
 * chosen by config; callers see only this interface.
 *
 * Contract every plane keeps: requests are authorized in the order of
 * {@link SIGNER_DENY_CODES} (first failure decides, nothing is signed);
 * every request, granted or denied, is audited; a grant never carries key
 * material; any error reading or decrypting a key is `signer_unavailable`.
 */
export interface SigningPlane {
  /** Authorizes and, if allowed, signs. `caller` is the transport-authenticated identity, never taken from the body. */
  sign(caller: string, request: SignRequest): Promise<SignOutcome>;
  /** Releases resources (sockets, sessions, key handles). */
  close(): Promise<void>;
}

/** Every intent a request may name (signing-plane-v1 §1), declared whether or not enabled. */
export const DECLARED_INTENTS = [
  "cex_api_signer",
  "per_user_clob_signer",
  "clob_api_signer",
  "shared_clob_signer",
  "onchain_transfer",
  "onchain_sweep",
  "redemption",
  "close_unwind",
  "recovery",
] as const;
export type Intent = (typeof DECLARED_INTENTS)[number];

/** Payload kinds, and the one each implemented intent signs. */
export type PayloadKind = "hmac-query" | "eip712-order" | "hmac-clob-l2";
export const INTENT_PAYLOAD_KIND: Readonly<Partial<Record<Intent, PayloadKind>>> = {
  cex_api_signer: "hmac-query",
  per_user_clob_signer: "eip712-order",
  clob_api_signer: "hmac-clob-l2",
};

/** One signing request (signing-plane-v1 §2). Fields are `unknown` where the plane must validate them. */
export interface SignRequest {
  readonly request_id: string;
  /** Whose key: an account id or a UUID (a well-formed UUID string is accepted as a UUID). */
  readonly account: string;
  readonly intent: string;
  /** The code path asking, e.g. `executor.binance-usdm.order`; each intent has a route allowlist. */
  readonly route: string;
  /** What the signature will do: venue, symbol/token_id, side, qty, price, reduce_only, … */
  readonly target: Readonly<Record<string, unknown>> | null | undefined;
  /** What the caller already decided: plan_id, decision, trading_state, permit_id, mode, source. */
  readonly guard_context: Readonly<Record<string, unknown>> | null | undefined;
  readonly payload: SignPayload;
}

/** The exact thing to sign, by kind. The plane decodes it itself and compares it with `target`. */
export type SignPayload =
  /** Binance USDⓈ-M: the exact query string (or form body) whose HMAC-SHA256 is the `signature` parameter. */
  | { readonly kind: "hmac-query"; readonly query: string }
  /** Polymarket CLOB L2 headers: HMAC-SHA256 over timestamp + method + path + body. */
  | {
      readonly kind: "hmac-clob-l2";
      readonly timestamp: string;
      readonly method: string;
      readonly path: string;
      readonly body: string;
    }
  /** Polymarket CTF Exchange order (EIP-712): domain and order struct, all integers as decimal strings. */
  | {
      readonly kind: "eip712-order";
      readonly domain: Readonly<Record<string, unknown>>;
      readonly order: Readonly<Record<string, unknown>>;
    };

/** The plane's answer. A grant never holds key material. */
export type SignOutcome =
  | {
      readonly granted: true;
      readonly request_id: string;
      /** Hex for `hmac-query`, urlsafe base64 for `hmac-clob-l2`, 0x-prefixed 65-byte hex for EIP-712. */
      readonly signature: string;
      /** For EIP-712: the address the signature recovers to. */
      readonly signer_address?: string;
      readonly plane_version: string;
    }
  | { readonly granted: false; readonly request_id: string; readonly reason: SignerDenyReason };

/** A denial: the code, with `:<field>` for `payload_mismatch` and `:<name>` for `policy` (the `signer_denied` details of the reason registry). */
export type SignerDenyReason = DetailOf<"signer_denied">;
/** A denial code without its parameter. */
export type SignerDenyCode = Exclude<SignerDenyReason, `${string}:${string}`>;
/** Denial codes in authorization order (signing-plane-v1 §3), read from the reason registry. */
export const SIGNER_DENY_CODES: readonly SignerDenyCode[] = Object.keys(
  REASON_REGISTRY.signer_denied.details,
).filter((d): d is SignerDenyCode => !d.includes(":"));

/** Version string every grant carries. */
export const PLANE_PROTOCOL_VERSION = "signing-plane-v1";
