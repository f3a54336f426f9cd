import type { PayloadKind, SignPayload } from "../../ports/signingPlane.js";
import type { PayloadKindHandler } from "../payloadKind.js";
import {
  decodePolymarketOrder,
  polymarketOrderDigest,
  polymarketOrderHandler,
} from "../payloads/polymarketOrder.js";
import { POLYGON_CHAIN_ID } from "../payloads/polymarketOrderDomains.js";

/**
 * What a token-held key signs for one payload, and how the token's raw output
 * becomes the venue's signature. The payload handlers' `sign(payload, key)`
 * needs the key in clear, so a PKCS#11 plane asks this instead.
 *
 * PROPOSED EXTENSION of `PayloadKindHandler` (src/signer/payloadKind.ts), to
 * move there and into each handler:
 *
 *     signingInput(payload): TokenSigningInput
 *
 * Until a handler has it, {@link tokenSigningInput} uses the built-in
 * adapters below, which follow the signature format each kind has in the
 * port (`SignOutcome.signature`): hex for `hmac-query`, urlsafe base64 with
 * padding for `hmac-clob-l2`; for `eip712-order` the production
 * `polymarketOrderHandler` (Polygon only) is adapted through its exported
 * `decodePolymarketOrder` + `polymarketOrderDigest`; any other eip712 handler
 * (e.g. `createPolymarketOrderHandler({ chainIds })`, whose chain ids are
 * closed over) must expose `digest(payload)` or `signingInput(payload)`.
 */
export type TokenSigningInput =
  /** HMAC-SHA256 of `data` with the entry's secret (the token holds the key bytes HMAC uses). */
  | { readonly mechanism: "hmac-sha256"; readonly data: Uint8Array; readonly encode: (mac: Buffer) => string }
  /** ECDSA secp256k1 of a 32-byte digest computed outside the token; the plane returns 0x r‖s‖v, v = 27 + recovery. */
  | {
      readonly mechanism: "ecdsa-secp256k1";
      readonly digest: Uint8Array;
      /**
       * The address the payload says signs it (the order's `signer`), as a 160-bit number: the plane
       * denies `payload_mismatch:signer` when the token key's address differs, before signing.
       */
      readonly expectedSigner?: bigint;
    };

type PayloadOf<K extends PayloadKind> = Extract<SignPayload, { kind: K }>;

/** A handler that says itself what a token signs (the proposed extension). */
interface TokenAwareHandler {
  signingInput(payload: SignPayload): TokenSigningInput;
}
/** An `eip712-order` handler exposing its digest function (either name). */
interface DigestingHandler {
  digest(payload: SignPayload): Uint8Array;
}

function hasMethod<N extends string>(h: unknown, name: N): h is Record<N, (...args: unknown[]) => unknown> {
  return typeof (h as Record<string, unknown> | null)?.[name] === "function";
}

const utf8 = (text: string): Uint8Array => Buffer.from(text, "utf8");

/** Built-in adapters for the kinds whose signing input is fixed by the venue. */
const BUILT_IN: { readonly [K in PayloadKind]?: (payload: PayloadOf<K>) => TokenSigningInput } = {
  // Binance USDⓈ-M: HMAC-SHA256 of the exact query string, lowercase hex (binanceQuery.ts).
  "hmac-query": (p) => ({
    mechanism: "hmac-sha256",
    data: utf8(p.query),
    encode: (mac) => mac.toString("hex"),
  }),
  // Polymarket CLOB L2: HMAC-SHA256 of timestamp+method+path+body keyed with the DECODED secret,
  // urlsafe base64 with padding (polymarketL2.ts).
  "hmac-clob-l2": (p) => ({
    mechanism: "hmac-sha256",
    data: utf8(p.timestamp + p.method + p.path + p.body),
    encode: (mac) => mac.toString("base64").replaceAll("+", "-").replaceAll("/", "_"),
  }),
};

/** True when a payload of `handler.kind` can be signed by a token-held key. */
export function canSignInToken(handler: PayloadKindHandler): boolean {
  if (hasMethod(handler, "signingInput")) return true;
  if (handler.kind !== "eip712-order") return BUILT_IN[handler.kind] !== undefined;
  return hasMethod(handler, "digest") || isDefaultOrderHandler(handler);
}

/** The production Polymarket order handler, whose chain ids are the default (Polygon). */
function isDefaultOrderHandler(handler: PayloadKindHandler): boolean {
  return (handler as unknown) === polymarketOrderHandler;
}

const DEFAULT_ORDER_CHAINS: ReadonlySet<string> = new Set([String(POLYGON_CHAIN_ID)]);

/** The token signing input of a bound payload (only ever called after authorization passed). */
export function tokenSigningInput(handler: PayloadKindHandler, payload: SignPayload): TokenSigningInput {
  if (payload.kind !== handler.kind)
    throw new TypeError(`a ${handler.kind} handler got a ${payload.kind} payload`);
  if (hasMethod(handler, "signingInput"))
    return (handler as unknown as TokenAwareHandler).signingInput(payload);
  if (payload.kind === "eip712-order") {
    if (!hasMethod(handler, "digest")) {
      if (!isDefaultOrderHandler(handler))
        throw new TypeError("the eip712-order handler exposes no digest(payload)");
      const decoded = decodePolymarketOrder(payload, DEFAULT_ORDER_CHAINS);
      if (!decoded.ok) throw new TypeError(`eip712-order: payload_mismatch:${decoded.field}`);
      const digest = polymarketOrderDigest(decoded.order);
      const signer = decoded.order.values.signer;
      return signer === undefined
        ? { mechanism: "ecdsa-secp256k1", digest }
        : { mechanism: "ecdsa-secp256k1", digest, expectedSigner: signer };
    }
    const digest = (handler as unknown as DigestingHandler).digest(payload);
    if (!(digest instanceof Uint8Array) || digest.length !== 32)
      throw new TypeError("the digest is not 32 bytes");
    return { mechanism: "ecdsa-secp256k1", digest };
  }
  const adapter = BUILT_IN[payload.kind] as ((p: SignPayload) => TokenSigningInput) | undefined;
  if (adapter === undefined) throw new TypeError(`no token signing input for ${payload.kind}`);
  return adapter(payload);
}
