import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { constants as fsc } from "node:fs";
import { link, open, readFile, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { inspect } from "node:util";
import { SecretBytes } from "../../core/auth/secretBytes.js";
import { type KeyStore, KeyStoreError, type RevealedKey } from "../keyStore.js";
import {
  deriveKey,
  ENTRY_ID_RE,
  evmAddress,
  isValidSecp256k1Key,
  newKdf,
  openEntry,
  parseVaultDocument,
  type ScryptParams,
  sealCheck,
  sealEntry,
  serializeVaultDocument,
  VAULT_FORMAT,
  VAULT_VERSION,
  type VaultDocument,
  type VaultEntryInfo,
  type VaultEntryKind,
  verifyCheck,
} from "./vaultFile.js";

/** Why a vault operation (other than reading a key) was refused. Messages never hold secrets. */
export type VaultErrorCode =
  | "exists"
  | "duplicate_id"
  | "invalid_id"
  | "invalid_kind"
  | "invalid_secret"
  | "invalid_passphrase"
  | "changed_on_disk"
  | "closed"
  | "write_failed";

/** A refused vault change (bad input, a file in the way, a failed write). */
export class VaultError extends Error {
  override readonly name = "VaultError";
  constructor(
    readonly code: VaultErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** A passphrase: a string (its UTF-8 bytes), raw bytes, or {@link SecretBytes}. */
export type Passphrase = string | Uint8Array | SecretBytes;

/** Options for {@link Vault.init} and {@link Vault.passwd}. */
export interface VaultWriteOptions {
  /** scrypt cost; defaults to N = 2^15, r = 8, p = 1. Tests may pass a lower N (≥ 2^10) to stay fast. */
  readonly scrypt?: Partial<ScryptParams>;
}

function passphraseBytes(p: Passphrase): Buffer {
  const bytes =
    p instanceof SecretBytes
      ? Buffer.from(p.expose())
      : typeof p === "string"
        ? Buffer.from(p, "utf8")
        : Buffer.from(p);
  if (bytes.length === 0) throw new VaultError("invalid_passphrase", "the passphrase is empty");
  return bytes;
}

async function deriveWith(passphrase: Passphrase, kdf: VaultDocument["kdf"]): Promise<Buffer> {
  const bytes = passphraseBytes(passphrase);
  try {
    return await deriveKey(bytes, kdf);
  } finally {
    bytes.fill(0);
  }
}

async function readVaultText(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "error";
    const why = code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : code;
    throw new KeyStoreError("unreadable", `vault ${path}: cannot read (${why})`);
  }
}

/**
 * Writes `text` to `path` atomically: a temp file (mode 0600) in the same
 * directory, fsync, then rename over `path` (or, with `exclusive`, a hard
 * link that fails when `path` exists). The temp file never survives.
 */
async function atomicWrite(path: string, text: string, exclusive: boolean): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  let placed = false;
  try {
    const fh = await open(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, 0o600);
    try {
      await fh.chmod(0o600);
      await fh.writeFile(text, "utf8");
      await fh.sync();
    } finally {
      await fh.close();
    }
    if (exclusive) {
      await link(tmp, path);
    } else {
      await rename(tmp, path);
      placed = true;
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EEXIST" && exclusive)
      throw new VaultError("exists", `vault ${path}: already exists; refusing to overwrite it`);
    throw new VaultError("write_failed", `vault ${path}: cannot write (${code ?? (err as Error).message})`);
  } finally {
    if (!placed) await unlink(tmp).catch(() => {});
  }
  // Make the rename durable; not every platform lets a directory be fsynced.
  try {
    const d = await open(dir, fsc.O_RDONLY);
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  } catch {
    // best effort
  }
}

function checkId(id: string): void {
  if (typeof id !== "string" || !ENTRY_ID_RE.test(id))
    throw new VaultError("invalid_id", "entry id must be 1-128 chars of [A-Za-z0-9._:-]");
}

/**
 * An encrypted key store on disk (format in `vaultFile.ts`). The instance
 * holds the scrypt-derived key, never the passphrase, and decrypts one entry
 * at a time in {@link Vault.reveal}. Inspecting or JSON-serialising it shows
 * only the path and the entry count.
 *
 * Entry metadata shown by {@link Vault.list} is authenticated when the entry is
 * decrypted (reveal / verify / passwd), not when the file is opened.
 */
export class Vault implements KeyStore {
  readonly #path: string;
  #key: Buffer | undefined;
  #doc: VaultDocument;
  /** The file's text as last read or written, to notice a change by someone else. */
  #text: string;
  #queue: Promise<unknown> = Promise.resolve();
  /** Per-process key of the tags in {@link #checked}. */
  readonly #tagKey: Buffer = randomBytes(32);
  /** Entry id → tag of the secp256k1 key (and address) whose address was checked (see #holdsKeyOfAddress). */
  readonly #checked = new Map<string, Buffer>();

  private constructor(path: string, key: Buffer, doc: VaultDocument, text: string) {
    this.#path = path;
    this.#key = key;
    this.#doc = doc;
    this.#text = text;
  }

  /** Creates a new, empty vault at `path` (which must not exist). */
  static async init(path: string, passphrase: Passphrase, options: VaultWriteOptions = {}): Promise<Vault> {
    const kdf = newKdf(options.scrypt);
    const key = await deriveWith(passphrase, kdf);
    const doc: VaultDocument = {
      format: VAULT_FORMAT,
      version: VAULT_VERSION,
      kdf,
      check: sealCheck(key),
      entries: [],
    };
    const text = serializeVaultDocument(doc);
    try {
      await atomicWrite(path, text, true);
    } catch (err) {
      key.fill(0);
      throw err;
    }
    return new Vault(path, key, doc, text);
  }

  /**
   * Opens an existing vault. Throws {@link KeyStoreError}: `unreadable` (no
   * such file, no permission), `corrupted` (not a well-formed vault file),
   * `bad_passphrase` (the passphrase does not open the check block).
   */
  static async open(path: string, passphrase: Passphrase): Promise<Vault> {
    const text = await readVaultText(path);
    const doc = parseVaultDocument(text, path);
    let key: Buffer;
    try {
      key = await deriveWith(passphrase, doc.kdf);
    } catch (err) {
      if (err instanceof VaultError)
        throw new KeyStoreError("bad_passphrase", `vault ${path}: ${err.message}`);
      throw err;
    }
    if (!verifyCheck(key, doc.check)) {
      key.fill(0);
      throw new KeyStoreError("bad_passphrase", `vault ${path}: wrong passphrase`);
    }
    return new Vault(path, key, doc, text);
  }

  get path(): string {
    return this.#path;
  }

  /** Ids, kinds, addresses and creation times; never secrets. */
  list(): VaultEntryInfo[] {
    return this.#doc.entries.map((e) => ({
      id: e.id,
      kind: e.kind,
      ...(e.address !== undefined ? { address: e.address } : {}),
      created_at: e.created_at,
    }));
  }

  /**
   * Adds an entry and rewrites the file. A secp256k1 secret must be a valid
   * 32-byte private key (its address is derived and stored); an hmac secret
   * is any non-empty byte string.
   */
  add(id: string, kind: VaultEntryKind, secret: Uint8Array | SecretBytes): Promise<VaultEntryInfo> {
    return this.#serial(async () => {
      const key = this.#liveKey();
      checkId(id);
      if (this.#doc.entries.some((e) => e.id === id))
        throw new VaultError("duplicate_id", `vault entry ${JSON.stringify(id)} already exists`);
      const bytes = secret instanceof SecretBytes ? secret.expose() : secret;
      let info: VaultEntryInfo;
      const created_at = new Date().toISOString();
      if (kind === "secp256k1") {
        if (!isValidSecp256k1Key(bytes)) {
          throw new VaultError(
            "invalid_secret",
            "a secp256k1 private key must be 32 bytes, a scalar from 1 to n-1",
          );
        }
        info = { id, kind, address: evmAddress(bytes), created_at };
      } else if (kind === "hmac") {
        if (bytes.length === 0) throw new VaultError("invalid_secret", "an hmac secret must not be empty");
        info = { id, kind, created_at };
      } else {
        throw new VaultError("invalid_kind", "entry kind must be hmac or secp256k1");
      }
      const entry = sealEntry(key, info, bytes);
      await this.#write({ ...this.#doc, entries: [...this.#doc.entries, entry] });
      return info;
    });
  }

  /** Removes an entry and rewrites the file; `not_found` when there is none. */
  remove(id: string): Promise<void> {
    return this.#serial(async () => {
      this.#liveKey();
      if (!this.#doc.entries.some((e) => e.id === id))
        throw new KeyStoreError("not_found", `vault entry ${JSON.stringify(id)} not found`);
      await this.#write({ ...this.#doc, entries: this.#doc.entries.filter((e) => e.id !== id) });
    });
  }

  /**
   * Re-encrypts every entry under a key derived from `newPassphrase` with a
   * fresh salt, in one atomic rewrite. Every entry must decrypt first
   * (`corrupted`, naming the entry, otherwise; the file is left as it was).
   */
  passwd(newPassphrase: Passphrase, options: VaultWriteOptions = {}): Promise<void> {
    return this.#serial(async () => {
      const oldKey = this.#liveKey();
      const kdf = newKdf({
        N: options.scrypt?.N ?? Math.max(this.#doc.kdf.N, 2 ** 15),
        r: options.scrypt?.r ?? this.#doc.kdf.r,
        p: options.scrypt?.p ?? this.#doc.kdf.p,
      });
      const newKey = await deriveWith(newPassphrase, kdf);
      let committed = false;
      try {
        const entries = this.#doc.entries.map((e) => {
          const pt = openEntry(oldKey, e);
          try {
            return sealEntry(newKey, e, pt);
          } finally {
            pt.fill(0);
          }
        });
        await this.#write({ ...this.#doc, kdf, check: sealCheck(newKey), entries });
        committed = true;
      } finally {
        if (committed) {
          oldKey.fill(0);
          this.#key = newKey;
        } else {
          newKey.fill(0);
        }
      }
    });
  }

  /** Decrypts one entry. `not_found`, or `corrupted` naming the entry when it fails authentication. */
  async reveal(entryId: string): Promise<RevealedKey> {
    const key = this.#liveKey();
    const entry = this.#doc.entries.find((e) => e.id === entryId);
    if (entry === undefined)
      throw new KeyStoreError("not_found", `vault entry ${JSON.stringify(entryId)} not found`);
    const pt = openEntry(key, entry);
    try {
      if (entry.kind === "hmac") return { kind: "hmac", secret: new SecretBytes(pt) };
      const address = entry.address;
      if (address === undefined || !this.#holdsKeyOfAddress(entry.id, pt, address)) {
        throw new KeyStoreError(
          "corrupted",
          `vault entry ${JSON.stringify(entry.id)} does not hold the key of its address`,
        );
      }
      return { kind: "secp256k1", privateKey: new SecretBytes(pt), address };
    } finally {
      pt.fill(0);
    }
  }

  /** Decrypts (and discards) every entry: `corrupted`, naming the first bad entry, if any fails. */
  async verify(): Promise<void> {
    for (const e of this.#doc.entries) {
      const r = await this.reveal(e.id);
      (r.kind === "hmac" ? r.secret : r.privateKey).expose().fill(0);
    }
  }

  /**
   * True when `pt` is a valid secp256k1 key whose address is `address`. The
   * public key is derived once per entry and key: a keyed tag of the key that
   * passed is remembered (never the key), and the same key again is
   * recognised by its tag instead of a new point multiplication.
   */
  #holdsKeyOfAddress(id: string, pt: Buffer, address: string): boolean {
    const tag = createHmac("sha256", this.#tagKey).update(pt).update(address).digest();
    const known = this.#checked.get(id);
    if (known !== undefined && timingSafeEqual(known, tag)) return true;
    if (!isValidSecp256k1Key(pt) || evmAddress(pt) !== address) return false;
    this.#checked.set(id, tag);
    return true;
  }

  /** Forgets the derived key; the instance is unusable afterwards. */
  close(): void {
    this.#key?.fill(0);
    this.#key = undefined;
    this.#checked.clear();
    this.#tagKey.fill(0);
  }

  toJSON(): { path: string; entries: number } {
    return { path: this.#path, entries: this.#doc.entries.length };
  }

  toString(): string {
    return `Vault(${this.#path}, ${this.#doc.entries.length} entries)`;
  }

  [inspect.custom](): string {
    return this.toString();
  }

  #liveKey(): Buffer {
    if (this.#key === undefined) throw new VaultError("closed", `vault ${this.#path}: closed`);
    return this.#key;
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => {});
    return run;
  }

  async #write(doc: VaultDocument): Promise<void> {
    const current = await readVaultText(this.#path).catch(() => undefined);
    if (current !== this.#text) {
      throw new VaultError(
        "changed_on_disk",
        `vault ${this.#path}: the file changed since it was opened; open it again`,
      );
    }
    const text = serializeVaultDocument(doc);
    await atomicWrite(this.#path, text, false);
    this.#doc = doc;
    this.#text = text;
  }
}
