import { AUTH_ALGS, type AuthAlg } from "../policy.js";
import { decodeBase64url } from "./base64url.js";

/** A parsed `auth` entry field: `<alg>:<key_id>:<sig>` (wire-v1 §2). */
export interface AuthHeader {
  readonly alg: AuthAlg;
  readonly keyId: string;
  readonly sig: Buffer;
}

/** Parses an `auth` field; `undefined` when it is not of the `<alg>:<key_id>:<sig>` form. */
export function parseAuthHeader(text: string): AuthHeader | undefined {
  const parts = text.split(":");
  if (parts.length !== 3) return undefined;
  const [alg, keyId, sigText] = parts as [string, string, string];
  if (!(AUTH_ALGS as readonly string[]).includes(alg) || keyId === "" || sigText === "") return undefined;
  const sig = decodeBase64url(sigText);
  return sig ? { alg: alg as AuthAlg, keyId, sig } : undefined;
}
