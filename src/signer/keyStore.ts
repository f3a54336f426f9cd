import type { SecretBytes } from "../core/auth/secretBytes.js";

/**
 * Where a plane gets key material, one entry at a time, on demand. The vault
 * implements it; a PKCS#11 plane has no KeyStore (its keys never leave the
 * token). Internal to the signer: nothing outside `src/signer/` imports it.
 */
export interface KeyStore {
  /** Decrypts one entry. Throws {@link KeyStoreError} when it is missing, unreadable or undecryptable. */
  reveal(entryId: string): Promise<RevealedKey>;
}

/** One decrypted entry: an HMAC secret (raw bytes) or a secp256k1 private key (32 bytes) with its address. */
export type RevealedKey =
  | { readonly kind: "hmac"; readonly secret: SecretBytes }
  | { readonly kind: "secp256k1"; readonly privateKey: SecretBytes; readonly address: string };

/** Why a key could not be had; every one of them is `signer_unavailable` to a caller. */
export type KeyStoreErrorCode = "not_found" | "bad_passphrase" | "corrupted" | "unreadable" | "wrong_kind";

/** A key-store failure. Its message never holds key material or a passphrase. */
export class KeyStoreError extends Error {
  override readonly name = "KeyStoreError";
  constructor(
    readonly code: KeyStoreErrorCode,
    message: string,
  ) {
    super(message);
  }
}
