import type { PayloadKind, SignPayload } from "../../ports/signingPlane.js";
import type { Authorized } from "../authorize.js";
import type { PayloadKindHandler, SigningInput } from "../payloadKind.js";

/**
 * What a token-held key signs for one authorized request. A handler with
 * `prepare` (every built-in one) already said it, from the same decode that
 * was bound to `target`: `auth.input`. For other handlers:
 *
 * - `signingInput(payload)` returning a {@link SigningInput}, or
 * - for `eip712-order`, `digest(payload)` (32 bytes; nothing then ties the
 *   order's signer to the key: prefer `prepare`), or
 * - for the HMAC kinds, the input the venue fixes (hex for `hmac-query`,
 *   urlsafe base64 with padding for `hmac-clob-l2`).
 */
export type TokenSigningInput =
  | SigningInput
  | { readonly mechanism: "ecdsa-secp256k1"; readonly digest: Uint8Array; readonly signer?: undefined };

type PayloadOf<K extends PayloadKind> = Extract<SignPayload, { kind: K }>;

function hasMethod<N extends string>(h: unknown, name: N): h is Record<N, (...args: unknown[]) => unknown> {
  return typeof (h as Record<string, unknown> | null)?.[name] === "function";
}

const utf8 = (text: string): Uint8Array => Buffer.from(text, "utf8");

/** The input the venue fixes for the HMAC kinds, for handlers that do not say it themselves. */
const BUILT_IN: { readonly [K in PayloadKind]?: (payload: PayloadOf<K>) => SigningInput } = {
  // Binance USDⓈ-M: HMAC-SHA256 of the exact query string, lowercase hex (binanceQuery.ts).
  "hmac-query": (p) => ({ mechanism: "hmac-sha256", data: utf8(p.query), secret: "raw", encoding: "hex" }),
  // Polymarket CLOB L2: HMAC-SHA256 of timestamp+method+path+body keyed with the DECODED secret
  // (the token holds the decoded bytes), urlsafe base64 with padding (polymarketL2.ts).
  "hmac-clob-l2": (p) => ({
    mechanism: "hmac-sha256",
    data: utf8(p.timestamp + p.method + p.path + p.body),
    secret: "base64",
    encoding: "base64url-padded",
  }),
};

/** True when a payload of `handler.kind` can be signed by a token-held key. */
export function canSignInToken(handler: PayloadKindHandler): boolean {
  if (typeof handler.prepare === "function" || hasMethod(handler, "signingInput")) return true;
  if (handler.kind === "eip712-order") return hasMethod(handler, "digest");
  return BUILT_IN[handler.kind] !== undefined;
}

/** The token signing input of an authorized request (only ever called after authorization passed). */
export function tokenSigningInput(auth: Authorized): TokenSigningInput {
  if (auth.input !== undefined) return auth.input;
  const { handler, payload } = auth;
  if (payload.kind !== handler.kind)
    throw new TypeError(`a ${handler.kind} handler got a ${payload.kind} payload`);
  if (hasMethod(handler, "signingInput")) {
    return (handler as unknown as { signingInput(p: SignPayload): SigningInput }).signingInput(payload);
  }
  if (payload.kind === "eip712-order") {
    if (!hasMethod(handler, "digest"))
      throw new TypeError("the eip712-order handler exposes no digest(payload)");
    const digest = (handler as unknown as { digest(p: SignPayload): Uint8Array }).digest(payload);
    if (!(digest instanceof Uint8Array) || digest.length !== 32)
      throw new TypeError("the digest is not 32 bytes");
    return { mechanism: "ecdsa-secp256k1", digest };
  }
  const adapter = BUILT_IN[payload.kind] as ((p: SignPayload) => SigningInput) | undefined;
  if (adapter === undefined) throw new TypeError(`no token signing input for ${payload.kind}`);
  return adapter(payload);
}
