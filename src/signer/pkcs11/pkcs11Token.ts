import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { inspect } from "node:util";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import type * as Pkcs11Js from "pkcs11js";
import pkcs11js from "pkcs11js";
import type { SecretBytes } from "../../core/auth/secretBytes.js";
import { decodeBase64Secret } from "../payloads/base64Secret.js";
import { type RecoverableSignature, SECP256K1_HALF_N, SECP256K1_N } from "../payloads/eip712/ethKey.js";
import {
  recoveryIdUnderKey,
  type VerifyingKey,
  verifyingKeyOfPoint,
  warmUpVerification,
} from "../payloads/eip712/verifiedEcdsa.js";

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
 * `C_Login`; no error, log line, `inspect` or JSON of this object holds it.
 */

/** DER of the secp256k1 curve OID 1.3.132.0.10 (`CKA_EC_PARAMS`). */
export const SECP256K1_EC_PARAMS: Buffer = Buffer.from("06052b8104000a", "hex");
/** The Debian / Ubuntu path of SoftHSM2's module. */
export const SOFTHSM2_MODULE = "/usr/lib/softhsm/libsofthsm2.so";

/** HMAC-SHA256's block size: keys up to it are zero-padded to it, longer keys are hashed first (RFC 2104). */
const HMAC_BLOCK = 64;
/** Shortest `CKM_SHA256_HMAC` key SoftHSM2 (and several HSMs) accept: the hash length. */
const HMAC_MIN_KEY = 32;

export type Pkcs11TokenErrorCode =
  /** The module cannot be loaded or initialised. */
  | "module_unavailable"
  /** No initialised token with that label. */
  | "token_not_found"
  /** The PIN was refused (wrong, locked, expired, not initialised). Retrying may lock the token. */
  | "bad_pin"
  /** Opening a session or logging in failed otherwise. */
  | "login_failed"
  /** No key object with that label and kind, or more than one. */
  | "key_not_found"
  /** Creating a key under a label already in use. */
  | "key_exists"
  /** The key exists but cannot be used as asked (wrong curve, bad public point, …). */
  | "wrong_key"
  /** The token failed an operation (the session may be gone). */
  | "token_error"
  /** Bad input from the caller (a digest not 32 bytes, an empty secret). */
  | "invalid_input"
  /** Used after `close()`. */
  | "closed";

/** A token failure. Its message names the token, the label and the PKCS#11 return code; never a PIN or key. */
export class Pkcs11TokenError extends Error {
  override readonly name = "Pkcs11TokenError";
  constructor(
    readonly code: Pkcs11TokenErrorCode,
    message: string,
    /** The PKCS#11 return value name (`CKR_…`), when the module returned one. */
    readonly ckr?: string,
  ) {
    super(message);
  }
}

/** Where the token is and how to log in. */
export interface Pkcs11TokenOptions {
  /** Path of the PKCS#11 module (`.so`), e.g. {@link SOFTHSM2_MODULE}. */
  readonly module: string;
  /** The token's label (`CKA_LABEL` of the token, blank padding ignored). */
  readonly tokenLabel: string;
  /** The user PIN (the signer reads it with `loadSignerSecret(config.pkcs11, "pin", …)`). */
  readonly pin: SecretBytes;
}

/** A low-S ECDSA signature with its recovery id and the address it recovers to. */
export interface TokenEcdsaSignature extends RecoverableSignature {
  /** EIP-55 address of the signing key. */
  readonly address: string;
}

/** What a key object says about itself, for audits of the token (never its value). */
export interface KeyAttestation {
  readonly kind: "secp256k1" | "hmac";
  readonly token: boolean;
  readonly private: boolean;
  readonly sensitive: boolean;
  readonly extractable: boolean;
  /** True when the token refused to return `CKA_VALUE` (it must be). */
  readonly valueRefused: boolean;
}

type KeyKind = "secp256k1" | "hmac";
interface PublicKeyEntry {
  readonly key: VerifyingKey;
}
type Handle = Buffer;

// ---------------------------------------------------------------------------
// Module registry: C_Initialize once per module per process, C_Finalize after
// the last token on it closes.

interface LoadedModule {
  readonly lib: Pkcs11Js.PKCS11;
  readonly path: string;
  refs: number;
  /** False when something else in the process had already initialised it (then we never finalise it). */
  readonly ownsInit: boolean;
  /**
   * Logins by token label. PKCS#11 login state belongs to the application and
   * token, not the session: the first open logs in, the last close logs out,
   * and an open in between must present the same PIN (compared by a keyed tag).
   */
  readonly logins: Map<string, { count: number; readonly pinTag: Buffer }>;
}

/** Per-process key for PIN tags (a tag is never stored outside this process's memory). */
const PIN_TAG_KEY = randomBytes(32);
const pinTag = (pin: SecretBytes): Buffer => createHmac("sha256", PIN_TAG_KEY).update(pin.expose()).digest();

const modules = new Map<string, LoadedModule>();

function acquireModule(path: string): LoadedModule {
  const loaded = modules.get(path);
  if (loaded !== undefined) {
    loaded.refs++;
    return loaded;
  }
  const lib = new pkcs11js.PKCS11();
  try {
    lib.load(path);
  } catch (err) {
    throw new Pkcs11TokenError("module_unavailable", `PKCS#11 module ${path} cannot be loaded`, ckrOf(err));
  }
  let ownsInit = true;
  try {
    lib.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
  } catch (err) {
    if (ckrOf(err) === "CKR_CRYPTOKI_ALREADY_INITIALIZED") ownsInit = false;
    else {
      closeQuietly(() => lib.close());
      throw new Pkcs11TokenError(
        "module_unavailable",
        `PKCS#11 module ${path}: C_Initialize failed`,
        ckrOf(err),
      );
    }
  }
  const mod: LoadedModule = { lib, path, refs: 1, ownsInit, logins: new Map() };
  modules.set(path, mod);
  return mod;
}

function releaseModule(mod: LoadedModule): void {
  if (--mod.refs > 0) return;
  modules.delete(mod.path);
  if (mod.ownsInit) closeQuietly(() => mod.lib.C_Finalize());
  closeQuietly(() => mod.lib.close());
}

// ---------------------------------------------------------------------------

/**
 * One logged-in session on one token. Open with {@link Pkcs11Token.open};
 * `close()` logs out and releases the module.
 * @example const token = Pkcs11Token.open({ module: SOFTHSM2_MODULE, tokenLabel: "signer", pin })
 */
export class Pkcs11Token {
  readonly #mod: LoadedModule;
  readonly #lib: Pkcs11Js.PKCS11;
  readonly #session: Handle;
  readonly #label: string;
  readonly #handles = new Map<string, Handle>();
  readonly #addresses = new Map<string, PublicKeyEntry>();
  #closed = false;

  private constructor(mod: LoadedModule, session: Handle, label: string) {
    this.#mod = mod;
    this.#lib = mod.lib;
    this.#session = session;
    this.#label = label;
  }

  /** Loads the module, finds the token by label, opens a read/write session and logs in as the user. */
  static open(opts: Pkcs11TokenOptions): Pkcs11Token {
    const mod = acquireModule(opts.module);
    const lib = mod.lib;
    let session: Handle | undefined;
    try {
      const slot = findSlot(lib, opts.tokenLabel);
      try {
        session = lib.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
      } catch (err) {
        throw new Pkcs11TokenError(
          "login_failed",
          `token "${opts.tokenLabel}": C_OpenSession failed`,
          ckrOf(err),
        );
      }
      login(mod, session, opts);
      return new Pkcs11Token(mod, session, opts.tokenLabel);
    } catch (err) {
      if (session !== undefined) closeQuietly(() => lib.C_CloseSession(session as Handle));
      releaseModule(mod);
      throw err;
    }
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
        [
          { type: p.CKA_TOKEN, value: true },
          { type: p.CKA_PRIVATE, value: false },
          { type: p.CKA_VERIFY, value: true },
          { type: p.CKA_EC_PARAMS, value: SECP256K1_EC_PARAMS },
          { type: p.CKA_LABEL, value: keyLabel },
        ],
        [...PRIVATE_KEY_POLICY(), { type: p.CKA_LABEL, value: keyLabel }],
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
    const p = pkcs11js;
    const lib = this.#lib;
    const priv = this.#call("importing a secp256k1 key", () =>
      lib.C_CreateObject(this.#session, [
        { type: p.CKA_CLASS, value: p.CKO_PRIVATE_KEY },
        { type: p.CKA_KEY_TYPE, value: p.CKK_EC },
        { type: p.CKA_EC_PARAMS, value: SECP256K1_EC_PARAMS },
        { type: p.CKA_VALUE, value: scalar },
        { type: p.CKA_LABEL, value: keyLabel },
        ...PRIVATE_KEY_POLICY(),
      ]),
    );
    try {
      this.#call("importing a secp256k1 public key", () =>
        lib.C_CreateObject(this.#session, [
          { type: p.CKA_CLASS, value: p.CKO_PUBLIC_KEY },
          { type: p.CKA_KEY_TYPE, value: p.CKK_EC },
          { type: p.CKA_EC_PARAMS, value: SECP256K1_EC_PARAMS },
          { type: p.CKA_EC_POINT, value: derOctetString(point) },
          { type: p.CKA_LABEL, value: keyLabel },
          { type: p.CKA_TOKEN, value: true },
          { type: p.CKA_PRIVATE, value: false },
          { type: p.CKA_VERIFY, value: true },
        ]),
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
      const p = pkcs11js;
      const lib = this.#lib;
      this.#call("importing an HMAC secret", () =>
        lib.C_CreateObject(this.#session, [
          { type: p.CKA_CLASS, value: p.CKO_SECRET_KEY },
          { type: p.CKA_KEY_TYPE, value: p.CKK_GENERIC_SECRET },
          { type: p.CKA_VALUE, value: value },
          { type: p.CKA_LABEL, value: keyLabel },
          ...PRIVATE_KEY_POLICY(),
        ]),
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
    if (raw.length !== 64) {
      throw new Pkcs11TokenError(
        "wrong_key",
        `key "${keyLabel}": CKM_ECDSA returned ${raw.length} bytes, not 64`,
      );
    }
    const r = bytesToBigint(raw.subarray(0, 32));
    let s = bytesToBigint(raw.subarray(32));
    if (r === 0n || s === 0n || r >= SECP256K1_N || s >= SECP256K1_N) {
      throw new Pkcs11TokenError("token_error", `key "${keyLabel}": CKM_ECDSA returned an invalid signature`);
    }
    // R = z·s⁻¹·G + r·s⁻¹·Q is the token's nonce point, computed once from the key's own public point
    // with precomputed tables: R.x = r verifies the signature under the key, R.y's parity is the
    // recovery id (flipped when s is negated to low-S).
    let recovery = recoveryIdUnderKey(digest, r, s, pub.key);
    if (recovery === undefined) {
      // R.x ≥ n (recovery id 2 or 3, about 2⁻¹²⁸) cannot be expressed in Ethereum's v; a wrong key lands here too.
      throw new Pkcs11TokenError(
        "wrong_key",
        `key "${keyLabel}": the signature does not verify under the key`,
      );
    }
    if (s > SECP256K1_HALF_N) {
      s = SECP256K1_N - s;
      recovery = (recovery ^ 1) as 0 | 1;
    }
    return { r, s, recovery, address: pub.key.checksumAddress };
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
    return (
      this.#find(kind === "secp256k1" ? pkcs11js.CKO_PRIVATE_KEY : pkcs11js.CKO_SECRET_KEY, keyLabel).length >
      0
    );
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
    const login = this.#mod.logins.get(this.#label);
    if (login !== undefined && --login.count <= 0) {
      this.#mod.logins.delete(this.#label);
      closeQuietly(() => this.#lib.C_Logout(this.#session));
    }
    closeQuietly(() => this.#lib.C_CloseSession(this.#session));
    releaseModule(this.#mod);
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
    const found = this.#find(
      kind === "secp256k1" ? pkcs11js.CKO_PRIVATE_KEY : pkcs11js.CKO_SECRET_KEY,
      keyLabel,
    );
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

/** Attributes every private or secret key gets: a token object, private, sensitive, never extractable. */
function PRIVATE_KEY_POLICY(): Pkcs11Js.Template {
  const p = pkcs11js;
  return [
    { type: p.CKA_TOKEN, value: true },
    { type: p.CKA_PRIVATE, value: true },
    { type: p.CKA_SENSITIVE, value: true },
    { type: p.CKA_EXTRACTABLE, value: false },
    { type: p.CKA_SIGN, value: true },
    { type: p.CKA_MODIFIABLE, value: false },
  ];
}

function findSlot(lib: Pkcs11Js.PKCS11, tokenLabel: string): Handle {
  let slots: Handle[];
  try {
    slots = lib.C_GetSlotList(true);
  } catch (err) {
    throw new Pkcs11TokenError("token_not_found", "C_GetSlotList failed", ckrOf(err));
  }
  const matches = slots.filter((slot) => {
    try {
      const info = lib.C_GetTokenInfo(slot);
      return (info.flags & pkcs11js.CKF_TOKEN_INITIALIZED) !== 0 && info.label.trimEnd() === tokenLabel;
    } catch {
      return false;
    }
  });
  if (matches.length !== 1) {
    throw new Pkcs11TokenError(
      "token_not_found",
      matches.length === 0
        ? `no initialised token labelled "${tokenLabel}"`
        : `${matches.length} tokens labelled "${tokenLabel}" (labels must be unique)`,
    );
  }
  return matches[0] as Handle;
}

const PIN_REFUSED = new Set([
  "CKR_PIN_INCORRECT",
  "CKR_PIN_INVALID",
  "CKR_PIN_LEN_RANGE",
  "CKR_PIN_EXPIRED",
  "CKR_PIN_LOCKED",
  "CKR_USER_PIN_NOT_INITIALIZED",
]);

function login(mod: LoadedModule, session: Handle, opts: Pkcs11TokenOptions): void {
  const tag = pinTag(opts.pin);
  const held = mod.logins.get(opts.tokenLabel);
  if (held !== undefined) {
    // Already logged in by this process: the token would accept anything, so check the PIN here.
    if (held.pinTag.length !== tag.length || !timingSafeEqual(held.pinTag, tag)) {
      throw new Pkcs11TokenError(
        "bad_pin",
        `token "${opts.tokenLabel}": login refused (PIN differs from the open session's)`,
      );
    }
    held.count++;
    return;
  }
  try {
    // pkcs11js takes the PIN as a string; it lives only for this call.
    mod.lib.C_Login(session, pkcs11js.CKU_USER, opts.pin.expose().toString("utf8"));
  } catch (err) {
    const ckr = ckrOf(err);
    // Logged in by another library user in this process: the PIN cannot be checked without logging it out.
    if (ckr !== "CKR_USER_ALREADY_LOGGED_IN") {
      throw new Pkcs11TokenError(
        ckr !== undefined && PIN_REFUSED.has(ckr) ? "bad_pin" : "login_failed",
        `token "${opts.tokenLabel}": login refused (${ckr ?? "error"})`,
        ckr,
      );
    }
  }
  mod.logins.set(opts.tokenLabel, { count: 1, pinTag: tag });
}

/** The `CKR_…` name of a pkcs11js error, or undefined. Never the error's full text. */
function ckrOf(err: unknown): string | undefined {
  const message = (err as { message?: unknown } | null)?.message;
  if (typeof message !== "string") return undefined;
  return /\b(CKR_[A-Z0-9_]+)/.exec(message)?.[1];
}

function closeQuietly(fn: () => void): void {
  try {
    fn();
  } catch {
    // closing is best effort
  }
}

/** The key HMAC actually uses, at least 32 bytes (see {@link Pkcs11Token.importHmacSecret}). */
function hmacKeyForToken(secret: Buffer): Buffer {
  if (secret.length > HMAC_BLOCK) return createHash("sha256").update(secret).digest();
  const out = Buffer.alloc(Math.max(secret.length, HMAC_MIN_KEY));
  secret.copy(out);
  return out;
}

/** DER OCTET STRING of a (short) byte string. */
function derOctetString(bytes: Buffer): Buffer {
  return Buffer.concat([Buffer.from([0x04, bytes.length]), bytes]);
}

/** A 65-byte uncompressed point from `CKA_EC_POINT`: DER OCTET STRING (the standard) or raw (some tokens). */
function uncompressedPoint(value: Buffer): Uint8Array | undefined {
  const raw = value.length === 67 && value[0] === 0x04 && value[1] === 65 ? value.subarray(2) : value;
  if (raw.length !== 65 || raw[0] !== 0x04) return undefined;
  try {
    secp256k1.Point.fromBytes(raw).assertValidity();
  } catch {
    return undefined;
  }
  return new Uint8Array(raw);
}

function bytesToBigint(bytes: Uint8Array): bigint {
  return BigInt(`0x${Buffer.from(bytes).toString("hex") || "0"}`);
}
