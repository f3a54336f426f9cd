import { createHmac } from "node:crypto";
import { parseAddress } from "../core/evm/address.js";
import { type RecoverableSignature, toRsvHex } from "../core/evm/ecdsa.js";
import { KeyStoreError, type RevealedKey } from "./keyStore.js";
import { PayloadKeyMismatch, type SignatureOut, type SigningInput } from "./payloadKind.js";
import { decodeBase64Secret } from "./payloads/base64Secret.js";
import {
  signDigestVerified,
  VerifyingKeyCache,
  warmUpVerification,
} from "./payloads/eip712/verifiedEcdsa.js";

/**
 * Signing a bound payload's {@link SigningInput} with a key read from a
 * KeyStore (the vault). Every check a handler's own `sign` makes is here:
 * the key's kind (`wrong_kind`), a usable secret (`corrupted`), the order's
 * signer against the key's address ({@link PayloadKeyMismatch}), and for
 * ECDSA a low-S signature verified under the key's address before it is
 * returned (`verifiedEcdsa.ts`).
 */

/** Signs digests with secp256k1 secret keys; each signature low-S and verified under `address`. */
export interface EcdsaSigner {
  /**
   * Signs `digest` with `secretKey`, whose address must be `address`.
   * Throws {@link KeyStoreError} `corrupted` when the key is malformed, is not
   * the key of `address`, or its signature does not verify.
   */
  signDigest(
    digest: Uint8Array,
    secretKey: Uint8Array,
    address: bigint,
  ): Promise<RecoverableSignature & { readonly checksumAddress: string }>;
  /** Gets ready to sign before the first job (a pool starts its workers); optional. */
  warmUp?(): void;
  /** Releases what it holds (worker threads). */
  close(): Promise<void>;
}

/** An {@link EcdsaSigner} on the calling thread, with per-address verifying keys cached. */
export class InThreadEcdsaSigner implements EcdsaSigner {
  readonly #keys = new VerifyingKeyCache();

  async signDigest(
    digest: Uint8Array,
    secretKey: Uint8Array,
    address: bigint,
  ): Promise<RecoverableSignature & { readonly checksumAddress: string }> {
    return this.signNow(digest, secretKey, address);
  }

  /** {@link signDigest}, synchronously. */
  signNow(
    digest: Uint8Array,
    secretKey: Uint8Array,
    address: bigint,
  ): RecoverableSignature & { readonly checksumAddress: string } {
    const key = this.#keys.get(address, secretKey);
    return { ...signDigestVerified(digest, secretKey, key), checksumAddress: key.checksumAddress };
  }

  /** Builds the generator's table now rather than on the first signature. */
  warmUp(): void {
    warmUpVerification();
  }

  async close(): Promise<void> {}
}

/** The in-thread signer the handlers' own `sign` uses. */
export const DEFAULT_ECDSA: EcdsaSigner = new InThreadEcdsaSigner();

/** Parsed key addresses (public data), so an EIP-55 address is not re-hashed per signature. */
const parsedAddresses = new Map<string, bigint | undefined>();
function keyAddressOf(text: string): bigint | undefined {
  if (parsedAddresses.has(text)) return parsedAddresses.get(text);
  const parsed = parseAddress(text);
  if (parsedAddresses.size >= 1024) parsedAddresses.clear();
  parsedAddresses.set(text, parsed);
  return parsed;
}

/**
 * Signs `input` with `key`. Throws {@link KeyStoreError} (`wrong_kind`,
 * `corrupted`), {@link PayloadKeyMismatch} on `signer`, or a bare Error; no
 * error quotes the key.
 */
export async function signWithKey(
  input: SigningInput,
  key: RevealedKey,
  ecdsa: EcdsaSigner,
): Promise<SignatureOut> {
  if (input.mechanism === "hmac-sha256") {
    if (key.kind !== "hmac") throw new KeyStoreError("wrong_kind", "this payload needs an hmac key");
    if (key.secret.length === 0) throw new KeyStoreError("corrupted", "the stored secret is empty");
    if (input.secret === "raw") return { signature: encodeMac(hmac(key.secret.expose(), input.data), input) };
    const secret = decodeBase64Secret(key.secret.expose());
    if (secret === undefined) throw new KeyStoreError("corrupted", "the stored secret is not base64");
    try {
      return { signature: encodeMac(hmac(secret, input.data), input) };
    } finally {
      secret.fill(0);
    }
  }
  if (key.kind !== "secp256k1") throw new KeyStoreError("wrong_kind", "eip712-order needs a secp256k1 key");
  const keyAddress = keyAddressOf(key.address);
  if (keyAddress === undefined) throw new KeyStoreError("corrupted", "the stored address is malformed");
  if (input.signer !== keyAddress) throw new PayloadKeyMismatch("signer");
  const sig = await ecdsa.signDigest(input.digest, key.privateKey.expose(), keyAddress);
  return { signature: toRsvHex(sig), signer_address: sig.checksumAddress };
}

function hmac(secret: Uint8Array, data: Uint8Array): Buffer {
  return createHmac("sha256", secret).update(data).digest();
}

/** The MAC as the venue wants it (see {@link SigningInput}). */
export function encodeMac(mac: Buffer, input: Extract<SigningInput, { mechanism: "hmac-sha256" }>): string {
  return input.encoding === "hex"
    ? mac.toString("hex")
    : mac.toString("base64").replaceAll("+", "-").replaceAll("/", "_");
}
