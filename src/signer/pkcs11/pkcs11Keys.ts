import { createHash } from "node:crypto";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import type * as Pkcs11Js from "pkcs11js";
import pkcs11js from "pkcs11js";
import { type RecoverableSignature, SECP256K1_HALF_N, SECP256K1_N } from "../../core/evm/ecdsa.js";
import { recoveryIdUnderKey, type VerifyingKey } from "../payloads/eip712/verifiedEcdsa.js";
import { Pkcs11TokenError } from "./pkcs11Error.js";

/**
 * The key objects a {@link Pkcs11Token} creates (their attribute templates:
 * sensitive, never extractable) and the encodings of what the token hands
 * back (an EC point, a raw ECDSA (r, s)). Pure: no token calls here.
 */

/** The kinds of key a token holds for the signer. */
export type KeyKind = "secp256k1" | "hmac";

/** DER of the secp256k1 curve OID 1.3.132.0.10 (`CKA_EC_PARAMS`). */
export const SECP256K1_EC_PARAMS: Buffer = Buffer.from("06052b8104000a", "hex");

/** HMAC-SHA256's block size: keys up to it are zero-padded to it, longer keys are hashed first (RFC 2104). */
const HMAC_BLOCK = 64;
/** Shortest `CKM_SHA256_HMAC` key SoftHSM2 (and several HSMs) accept: the hash length. */
const HMAC_MIN_KEY = 32;

/** The object class a key of `kind` is found by: its private key, or the secret key. */
export function keyObjectClass(kind: KeyKind): number {
  return kind === "secp256k1" ? pkcs11js.CKO_PRIVATE_KEY : pkcs11js.CKO_SECRET_KEY;
}

/** Attributes every private or secret key gets: a token object, private, sensitive, never extractable. */
export function privateKeyPolicy(): Pkcs11Js.Template {
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

/** The public half's template of a secp256k1 key labelled `keyLabel` (`point`: its uncompressed point when imported). */
export function secp256k1PublicTemplate(keyLabel: string, point?: Buffer): Pkcs11Js.Template {
  const p = pkcs11js;
  return [
    ...(point === undefined
      ? []
      : [
          { type: p.CKA_CLASS, value: p.CKO_PUBLIC_KEY },
          { type: p.CKA_KEY_TYPE, value: p.CKK_EC },
          { type: p.CKA_EC_POINT, value: derOctetString(point) },
        ]),
    { type: p.CKA_TOKEN, value: true },
    { type: p.CKA_PRIVATE, value: false },
    { type: p.CKA_VERIFY, value: true },
    { type: p.CKA_EC_PARAMS, value: SECP256K1_EC_PARAMS },
    { type: p.CKA_LABEL, value: keyLabel },
  ];
}

/** The private half's template of a secp256k1 key (`scalar`: its 32 bytes when imported, absent when generated). */
export function secp256k1PrivateTemplate(keyLabel: string, scalar?: Buffer): Pkcs11Js.Template {
  const p = pkcs11js;
  return [
    ...(scalar === undefined
      ? []
      : [
          { type: p.CKA_CLASS, value: p.CKO_PRIVATE_KEY },
          { type: p.CKA_KEY_TYPE, value: p.CKK_EC },
          { type: p.CKA_EC_PARAMS, value: SECP256K1_EC_PARAMS },
          { type: p.CKA_VALUE, value: scalar },
        ]),
    { type: p.CKA_LABEL, value: keyLabel },
    ...privateKeyPolicy(),
  ];
}

/** The template of an HMAC secret (`value` from {@link hmacKeyForToken}). */
export function hmacSecretTemplate(keyLabel: string, value: Buffer): Pkcs11Js.Template {
  const p = pkcs11js;
  return [
    { type: p.CKA_CLASS, value: p.CKO_SECRET_KEY },
    { type: p.CKA_KEY_TYPE, value: p.CKK_GENERIC_SECRET },
    { type: p.CKA_VALUE, value },
    { type: p.CKA_LABEL, value: keyLabel },
    ...privateKeyPolicy(),
  ];
}

/**
 * The key HMAC actually uses, at least 32 bytes (RFC 2104: a key longer than
 * the block is its SHA-256; a shorter one is zero-padded, here to 32, which
 * changes no MAC). A new buffer: the caller zeroes it.
 */
export function hmacKeyForToken(secret: Buffer): Buffer {
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
export function uncompressedPoint(value: Buffer): Uint8Array | undefined {
  const raw = value.length === 67 && value[0] === 0x04 && value[1] === 65 ? value.subarray(2) : value;
  if (raw.length !== 65 || raw[0] !== 0x04) return undefined;
  try {
    secp256k1.Point.fromBytes(raw).assertValidity();
  } catch {
    return undefined;
  }
  return new Uint8Array(raw);
}

/** What {@link recoverableSignature} decodes. */
export interface TokenEcdsaOutput {
  /** The token's raw `CKM_ECDSA` output: r ‖ s, 64 bytes. */
  readonly raw: Buffer;
  /** The 32-byte digest it signed. */
  readonly digest: Uint8Array;
  /** The public key of the token's key. */
  readonly key: VerifyingKey;
  /** The key's label, for error messages. */
  readonly keyLabel: string;
}

/**
 * The token's raw `CKM_ECDSA` output as a low-S signature with the recovery
 * id under which it recovers to `key` (EIP-2). Throws
 * {@link Pkcs11TokenError} when it is malformed or does not verify.
 */
export function recoverableSignature({ raw, digest, key, keyLabel }: TokenEcdsaOutput): RecoverableSignature {
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
  let recovery = recoveryIdUnderKey(digest, r, s, key);
  if (recovery === undefined) {
    // R.x ≥ n (recovery id 2 or 3, about 2⁻¹²⁸) cannot be expressed in Ethereum's v; a wrong key lands here too.
    throw new Pkcs11TokenError("wrong_key", `key "${keyLabel}": the signature does not verify under the key`);
  }
  if (s > SECP256K1_HALF_N) {
    s = SECP256K1_N - s;
    recovery = (recovery ^ 1) as 0 | 1;
  }
  return { r, s, recovery };
}

function bytesToBigint(bytes: Uint8Array): bigint {
  return BigInt(`0x${Buffer.from(bytes).toString("hex") || "0"}`);
}
