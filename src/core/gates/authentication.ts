import { parseAuthHeader } from "../auth/authHeader.js";
import { verifySignature } from "../auth/verifySignature.js";
import { type DetailOf, reason } from "../reasons.js";
import { ALLOW, deny, type Gate, planOf } from "./gate.js";

const unauthenticated = (detail: DetailOf<"unauthenticated">) => deny(reason("unauthenticated", detail));

/**
 * Gate 2: the entry's `auth` signature over the exact `plan` bytes, by a key
 * bound to the plan's `source`. Codes in order: `missing_auth`,
 * `malformed_auth`, `unknown_key`, `alg_mismatch`, `bad_signature`,
 * `source_mismatch`. When the source's policy does not require auth, an entry
 * without `auth` passes unsigned (`authenticated` stays false, wire-v1 §4);
 * one with `auth` is still verified.
 */
export const authenticationGate: Gate = {
  name: "authentication",
  run({ policy }, ev) {
    const plan = planOf(ev);
    const authText = ev.parsed?.auth;
    if (authText === undefined) {
      const required = policy.sources.get(plan.source)?.requireAuth ?? policy.requireAuth;
      return required ? unauthenticated("missing_auth") : ALLOW;
    }
    const header = parseAuthHeader(authText);
    if (!header) return unauthenticated("malformed_auth");
    const key = policy.keys.get(header.keyId);
    if (key?.role !== "producer" || key.source === undefined) return unauthenticated("unknown_key");
    if (key.alg !== header.alg) return unauthenticated("alg_mismatch");
    if (!verifySignature(key, ev.parsed!.planBytes, header.sig)) return unauthenticated("bad_signature");
    if (key.source !== plan.source) return unauthenticated("source_mismatch");
    return { ok: true, found: { authenticated: true } };
  },
};
