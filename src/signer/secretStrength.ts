import { ConfigError } from "../config/configError.js";
import type { SecretBytes } from "../core/auth/secretBytes.js";
import { loadSignerSecret, type SignerSecretOptions } from "./signerConfig.js";

/**
 * The signer's rule for caller tokens and the audit key (signing-plane-v1
 * §5: "at least 32 random bytes"): text of at least 43 characters of the
 * base64 / base64url / hex alphabets (32 bytes as base64url; 64 hex digits
 * also qualify), with at least 10 distinct characters (which a random value
 * of that length always has, and `aaaa…` or `0000…` has not). The value's
 * randomness cannot be checked; its length and alphabet can.
 * `intentgate signer token gen` and `intentgate audit key gen` print one.
 */

/** Fewest characters of a token or key (32 bytes as base64url). */
export const MIN_SECRET_CHARS = 43;
const MIN_DISTINCT = 10;
const ALPHABET_RE = /^[A-Za-z0-9+/=_-]+$/;

/**
 * Why `secret` is too weak, or `undefined` when it passes. The text names
 * lengths and the rule, never the value.
 * @example secretStrengthProblem(Buffer.from("abcde")) // "is 5 characters long; …"
 */
export function secretStrengthProblem(secret: Uint8Array): string | undefined {
  const hint =
    "it needs at least 32 random bytes (43+ characters of base64url, as `intentgate signer token gen` prints)";
  if (secret.length < MIN_SECRET_CHARS) return `is ${secret.length} characters long; ${hint}`;
  const text = Buffer.from(secret.buffer, secret.byteOffset, secret.byteLength).toString("latin1");
  if (!ALPHABET_RE.test(text)) return `holds characters outside base64/base64url/hex; ${hint}`;
  if (new Set(text).size < MIN_DISTINCT) return `repeats too few characters to be random; ${hint}`;
  return undefined;
}

/**
 * {@link loadSignerSecret}, then the strength rule: a secret that fails it is
 * a {@link ConfigError} naming the field (never the value).
 * @example await loadStrongSecret({ ref: config.callers["executor-1"], name: "token", field: "callers.executor-1", env })
 */
export async function loadStrongSecret<N extends "token" | "key">(
  opts: SignerSecretOptions<N>,
): Promise<SecretBytes> {
  const { ref, name, field } = opts;
  const secret = await loadSignerSecret(opts);
  const problem = secretStrengthProblem(secret.expose());
  if (problem !== undefined) {
    secret.expose().fill(0);
    const which = ref[`${name}_env` as `${N}_env`] !== undefined ? `${name}_env` : `${name}_file`;
    throw new ConfigError({ field: `${field}.${which}`, message: `the ${name} ${problem}` });
  }
  return secret;
}
