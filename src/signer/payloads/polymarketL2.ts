import { createHmac } from "node:crypto";
import { parseStaticText } from "../../core/evm/eip712.js";
import { isRecord } from "../../core/isRecord.js";
import { parseStrictJson } from "../../core/strictJson.js";
import type { SignPayload } from "../../ports/signingPlane.js";
import { KeyStoreError, type RevealedKey } from "../keyStore.js";
import type { BindOutcome, BoundInput, PayloadKindHandler, SignatureOut } from "../payloadKind.js";
import { actionSpec, pathMatches } from "./actions.js";
import { decodeBase64Secret } from "./base64Secret.js";
import { bindL2Body } from "./polymarketL2Bodies.js";
import { bindOrderTerms, POLYMARKET_VENUE } from "./polymarketOrderTerms.js";
import { mismatch, ownField } from "./targetFields.js";

type ClobL2Payload = Extract<SignPayload, { kind: "hmac-clob-l2" }>;
type Target = Readonly<Record<string, unknown>>;

const METHODS: ReadonlySet<string> = new Set(["GET", "POST", "DELETE"]);
/** Seconds since the epoch, as clob-client writes it (`${ts}`). */
const TIMESTAMP_RE = /^(0|[1-9][0-9]{0,15})$/;
/** A request path: `/` then printable ASCII, no white space. */
const PATH_RE = /^\/[\x21-\x7e]{0,2047}$/;
const MAX_BODY_LENGTH = 65_536;

/**
 * The `hmac-clob-l2` payload kind (Polymarket CLOB L2 headers): binds
 * timestamp, method, path and body to `target` and signs them as clob-client
 * does: HMAC-SHA256 keyed with the base64-decoded secret, urlsafe base64 with
 * padding.
 *
 * `target.action` (the route's, checked by the plane) names one row of
 * `payloads/actions.ts`: the request must be exactly that row's method and
 * path (`payload_mismatch:method`, `payload_mismatch:path`; no decoding, so
 * `/order;x`, `/order%00`, `/orders`, `/ORDER` are not `/order`); the
 * body is exactly the action's ({@link bindL2Body}: a cancel's one order
 * hash, a heartbeat's id, nothing for `cancel_all` and the reads).
 * `POST /order` is decoded: the body's order
 * (clob-client's `orderToJsonV1/V2` shape) must trade `target.token_id` (or
 * `target.symbol`) on `target.side`, for `target.qty` shares at
 * `target.price` when given, checked exactly from its maker and taker
 * amounts (6-decimal base units). The effect carries the timestamp (whole
 * seconds) for the signer's clock check, and for an order its shares, its
 * price and the cap of 1 USDC a share is worth.
 */
export const polymarketL2Handler: PayloadKindHandler<"hmac-clob-l2"> = {
  kind: "hmac-clob-l2",
  bind: bindPolymarketL2,
  sign: signPolymarketL2,
  bindInput: bindPolymarketL2Input,
};

/**
 * {@link bindPolymarketL2}, plus what to sign: HMAC-SHA256 of
 * timestamp + method + path + body keyed with the base64-decoded secret,
 * urlsafe base64 with padding.
 */
export function bindPolymarketL2Input(payload: ClobL2Payload, target: Target): BoundInput {
  const bound = bindPolymarketL2(payload, target);
  if (!bound.ok) return bound;
  const { timestamp, method, path, body } = payload;
  return {
    ok: true,
    effect: bound.effect,
    input: {
      mechanism: "hmac-sha256",
      data: Buffer.from(timestamp + method + path + body, "utf8"),
      secret: "base64",
      encoding: "base64url-padded",
    },
  };
}

/** Decodes an L2 request and compares it with `target`; never throws. */
export function bindPolymarketL2(payload: ClobL2Payload, target: Target): BindOutcome {
  if (!isRecord(payload) || payload.kind !== "hmac-clob-l2") return mismatch("kind");
  if (!isRecord(target)) return mismatch("target");
  const { timestamp, method, path, body } = payload as Partial<Record<keyof ClobL2Payload, unknown>>;
  if (typeof timestamp !== "string" || !TIMESTAMP_RE.test(timestamp)) return mismatch("timestamp");
  if (typeof method !== "string" || !METHODS.has(method)) return mismatch("method");
  if (typeof path !== "string" || !PATH_RE.test(path)) return mismatch("path");
  if (typeof body !== "string" || body.length > MAX_BODY_LENGTH) return mismatch("body");

  const venue = ownField(target, "venue");
  if (venue !== undefined && venue !== POLYMARKET_VENUE) return mismatch("venue");
  const targetMethod = ownField(target, "method");
  if (targetMethod !== undefined && targetMethod !== method) return mismatch("method");
  const targetPath = ownField(target, "path");
  if (targetPath !== undefined && targetPath !== path) return mismatch("path");

  const action = ownField(target, "action");
  const spec = typeof action === "string" ? actionSpec("hmac-clob-l2", action) : undefined;
  if (typeof action !== "string" || spec?.http === undefined) return mismatch("action");
  if (method !== spec.http.method) return mismatch("method");
  if (!pathMatches(spec.http.path, path)) return mismatch("path");
  const timestampEffect = { ms: Number(timestamp) * 1000, resolutionMs: 1000 };
  if (action === "order") {
    const bound = bindOrderBody(body, target);
    return bound.ok ? { ok: true, effect: { ...bound.effect, timestamp: timestampEffect } } : bound;
  }
  return bindL2Body({
    action,
    path,
    body,
    target,
    timestamp: timestampEffect,
    replayable: spec.replayable,
  });
}

/** urlsafe base64 (with padding) of HMAC-SHA256(base64-decoded secret, timestamp + method + path + body). */
export async function signPolymarketL2(payload: ClobL2Payload, key: RevealedKey): Promise<SignatureOut> {
  if (key.kind !== "hmac") throw new KeyStoreError("wrong_kind", "hmac-clob-l2 needs an hmac key");
  const { timestamp, method, path, body } = payload;
  if (payload.kind !== "hmac-clob-l2" || [timestamp, method, path, body].some((p) => typeof p !== "string")) {
    throw new TypeError("hmac-clob-l2: the payload is not an hmac-clob-l2 payload");
  }
  const secret = decodeBase64Secret(key.secret.expose());
  if (secret === undefined)
    throw new KeyStoreError("corrupted", "hmac-clob-l2: the stored secret is not base64");
  try {
    const mac = createHmac("sha256", secret)
      .update(timestamp + method + path + body, "utf8")
      .digest("base64");
    return { signature: mac.replaceAll("+", "-").replaceAll("/", "_") };
  } finally {
    secret.fill(0);
  }
}

/**
 * `POST /order`: `{ order: { tokenId, makerAmount, takerAmount, side, … }, owner, orderType, … }`,
 * its order's terms compared with `target` ({@link bindOrderTerms}).
 */
function bindOrderBody(body: string, target: Target): BindOutcome {
  const parsed = parseStrictJson(body);
  if (!parsed.ok || !isRecord(parsed.value)) return mismatch("body");
  const order = ownField(parsed.value, "order");
  if (!isRecord(order)) return mismatch("body");
  const uint = (name: string) => parseStaticText("uint256", ownField(order, name));
  return bindOrderTerms(
    {
      tokenId: uint("tokenId"),
      side: ownField(order, "side"),
      makerAmount: uint("makerAmount"),
      takerAmount: uint("takerAmount"),
    },
    target,
  );
}
