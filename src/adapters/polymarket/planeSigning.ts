import { randomUUID } from "node:crypto";
import type { SigningPlane, SignOutcome, SignPayload } from "../../ports/signingPlane.js";
import type { PolymarketAccount } from "./accounts.js";

/** Where and as whom the adapter asks for signatures. */
export interface PlaneContext {
  readonly plane: SigningPlane;
  readonly caller: string;
  /** Route of `per_user_clob_signer` requests (EIP-712 orders). */
  readonly orderRoute: string;
  /** Route of `clob_api_signer` requests (L2 headers). */
  readonly l2Route: string;
}

/** A signature, or the refusal as a wire-v1 reason (`signer_denied:<reason>`). */
export type PlaneResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly reason: string; readonly decision: "DENIED" | "FAILED" };

type Fields = Readonly<Record<string, unknown>>;

/** The five L2 headers clob-client-v2's `createL2Headers` sends. */
export interface L2Headers {
  readonly POLY_ADDRESS: string;
  readonly POLY_SIGNATURE: string;
  readonly POLY_TIMESTAMP: string;
  readonly POLY_API_KEY: string;
  readonly POLY_PASSPHRASE: string;
}

/** Asks the plane to sign an `eip712-order` payload (intent `per_user_clob_signer`). */
export async function signOrder(
  ctx: PlaneContext,
  account: PolymarketAccount,
  payload: Extract<SignPayload, { kind: "eip712-order" }>,
  target: Fields,
  guard: Fields,
): Promise<PlaneResult<{ readonly signature: string; readonly signerAddress: string | undefined }>> {
  const out = await ask(ctx, {
    request_id: `pm-order-${randomUUID()}`,
    account: account.id,
    intent: "per_user_clob_signer",
    route: ctx.orderRoute,
    target,
    guard_context: guard,
    payload,
  });
  if (!out.ok) return out;
  return { ok: true, value: { signature: out.value.signature, signerAddress: out.value.signer_address } };
}

/**
 * The L2 headers for one request, the HMAC signed by the plane (intent
 * `clob_api_signer`) over `timestamp + method + path + body`, `path` without
 * the query string, as clob-client-v2 signs it.
 */
export async function l2Headers(
  ctx: PlaneContext,
  account: PolymarketAccount,
  request: {
    readonly method: "GET" | "POST";
    readonly path: string;
    readonly body: string;
    readonly nowMs: number;
  },
  target: Fields,
  guard: Fields,
): Promise<PlaneResult<L2Headers>> {
  const timestamp = String(Math.floor(request.nowMs / 1000));
  const out = await ask(ctx, {
    request_id: `pm-l2-${randomUUID()}`,
    account: account.id,
    intent: "clob_api_signer",
    route: ctx.l2Route,
    target: { venue: "polymarket", method: request.method, path: request.path, ...target },
    guard_context: guard,
    payload: {
      kind: "hmac-clob-l2",
      timestamp,
      method: request.method,
      path: request.path,
      body: request.body,
    },
  });
  if (!out.ok) return out;
  return {
    ok: true,
    value: {
      POLY_ADDRESS: account.signerText,
      POLY_SIGNATURE: out.value.signature,
      POLY_TIMESTAMP: timestamp,
      POLY_API_KEY: account.apiKey(),
      POLY_PASSPHRASE: account.passphrase(),
    },
  };
}

async function ask(
  ctx: PlaneContext,
  request: Parameters<SigningPlane["sign"]>[1],
): Promise<PlaneResult<Extract<SignOutcome, { granted: true }>>> {
  let out: SignOutcome;
  try {
    out = await ctx.plane.sign(ctx.caller, request);
  } catch {
    return { ok: false, reason: "signer_denied:signer_unavailable", decision: "FAILED" };
  }
  if (out.granted) return { ok: true, value: out };
  return {
    ok: false,
    reason: `signer_denied:${out.reason}`,
    decision: out.reason === "signer_unavailable" ? "FAILED" : "DENIED",
  };
}
