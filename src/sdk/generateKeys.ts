import { generateKeyPairSync, randomBytes } from "node:crypto";

/** The config entry for a generated key (wire-v1 §8 `keys.<id>`), secret-free. */
export type KeyConfigSnippet =
  | { alg: "hmac-sha256"; secret_env: string; source?: string; role?: "permit_issuer" }
  | { alg: "ed25519"; public_key: string; source?: string; role?: "permit_issuer" };

export type KeyMaterial =
  | {
      readonly alg: "ed25519";
      readonly keyId: string;
      /** For the producer / issuer only: base64url of the PKCS#8 DER private key. SECRET. */
      readonly privateKey: string;
      /** For the executor config: unpadded base64url of the raw 32-byte public key. */
      readonly publicKey: string;
      /** `{ keys: { <keyId>: … } }`, ready to merge into the executor config. */
      readonly config: { keys: Record<string, KeyConfigSnippet> };
    }
  | {
      readonly alg: "hmac-sha256";
      readonly keyId: string;
      /** Shared by producer and executor: this text (43 chars) IS the secret; its UTF-8 bytes are the HMAC key. SECRET. */
      readonly secret: string;
      /** The environment variable the config snippet reads the secret from. */
      readonly secretEnv: string;
      readonly config: { keys: Record<string, KeyConfigSnippet> };
    };

/** `IG_SECRET_<KEY_ID>` with non-alphanumerics as `_`. */
export function defaultSecretEnv(keyId: string): string {
  return `IG_SECRET_${keyId.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`;
}

/**
 * Generates key material. With a `source` the key is a producer key bound to
 * it; without one it is a permit issuer's key (`role: "permit_issuer"`).
 */
export function generateKeyMaterial(
  alg: "ed25519" | "hmac-sha256",
  keyId: string,
  source?: string,
): KeyMaterial {
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(keyId))
    throw new TypeError("keyId must be 1-64 chars of [A-Za-z0-9._-]");
  const binding = source !== undefined && source !== "" ? { source } : { role: "permit_issuer" as const };
  if (alg === "ed25519") {
    const { publicKey, privateKey } = generateKeyPairSync("ed25519");
    const pub = publicKey.export({ format: "jwk" }).x;
    if (typeof pub !== "string") throw new Error("ed25519 key export failed");
    const priv = privateKey.export({ format: "der", type: "pkcs8" }).toString("base64url");
    return {
      alg,
      keyId,
      privateKey: priv,
      publicKey: pub,
      config: { keys: { [keyId]: { alg, public_key: pub, ...binding } } },
    };
  }
  if (alg === "hmac-sha256") {
    const secretEnv = defaultSecretEnv(keyId);
    return {
      alg,
      keyId,
      secret: randomBytes(32).toString("base64url"),
      secretEnv,
      config: { keys: { [keyId]: { alg, secret_env: secretEnv, ...binding } } },
    };
  }
  throw new TypeError(`unsupported alg ${String(alg)}`);
}
