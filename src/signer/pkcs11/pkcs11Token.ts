import { inspect } from "node:util";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import pkcs11js from "pkcs11js";
import type { SecretBytes } from "../../core/auth/secretBytes.js";
import type { RecoverableSignature } from "../../core/evm/ecdsa.js";
import { decodeBase64Secret } from "../payloads/base64Secret.js";
import {
  type VerifyingKey,
  verifyingKeyOfPoint,
  warmUpVerification,
} from "../payloads/eip712/verifiedEcdsa.js";
import { ckrOf, closeQuietly, Pkcs11TokenError } from "./pkcs11Error.js";
import {
  hmacKeyForToken,
  hmacSecretTemplate,
  type KeyKind,
  keyObjectClass,
  recoverableSignature,
  SECP256K1_EC_PARAMS,
  secp256k1PrivateTemplate,
  secp256k1PublicTemplate,
  uncompressedPoint,
} from "./pkcs11Keys.js";
import {
  closeLoggedInSession,
  type Handle,
  type LoggedInSession,
  openLoggedInSession,
  type Pkcs11TokenOptions,
} from "./pkcs11Module.js";

/**
 * Keys held in a PKCS#11 token (signing-plane-v1 §5 `pkcs11`): generated in or
 * imported into the token as sensitive, non-extractable token objects labelled
 * by their key id (the signer config's entry id), and used there:
 *
 * - secp256k1: `CKM_ECDSA` on a 32-byte digest computed outside the token; the
 *   token's (r, s) is normalised to low-S (EIP-2) and given the recovery id
 *   under which it recovers to the key's own public point (`CKA_EC_POINT`).
 * - HMAC-SHA256: `CKM_SHA256_HMAC` on a `CKK_GENERIC_SECRET` key.
 *
 * Calls are synchronous and share one logged-in read/write session: PKCS#11
 * runs one operation per session at a time and JavaScript runs one call at a
 * time, so no two operations interleave. The PIN is only ever handed to
 * `C_Login` (`pkcs11Module.ts`); no error, log line, `inspect` or JSON of this
 * object holds it. Key templates and the decoding of what the token returns
 * are in `pkcs11Keys.ts`.
 */

export { Pkcs11TokenError, type Pkcs11TokenErrorCode } from "./pkcs11Error.js";
export { type KeyKind, SECP256K1_EC_PARAMS } from "./pkcs11Keys.js";
export { type Pkcs11TokenOptions, SOFTHSM2_MODULE } from "./pkcs11Module.js";

/** A low-S ECDSA signature with its recovery id and the address it recovers to. */
export interface TokenEcdsaSignature extends RecoverableSignature {
  /** EIP-55 address of the signing key. */
  readonly address: string;
}

/** What a key object says about itself, for audits of the token (never its value). */
export interface KeyAttestation {
  readonly kind: KeyKind;
  readonly token: boolean;
  readonly private: boolean;
  readonly sensitive: boolean;
  readonly extractable: boolean;
  /** True when the token refused to return `CKA_VALUE` (it must be). */
  readonly valueRefused: boolean;
}

interface PublicKeyEntry {
  readonly key: VerifyingKey;
}

/**
 * One logged-in session on one token. Open with {@link Pkcs11Token.open};
 * `close()` logs out and releases the module.
 * @example const token = Pkcs11Token.open({ module: SOFTHSM2_MODULE, tokenLabel: "signer", pin })
 */
export class Pkcs11Token {
  readonly #login: LoggedInSession;
  readonly #lib: LoggedInSession["mod"]["lib"];
  readonly #session: Handle;
  readonly #label: string;
  readonly #handles = new Map<string, Handle>();
  readonly #addresses = new Map<string, PublicKeyEntry>();
  #closed = false;

  private constructor(login: LoggedInSession) {
    this.#login = login;
    this.#lib = login.mod.lib;
    this.#session = login.session;
    this.#label = login.tokenLabel;
  }

  /** Loads the module, finds the token by label, opens a read/write session and logs in as the user. */
  static open(opts: Pkcs11TokenOptions): Pkcs11Token {
    return new Pkcs11Token(openLoggedInSession(opts));
  }

  /** The token's label. */
  get tokenLabel(): string {
    return this.#label;
  }

  /**
   * Generates a secp256k1 key pair inside the token (`CKM_EC_KEY_PAIR_GEN`);
   * the private key is sensitive, non-extractable, never extractable.
   * Returns the key's EIP-55 address.
   */
  generateSecp256k1(keyLabel: string): string {
    this.#assertNew(keyLabel);
    const lib = this.#lib;
    const p = pkcs11js;
    this.#call("generating a secp256k1 key", () =>
      lib.C_GenerateKeyPair(
        this.#session,
        { mechanism: p.CKM_EC_KEY_PAIR_GEN },
        secp256k1PublicTemplate(keyLabel),
        secp256k1PrivateTemplate(keyLabel),
      ),
    );
    return this.addressOf(keyLabel);
  }

  /**
   * Imports a secp256k1 private key (32 bytes, big-endian) as a sensitive,
   * non-extractable token object, with its public key beside it (same label)
   * so the address can be read back. Returns the key's EIP-55 address.
   */
  importSecp256k1(keyLabel: string, privateKey: SecretBytes): string {
    const scalar = privateKey.expose();
    if (scalar.length !== 32 || !secp256k1.utils.isValidSecretKey(scalar)) {
      throw new Pkcs11TokenError("invalid_input", `key "${keyLabel}": not a secp256k1 private key`);
    }
    this.#assertNew(keyLabel);
    const point = Buffer.from(secp256k1.getPublicKey(scalar, false));
    const lib = this.#lib;
    const priv = this.#call("importing a secp256k1 key", () =>
      lib.C_CreateObject(this.#session, secp256k1PrivateTemplate(keyLabel, scalar)),
    );
    try {
      this.#call("importing a secp256k1 public key", () =>
        lib.C_CreateObject(this.#session, secp256k1PublicTemplate(keyLabel, point)),
      );
    } catch (err) {
      closeQuietly(() => lib.C_DestroyObject(this.#session, priv));
      throw err;
    }
    return this.addressOf(keyLabel);
  }

  /**
   * Imports an HMAC-SHA256 secret as a sensitive, non-extractable
   * `CKK_GENERIC_SECRET` token object. `encoding: "base64"` decodes the
   * stored text first (a Polymarket L2 secret: the token holds the DECODED
   * bytes, which is what clob-client keys its HMAC with).
   *
   * The bytes are stored in the form HMAC uses them (RFC 2104): a key longer
   * than the 64-byte block is replaced by its SHA-256, a key shorter than 32
   * bytes is zero-padded to 32 (tokens such as SoftHSM2 refuse shorter
   * `CKM_SHA256_HMAC` keys; HMAC pads every key to the block with zeros, so
   * every MAC is unchanged).
   */
  importHmacSecret(keyLabel: string, secret: SecretBytes, encoding: "raw" | "base64" = "raw"): void {
    const decoded =
      encoding === "base64" ? decodeBase64Secret(secret.expose()) : Buffer.from(secret.expose());
    if (decoded === undefined || decoded.length === 0) {
      decoded?.fill(0);
      throw new Pkcs11TokenError(
        "invalid_input",
        `key "${keyLabel}": the secret is empty or not ${encoding}`,
      );
    }
    const value = hmacKeyForToken(decoded);
    decoded.fill(0);
    try {
      this.#assertNew(keyLabel);
      const lib = this.#lib;
      this.#call("importing an HMAC secret", () =>
        lib.C_CreateObject(this.#session, hmacSecretTemplate(keyLabel, value)),
      );
    } finally {
      value.fill(0);
    }
  }

  /** The EIP-55 address of the secp256k1 key `keyLabel` (from its public key object). */
  addressOf(keyLabel: string): string {
    return this.#publicKey(keyLabel).key.checksumAddress;
  }

  /** {@link addressOf} as a 160-bit number. */
  addressNumberOf(keyLabel: string): bigint {
    return this.#publicKey(keyLabel).key.address;
  }

  /**
   * Signs a 32-byte digest (computed outside the token) with the secp256k1 key
   * `keyLabel` via `CKM_ECDSA`: low-S, with the recovery id under which the
   * signature recovers to the key's address.
   */
  signDigest(keyLabel: string, digest: Uint8Array): TokenEcdsaSignature {
    if (digest.length !== 32) throw new Pkcs11TokenError("invalid_input", "the digest is not 32 bytes");
    const pub = this.#publicKey(keyLabel);
    const raw = this.signRaw("secp256k1", keyLabel, digest);
    return {
      ...recoverableSignature({ raw, digest, key: pub.key, keyLabel }),
      address: pub.key.checksumAddress,
    };
  }

  /** HMAC-SHA256 of `data` with the secret `keyLabel`, via `CKM_SHA256_HMAC` (32 bytes). */
  hmacSha256(keyLabel: string, data: Uint8Array): Buffer {
    const mac = this.signRaw("hmac", keyLabel, data);
    if (mac.length !== 32) {
      throw new Pkcs11TokenError(
        "token_error",
        `key "${keyLabel}": CKM_SHA256_HMAC returned ${mac.length} bytes`,
      );
    }
    return mac;
  }

  /**
   * One bare `C_SignInit` + `C_Sign` (`CKM_ECDSA` for secp256k1, `CKM_SHA256_HMAC`
   * for hmac), the token's output as it is. For benchmarks and the methods above.
   */
  signRaw(kind: KeyKind, keyLabel: string, data: Uint8Array): Buffer {
    const key = this.#findKey(kind, keyLabel);
    const lib = this.#lib;
    const mechanism = kind === "secp256k1" ? pkcs11js.CKM_ECDSA : pkcs11js.CKM_SHA256_HMAC;
    const input = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const out = Buffer.alloc(kind === "secp256k1" ? 72 : 64);
    return this.#call(`signing with "${keyLabel}"`, () => {
      lib.C_SignInit(this.#session, { mechanism }, key);
      try {
        // C_Sign refuses empty input (a NULL pointer); C_SignFinal with no update signs it.
        return input.length === 0
          ? lib.C_SignFinal(this.#session, out)
          : lib.C_Sign(this.#session, input, out);
      } catch (err) {
        // Some failures leave the operation active (CKR_OPERATION_ACTIVE on the next call); end it.
        closeQuietly(() => lib.C_SignFinal(this.#session, Buffer.alloc(128)));
        throw err;
      }
    });
  }

  /** True when a key of `kind` labelled `keyLabel` exists on the token. */
  hasKey(kind: KeyKind, keyLabel: string): boolean {
    return this.#find(keyObjectClass(kind), keyLabel).length > 0;
  }

  /** Reads a key's protection attributes and checks that the token refuses to return its value. */
  attestKey(kind: KeyKind, keyLabel: string): KeyAttestation {
    const key = this.#findKey(kind, keyLabel);
    const p = pkcs11js;
    const attrs = this.#call(`reading the attributes of "${keyLabel}"`, () =>
      this.#lib.C_GetAttributeValue(this.#session, key, [
        { type: p.CKA_TOKEN },
        { type: p.CKA_PRIVATE },
        { type: p.CKA_SENSITIVE },
        { type: p.CKA_EXTRACTABLE },
      ]),
    );
    const flag = (i: number): boolean => attrs[i]?.value[0] === 1;
    let valueRefused = false;
    try {
      const got = this.#lib.C_GetAttributeValue(this.#session, key, [{ type: p.CKA_VALUE }]);
      got[0]?.value.fill(0);
    } catch {
      valueRefused = true;
    }
    return {
      kind,
      token: flag(0),
      private: flag(1),
      sensitive: flag(2),
      extractable: flag(3),
      valueRefused,
    };
  }

  /** Logs out, closes the session, releases the module (finalised after its last token). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#handles.clear();
    closeLoggedInSession(this.#login);
  }

  get closed(): boolean {
    return this.#closed;
  }

  toJSON(): { token: string } {
    return { token: this.#label };
  }

  [inspect.custom](): string {
    return `Pkcs11Token { token: ${JSON.stringify(this.#label)}, [REDACTED] }`;
  }

  #publicKey(keyLabel: string): PublicKeyEntry {
    const cached = this.#addresses.get(keyLabel);
    if (cached !== undefined) return cached;
    this.#findKey("secp256k1", keyLabel); // the private key must exist too
    const pubs = this.#find(pkcs11js.CKO_PUBLIC_KEY, keyLabel);
    if (pubs.length !== 1) {
      throw new Pkcs11TokenError(
        "key_not_found",
        `key "${keyLabel}": ${pubs.length} public key objects, expected 1`,
      );
    }
    const [params, ecPoint] = this.#call(`reading the public key of "${keyLabel}"`, () =>
      this.#lib.C_GetAttributeValue(this.#session, pubs[0] as Handle, [
        { type: pkcs11js.CKA_EC_PARAMS },
        { type: pkcs11js.CKA_EC_POINT },
      ]),
    );
    if (params === undefined || !params.value.equals(SECP256K1_EC_PARAMS)) {
      throw new Pkcs11TokenError("wrong_key", `key "${keyLabel}": not on secp256k1`);
    }
    const point = ecPoint === undefined ? undefined : uncompressedPoint(ecPoint.value);
    if (point === undefined)
      throw new Pkcs11TokenError("wrong_key", `key "${keyLabel}": unreadable EC point`);
    // Precomputed multiples of the key's point (and the generator's) make the check in signDigest cheap.
    const entry: PublicKeyEntry = { key: verifyingKeyOfPoint(point) };
    warmUpVerification();
    this.#addresses.set(keyLabel, entry);
    return entry;
  }

  #findKey(kind: KeyKind, keyLabel: string): Handle {
    const cacheKey = `${kind}\n${keyLabel}`;
    const cached = this.#handles.get(cacheKey);
    if (cached !== undefined) return cached;
    const found = this.#find(keyObjectClass(kind), keyLabel);
    if (found.length !== 1) {
      throw new Pkcs11TokenError(
        "key_not_found",
        found.length === 0
          ? `token "${this.#label}" has no ${kind} key "${keyLabel}"`
          : `token "${this.#label}" has ${found.length} ${kind} keys "${keyLabel}" (labels must be unique)`,
      );
    }
    const handle = found[0] as Handle;
    this.#handles.set(cacheKey, handle);
    return handle;
  }

  #find(objectClass: number, keyLabel: string): Handle[] {
    const lib = this.#lib;
    return this.#call(`looking up "${keyLabel}"`, () => {
      lib.C_FindObjectsInit(this.#session, [
        { type: pkcs11js.CKA_CLASS, value: objectClass },
        { type: pkcs11js.CKA_LABEL, value: keyLabel },
      ]);
      try {
        return lib.C_FindObjects(this.#session, 2);
      } finally {
        lib.C_FindObjectsFinal(this.#session);
      }
    });
  }

  #assertNew(keyLabel: string): void {
    if (keyLabel === "") throw new Pkcs11TokenError("invalid_input", "a key label must not be empty");
    const p = pkcs11js;
    for (const cls of [p.CKO_PRIVATE_KEY, p.CKO_PUBLIC_KEY, p.CKO_SECRET_KEY]) {
      if (this.#find(cls, keyLabel).length > 0) {
        throw new Pkcs11TokenError("key_exists", `token "${this.#label}" already has a key "${keyLabel}"`);
      }
    }
  }

  #call<T>(what: string, fn: () => T): T {
    if (this.#closed) throw new Pkcs11TokenError("closed", `token "${this.#label}" is closed`);
    try {
      return fn();
    } catch (err) {
      if (err instanceof Pkcs11TokenError) throw err;
      const ckr = ckrOf(err);
      throw new Pkcs11TokenError(
        "token_error",
        `token "${this.#label}": ${what} failed (${ckr ?? "error"})`,
        ckr,
      );
    }
  }
}
