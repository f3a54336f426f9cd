import { ed25519 } from "@noble/curves/ed25519.js";

/** Shortest HMAC secret a producer or permit-issuer key may have, in bytes (wire-v1 §8). */
export const MIN_HMAC_SECRET_BYTES = 32;

/**
 * Why a 32-byte Ed25519 public key must not be trusted, or `undefined` when
 * it is a usable key: `not_canonical` (not the canonical encoding of a curve
 * point) or `small_order` (the identity or another of the eight torsion
 * points, under which a signature can be forged without any private key:
 * with the identity, R = identity and S = 0 verify for every message).
 */
export function ed25519PublicKeyWeakness(key: Uint8Array): "not_canonical" | "small_order" | undefined {
  let point: ReturnType<typeof ed25519.Point.fromBytes>;
  try {
    point = ed25519.Point.fromBytes(key, false);
  } catch {
    return "not_canonical";
  }
  return point.isSmallOrder() ? "small_order" : undefined;
}
