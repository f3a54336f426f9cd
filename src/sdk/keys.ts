import { createHmac, createPrivateKey, createPublicKey, type KeyObject, sign } from "node:crypto";

/** A producer's or permit issuer's signing key. */
export type SigningKey =
  | {
      readonly keyId: string;
      readonly alg: "hmac-sha256";
      /** The configured secret; its raw UTF-8 bytes are the HMAC key (never hex- or base64-decoded). */
      readonly secret: string;
    }
  | {
      readonly keyId: string;
      readonly alg: "ed25519";
      /** A KeyObject, or base64url text of a PKCS#8 DER private key or of the 32-byte seed. */
      readonly privateKey: KeyObject | string;
    };

/** Key ids sit inside `<alg>:<key_id>:<sig>`, so they never hold `:`. */
const KEY_ID_RE = /^[A-Za-z0-9._-]{1,64}$/;

/** PKCS#8 DER prefix of an Ed25519 private key; the 32-byte seed follows (RFC 8410). */
const ED25519_PKCS8_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");

/** An invalid signing key; the message never contains key material. */
export class SigningKeyError extends Error {
  override readonly name = "SigningKeyError";
}

/** Turns an Ed25519 private key given as KeyObject or base64url (PKCS#8 DER or 32-byte seed) into a KeyObject. */
export function ed25519PrivateKey(key: KeyObject | string): KeyObject {
  let obj: KeyObject;
  if (typeof key === "string") {
    const text = key.trim();
    if (!/^[A-Za-z0-9_-]+={0,2}$/.test(text))
      throw new SigningKeyError("ed25519 private key: not base64url text");
    const der = Buffer.from(text, "base64url");
    const pkcs8 = der.length === 32 ? Buffer.concat([ED25519_PKCS8_PREFIX, der]) : der;
    try {
      obj = createPrivateKey({ key: pkcs8, format: "der", type: "pkcs8" });
    } catch {
      throw new SigningKeyError("ed25519 private key: neither a 32-byte seed nor a PKCS#8 DER key");
    }
  } else {
    obj = key;
  }
  if (obj.type !== "private" || obj.asymmetricKeyType !== "ed25519") {
    throw new SigningKeyError("ed25519 private key: not an Ed25519 private key");
  }
  return obj;
}

/** Checks a key and returns a function producing the unpadded base64url signature of some bytes. */
export function signerFor(key: SigningKey): (bytes: Buffer) => string {
  if (!KEY_ID_RE.test(key.keyId)) throw new SigningKeyError("keyId must be 1-64 chars of [A-Za-z0-9._-]");
  if (key.alg === "hmac-sha256") {
    if (typeof key.secret !== "string" || key.secret === "")
      throw new SigningKeyError("hmac-sha256: empty secret");
    const secret = Buffer.from(key.secret, "utf8");
    return (bytes) => createHmac("sha256", secret).update(bytes).digest("base64url");
  }
  if (key.alg === "ed25519") {
    const priv = ed25519PrivateKey(key.privateKey);
    return (bytes) => sign(null, bytes, priv).toString("base64url");
  }
  throw new SigningKeyError(`unsupported alg ${String((key as { alg: unknown }).alg)}`);
}

/**
 * Refuses a key given for the wrong algorithm or the wrong key id, before
 * anything is signed with it (a wrong signature is only found by the
 * executor, as `unauthenticated:bad_signature`): an Ed25519 private key
 * whose public key is not the configured `publicKey` (another key's, or an
 * HMAC secret read as a seed), or an HMAC secret that is an Ed25519 private
 * key. The message names neither secret nor key material.
 */
export function assertKeyMatches(
  key: SigningKey,
  configured: { readonly alg: SigningKey["alg"]; readonly publicKey?: string | undefined },
): void {
  if (key.alg !== configured.alg)
    throw new SigningKeyError(`key ${key.keyId} is ${configured.alg}, not ${key.alg}`);
  if (key.alg === "hmac-sha256") {
    if (looksLikeEd25519PrivateKey(key.secret))
      throw new SigningKeyError(
        `key ${key.keyId} is hmac-sha256, but the secret given is an Ed25519 private key`,
      );
    return;
  }
  if (configured.publicKey === undefined) return;
  const x = createPublicKey(ed25519PrivateKey(key.privateKey)).export({ format: "jwk" }).x;
  if (x !== configured.publicKey)
    throw new SigningKeyError(
      `the private key given does not belong to key ${key.keyId} (its public key is not the configured one: another key's private key, or an HMAC secret?)`,
    );
}

/** Whether text is the base64url of an Ed25519 PKCS#8 private key (what `keys gen` prints for one). */
function looksLikeEd25519PrivateKey(text: string): boolean {
  const t = text.trim();
  if (!/^[A-Za-z0-9_-]+$/.test(t)) return false;
  const der = Buffer.from(t, "base64url");
  return der.length === 48 && der.subarray(0, ED25519_PKCS8_PREFIX.length).equals(ED25519_PKCS8_PREFIX);
}
