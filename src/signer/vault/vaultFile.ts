import { createCipheriv, createDecipheriv, randomBytes, scrypt } from "node:crypto";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { z } from "zod";
import { KeyStoreError } from "../keyStore.js";

/**
 * The vault file format, version 1 (JSON, binary fields in standard base64):
 *
 * ```
 * { format: "intentgate-vault", version: 1,
 *   kdf: { name: "scrypt", salt, N, r, p, dklen: 32 },
 *   check: { iv, ct, tag },            // AES-256-GCM of CHECK_MARKER: tells a wrong passphrase from corruption
 *   entries: [{ id, kind: "hmac" | "secp256k1", address?, created_at, iv, ct, tag }] }
 * ```
 *
 * One key, scrypt(passphrase, salt), encrypts the check block and every entry
 * with AES-256-GCM under a fresh 12-byte IV. An entry's additional data binds
 * its id, kind, address and created_at, so swapping ciphertexts between
 * entries or editing an entry's metadata fails authentication when the entry
 * is decrypted.
 */
export const VAULT_FORMAT = "intentgate-vault";
export const VAULT_VERSION = 1;

/** Entry kinds: an HMAC API secret (raw bytes) or a secp256k1 private key (32 bytes). */
export type VaultEntryKind = "hmac" | "secp256k1";
export const VAULT_ENTRY_KINDS: readonly VaultEntryKind[] = ["hmac", "secp256k1"];

/** scrypt parameters. */
export interface ScryptParams {
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

/** Production scrypt cost: N = 2^15, r = 8, p = 1 (about 32 MiB and 0.1 s per derivation). */
export const DEFAULT_SCRYPT: ScryptParams = { N: 2 ** 15, r: 8, p: 1 };
/** The cheapest parameters a vault file may carry (tests use them to stay fast). */
export const MIN_SCRYPT_N = 2 ** 10;
const MAX_SCRYPT_N = 2 ** 20;
const MAX_SCRYPT_MEM = 1024 * 1024 * 1024;
const KEY_LEN = 32;
const IV_LEN = 12;
const TAG_LEN = 16;
const SALT_LEN = 32;
const CHECK_MARKER = Buffer.from("intentgate-vault-check-v1", "utf8");

/** Entry ids: 1-128 chars of `[A-Za-z0-9._:-]` (an account id, optionally with a suffix). */
export const ENTRY_ID_RE = /^[A-Za-z0-9._:-]{1,128}$/;

const B64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const b64 = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z
    .string()
    .regex(B64_RE, "expected base64")
    .refine(
      (s) => {
        const n = Buffer.from(s, "base64").length;
        return n >= min && n <= max;
      },
      `expected ${min === max ? min : `${min} or more`} bytes`,
    );

const sealedSchema = z.strictObject({ iv: b64(IV_LEN, IV_LEN), ct: b64(0), tag: b64(TAG_LEN, TAG_LEN) });

const entrySchema = z
  .strictObject({
    id: z.string().regex(ENTRY_ID_RE),
    kind: z.enum(["hmac", "secp256k1"]),
    address: z
      .string()
      .regex(/^0x[0-9a-fA-F]{40}$/)
      .optional(),
    created_at: z.string().min(1).max(64),
    iv: b64(IV_LEN, IV_LEN),
    ct: b64(1),
    tag: b64(TAG_LEN, TAG_LEN),
  })
  .refine((e) => (e.kind === "secp256k1") === (e.address !== undefined), {
    message: "a secp256k1 entry has an address, an hmac entry has none",
  });

const isPow2 = (n: number) => Number.isInteger(n) && n > 1 && (n & (n - 1)) === 0;

const fileSchema = z.strictObject({
  format: z.literal(VAULT_FORMAT),
  version: z.literal(VAULT_VERSION),
  kdf: z
    .strictObject({
      name: z.literal("scrypt"),
      salt: b64(16, 1024),
      N: z.number().int().min(MIN_SCRYPT_N).max(MAX_SCRYPT_N).refine(isPow2, "N must be a power of two"),
      r: z.number().int().min(1).max(32),
      p: z.number().int().min(1).max(16),
      dklen: z.literal(KEY_LEN),
    })
    .refine((k) => 128 * k.N * k.r <= MAX_SCRYPT_MEM, "scrypt parameters need too much memory"),
  check: sealedSchema,
  entries: z.array(entrySchema).refine((es) => new Set(es.map((e) => e.id)).size === es.length, {
    message: "duplicate entry id",
  }),
});

/** A vault file as stored. */
export type VaultDocument = z.infer<typeof fileSchema>;
export type VaultEntryRecord = VaultDocument["entries"][number];
export type VaultKdf = VaultDocument["kdf"];

/** What `list()` shows of an entry: never secret. */
export interface VaultEntryInfo {
  readonly id: string;
  readonly kind: VaultEntryKind;
  readonly address?: string;
  readonly created_at: string;
}

/**
 * Parses the text of a vault file. Anything that is not a well-formed
 * version-1 vault is `corrupted`; the message says where, never what a field holds.
 */
export function parseVaultDocument(text: string, path: string): VaultDocument {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new KeyStoreError("corrupted", `vault ${path}: not valid JSON (truncated or corrupted file)`);
  }
  if (typeof json === "object" && json !== null && !Array.isArray(json)) {
    const o = json as Record<string, unknown>;
    if (o.format !== VAULT_FORMAT)
      throw new KeyStoreError("corrupted", `vault ${path}: not an ${VAULT_FORMAT} file`);
    if (o.version !== VAULT_VERSION) {
      throw new KeyStoreError(
        "corrupted",
        `vault ${path}: unsupported version ${JSON.stringify(o.version)} (this build reads ${VAULT_VERSION})`,
      );
    }
  }
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? issue.path.join(".") : "<file>";
    throw new KeyStoreError(
      "corrupted",
      `vault ${path}: malformed at ${where}: ${issue?.message ?? "invalid"}`,
    );
  }
  return parsed.data;
}

/** Serialises a vault document (stable field order, trailing newline). */
export function serializeVaultDocument(doc: VaultDocument): string {
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** Fresh KDF parameters with a random salt. */
export function newKdf(params: Partial<ScryptParams> = {}): VaultKdf {
  const N = params.N ?? DEFAULT_SCRYPT.N;
  const r = params.r ?? DEFAULT_SCRYPT.r;
  const p = params.p ?? DEFAULT_SCRYPT.p;
  if (!isPow2(N) || N < MIN_SCRYPT_N || N > MAX_SCRYPT_N)
    throw new RangeError(`scrypt N must be a power of two from ${MIN_SCRYPT_N} to ${MAX_SCRYPT_N}`);
  if (!Number.isInteger(r) || r < 1 || r > 32 || !Number.isInteger(p) || p < 1 || p > 16)
    throw new RangeError("scrypt r must be 1-32 and p 1-16");
  return { name: "scrypt", salt: randomBytes(SALT_LEN).toString("base64"), N, r, p, dklen: KEY_LEN };
}

/** scrypt(passphrase, salt) → 32-byte key. The caller owns (and should zero) the result. */
export function deriveKey(passphrase: Uint8Array, kdf: VaultKdf): Promise<Buffer> {
  const salt = Buffer.from(kdf.salt, "base64");
  return new Promise((resolve, reject) => {
    scrypt(
      passphrase,
      salt,
      kdf.dklen,
      { N: kdf.N, r: kdf.r, p: kdf.p, maxmem: 128 * kdf.N * kdf.r + 16 * 1024 * 1024 },
      (err, key) => {
        if (err) reject(new KeyStoreError("unreadable", `scrypt key derivation failed: ${err.message}`));
        else resolve(key);
      },
    );
  });
}

interface Sealed {
  iv: string;
  ct: string;
  tag: string;
}

function seal(key: Buffer, plaintext: Uint8Array, aad: Buffer): Sealed {
  const iv = randomBytes(IV_LEN);
  const cipher = createCipheriv("aes-256-gcm", key, iv, { authTagLength: TAG_LEN });
  cipher.setAAD(aad);
  const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return {
    iv: iv.toString("base64"),
    ct: ct.toString("base64"),
    tag: cipher.getAuthTag().toString("base64"),
  };
}

/** Decrypts, or returns undefined when authentication fails. */
function open(key: Buffer, sealed: Sealed, aad: Buffer): Buffer | undefined {
  const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(sealed.iv, "base64"), {
    authTagLength: TAG_LEN,
  });
  decipher.setAAD(aad);
  decipher.setAuthTag(Buffer.from(sealed.tag, "base64"));
  const out = decipher.update(Buffer.from(sealed.ct, "base64"));
  try {
    return Buffer.concat([out, decipher.final()]);
  } catch {
    return undefined;
  } finally {
    out.fill(0);
  }
}

const CHECK_AAD = Buffer.from(JSON.stringify([VAULT_FORMAT, VAULT_VERSION, "check"]), "utf8");

/** The metadata an entry's additional data binds. */
type EntryMeta = Pick<VaultEntryRecord, "id" | "kind" | "address" | "created_at">;

function entryAad(e: EntryMeta): Buffer {
  return Buffer.from(
    JSON.stringify([VAULT_FORMAT, VAULT_VERSION, "entry", e.id, e.kind, e.address ?? "", e.created_at]),
    "utf8",
  );
}

/** The check block for a key. */
export function sealCheck(key: Buffer): VaultDocument["check"] {
  return seal(key, CHECK_MARKER, CHECK_AAD);
}

/** True when `key` opens the check block (the passphrase was right). */
export function verifyCheck(key: Buffer, check: VaultDocument["check"]): boolean {
  const pt = open(key, check, CHECK_AAD);
  if (pt === undefined) return false;
  const ok = pt.equals(CHECK_MARKER);
  pt.fill(0);
  return ok;
}

/** Encrypts one entry's secret bytes. */
export function sealEntry(key: Buffer, info: EntryMeta, secret: Uint8Array): VaultEntryRecord {
  return {
    id: info.id,
    kind: info.kind,
    ...(info.address !== undefined ? { address: info.address } : {}),
    created_at: info.created_at,
    ...seal(key, secret, entryAad(info)),
  };
}

/** Decrypts one entry's secret bytes; `corrupted` (naming the entry id) when authentication fails. */
export function openEntry(key: Buffer, entry: VaultEntryRecord): Buffer {
  const pt = open(key, entry, entryAad(entry));
  if (pt === undefined) {
    throw new KeyStoreError(
      "corrupted",
      `vault entry ${JSON.stringify(entry.id)} failed authentication (corrupted or tampered)`,
    );
  }
  return pt;
}

/** True for a valid secp256k1 private key: 32 bytes, 1 ≤ d < n. */
export function isValidSecp256k1Key(bytes: Uint8Array): boolean {
  return bytes.length === 32 && secp256k1.utils.isValidSecretKey(bytes);
}

/** A fresh random secp256k1 private key. The caller owns (and should zero) it. */
export function generateSecp256k1Key(): Buffer {
  return Buffer.from(secp256k1.utils.randomSecretKey());
}

/** EIP-55 mixed-case checksum of a 20-byte hex address (with or without 0x). */
export function toChecksumAddress(address: string): string {
  const hex = address.replace(/^0x/i, "").toLowerCase();
  if (!/^[0-9a-f]{40}$/.test(hex)) throw new TypeError("expected a 20-byte hex address");
  const hash = Buffer.from(keccak_256(Buffer.from(hex, "ascii"))).toString("hex");
  let out = "0x";
  for (let i = 0; i < 40; i++) {
    const c = hex[i]!;
    out += Number.parseInt(hash[i]!, 16) >= 8 ? c.toUpperCase() : c;
  }
  return out;
}

/**
 * The Ethereum address of a secp256k1 private key: the last 20 bytes of
 * keccak256 of the uncompressed public key without its 0x04 prefix, EIP-55
 * checksummed.
 */
export function evmAddress(privateKey: Uint8Array): string {
  if (!isValidSecp256k1Key(privateKey)) throw new TypeError("not a valid secp256k1 private key");
  const pub = secp256k1.getPublicKey(privateKey, false);
  const hash = keccak_256(pub.subarray(1));
  return toChecksumAddress(Buffer.from(hash.subarray(12)).toString("hex"));
}
