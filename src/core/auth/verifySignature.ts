import { createHmac, timingSafeEqual, verify } from "node:crypto";
import type { VerifyKey } from "../policy.js";

/**
 * Verifies `sig` over the exact `message` bytes with a configured key:
 * HMAC-SHA256 compared in constant time, or Ed25519. Never throws.
 */
export function verifySignature(key: VerifyKey, message: Uint8Array, sig: Uint8Array): boolean {
  try {
    if (key.alg === "hmac-sha256") {
      const expected = createHmac("sha256", key.secret.expose()).update(message).digest();
      return sig.length === expected.length && timingSafeEqual(expected, sig);
    }
    return sig.length === 64 && verify(null, message, key.publicKey, sig);
  } catch {
    return false;
  }
}
