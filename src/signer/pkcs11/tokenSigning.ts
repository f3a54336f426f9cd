import type { PayloadKind, SignPayload } from "../../ports/signingPlane.js";
import type { Authorized } from "../authorize.js";
import type { PayloadKindHandler, SigningInput } from "../payloadKind.js";

/**
 * What a token-held key signs for one authorized request. No handler is
 * special-cased by name: the planes sign what the handler said, from
 *
 * 1. `bindInput` (every built-in handler): `auth.input`, from the same decode
 *    that was bound to `target`;
 * 2. else `signingInput(payload)`, when the handler has it;
 * 3. else the payload kind's row of {@link TOKEN_SIGNING}, the one table of
 *    what a token signs for each kind (its mechanism, and the input read from
 *    the payload when the handler does not say it).
 *
 * Whichever says it, the input's mechanism must be the kind's.
 */
export type TokenSigningInput =
  | SigningInput
  | { readonly mechanism: "ecdsa-secp256k1"; readonly digest: Uint8Array; readonly signer?: undefined };

type PayloadOf<K extends PayloadKind> = Extract<SignPayload, { kind: K }>;

/** How a token signs one payload kind. */
export interface TokenSigningRow<K extends PayloadKind> {
  /** The mechanism every signature of this kind uses (`CKM_SHA256_HMAC` or `CKM_ECDSA` in the token). */
  readonly mechanism: SigningInput["mechanism"];
  /**
   * For a handler with neither `bindInput` nor `signingInput`: why a token
   * cannot sign for it, or `undefined` when {@link input} can say what to sign.
   */
  readonly unsupported: (handler: PayloadKindHandler<K>) => string | undefined;
  /** The input for such a handler (only called when {@link unsupported} said `undefined`). */
  readonly input: (handler: PayloadKindHandler<K>, payload: PayloadOf<K>) => TokenSigningInput;
}

function hasMethod<N extends string>(h: unknown, name: N): h is Record<N, (...args: unknown[]) => unknown> {
  return typeof (h as Record<string, unknown> | null)?.[name] === "function";
}

const utf8 = (text: string): Uint8Array => Buffer.from(text, "utf8");
const always = (): undefined => undefined;

/** Payload kind → how a token signs it. A new kind does not compile until it has a row. */
export const TOKEN_SIGNING: { readonly [K in PayloadKind]: TokenSigningRow<K> } = {
  // Binance USDⓈ-M: HMAC-SHA256 of the exact query string, lowercase hex (binanceQuery.ts).
  "hmac-query": {
    mechanism: "hmac-sha256",
    unsupported: always,
    input: (_h, p) => ({ mechanism: "hmac-sha256", data: utf8(p.query), secret: "raw", encoding: "hex" }),
  },
  // Polymarket CLOB L2: HMAC-SHA256 of timestamp+method+path+body keyed with the DECODED secret
  // (the token holds the decoded bytes), urlsafe base64 with padding (polymarketL2.ts).
  "hmac-clob-l2": {
    mechanism: "hmac-sha256",
    unsupported: always,
    input: (_h, p) => ({
      mechanism: "hmac-sha256",
      data: utf8(p.timestamp + p.method + p.path + p.body),
      secret: "base64",
      encoding: "base64url-padded",
    }),
  },
  // EIP-712 orders: CKM_ECDSA on the digest the handler computes; only the handler knows the
  // domain, so one without `digest(payload)` cannot be signed (and with it nothing ties the
  // order's signer to the key: prefer `bindInput`).
  "eip712-order": {
    mechanism: "ecdsa-secp256k1",
    unsupported: (h) =>
      hasMethod(h, "digest")
        ? undefined
        : "the eip712-order handler exposes no digest(payload) or signingInput(payload): a token cannot sign it",
    input: (h, p) => {
      const digest = (h as unknown as { digest(p: SignPayload): Uint8Array }).digest(p);
      if (!(digest instanceof Uint8Array) || digest.length !== 32)
        throw new TypeError("the digest is not 32 bytes");
      return { mechanism: "ecdsa-secp256k1", digest };
    },
  },
};

/** The row of `kind`, or undefined for a kind no row names (a handler of a kind this build does not know). */
function rowOf(kind: PayloadKind): TokenSigningRow<PayloadKind> | undefined {
  return (TOKEN_SIGNING as Partial<Record<string, TokenSigningRow<PayloadKind>>>)[kind];
}

/** Why a token cannot sign payloads of `handler.kind` with this handler, or `undefined` when it can. */
export function tokenSigningProblem(handler: PayloadKindHandler): string | undefined {
  const row = rowOf(handler.kind);
  if (row === undefined) return `no token signing input for payload kind ${handler.kind}`;
  if (typeof handler.bindInput === "function" || hasMethod(handler, "signingInput")) return undefined;
  return row.unsupported(handler);
}

/** True when a payload of `handler.kind` can be signed by a token-held key. */
export function canSignInToken(handler: PayloadKindHandler): boolean {
  return tokenSigningProblem(handler) === undefined;
}

/** The token signing input of an authorized request (only ever called after authorization passed). */
export function tokenSigningInput(auth: Authorized): TokenSigningInput {
  const { handler, payload } = auth;
  const row = rowOf(handler.kind);
  if (row === undefined) throw new TypeError(`no token signing input for ${handler.kind}`);
  let input: TokenSigningInput;
  if (auth.input !== undefined) {
    input = auth.input;
  } else {
    if (payload.kind !== handler.kind)
      throw new TypeError(`a ${handler.kind} handler got a ${payload.kind} payload`);
    if (hasMethod(handler, "signingInput")) {
      input = (handler as unknown as { signingInput(p: SignPayload): SigningInput }).signingInput(payload);
    } else {
      const problem = row.unsupported(handler);
      if (problem !== undefined) throw new TypeError(problem);
      input = row.input(handler, payload);
    }
  }
  if (input.mechanism !== row.mechanism)
    throw new TypeError(`a ${handler.kind} payload is signed with ${row.mechanism}, not ${input.mechanism}`);
  return input;
}
