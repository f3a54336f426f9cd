import { type FileHandle, open } from "node:fs/promises";
import { resolve } from "node:path";
import { SecretBytes } from "../core/auth/secretBytes.js";
import { ConfigError } from "./configError.js";

/**
 * The one reader of a secret given as "an environment variable or a file"
 * (never inline): venue credentials and HMAC keys of the executor config, the
 * signer's passphrase, caller tokens, audit key and token PIN, and the CLI's
 * `--*-env` / `--*-file` options. Every caller gets the same rules:
 *
 * - exactly one source; an environment variable that is unset or empty, and a
 *   file that cannot be read or is empty, are errors;
 * - one trailing line break of a file (`\n` or `\r\n`, as `echo` and editors
 *   write) is not part of the secret; the bytes are used as they are (no text
 *   decoding);
 * - with `requirePrivate` (the signer's files, signing-plane-v1 §6) a file
 *   that group or others may read or write is refused, checked on the opened
 *   file itself, so the check and the read are of one file;
 * - the secret is handed to a callback and the buffer holding it is zeroed
 *   (`fill(0)`) when the callback returns or throws;
 * - every failure is one {@link CredentialError}: a code, the field (or CLI
 *   option) at fault, the variable's name or the file's path, never a byte of
 *   the secret.
 */

/** Why a credential could not be read. */
export type CredentialErrorCode =
  /** Neither the variable nor the file was given. */
  | "missing"
  /** Both were given. */
  | "ambiguous"
  /** The environment variable is not set. */
  | "unset"
  /** The environment variable is empty, or the file is (after its one trailing line break). */
  | "empty"
  /** The file cannot be opened or read (the errno code is in the message). */
  | "unreadable"
  /** The file may be read or written by group or others (only with `requirePrivate`). */
  | "exposed";

/** A credential that could not be read. Names the field, the variable or the file; never the secret. */
export class CredentialError extends Error {
  override readonly name = "CredentialError";
  /** What went wrong. */
  readonly code: CredentialErrorCode;
  /** The config field or CLI option at fault, e.g. `keys.k1.secret_env` or `--passphrase-file`. */
  readonly field: string;
  /** The message without the field (what a config issue or CLI line says after it). */
  readonly detail: string;

  constructor(code: CredentialErrorCode, field: string, detail: string) {
    super(`${field}: ${detail}`);
    this.code = code;
    this.field = field;
    this.detail = detail;
  }
}

/** Where a credential is and what errors call its two sources. */
export interface CredentialRef {
  /** Name of the environment variable holding the secret. */
  readonly envVar?: string | undefined;
  /** Path of the file holding it; a relative path resolves against `baseDir`. */
  readonly file?: string | undefined;
  /** What errors call the variable source: a config field (`keys.k1.secret_env`) or an option (`--key-env`). */
  readonly envField: string;
  /** What errors call the file source (`keys.k1.secret_file`, `--key-file`). */
  readonly fileField: string;
  /** The environment `envVar` is read from. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Where a relative `file` resolves (default: the working directory). */
  readonly baseDir?: string | undefined;
  /** Refuse a file with any group or other permission bit (the signer's rule). */
  readonly requirePrivate?: boolean | undefined;
}

/**
 * Reads the credential `ref` names and runs `use` with it; the buffer holding
 * it is zeroed when `use` settles. `use` must copy what it keeps (a
 * {@link SecretBytes} copies). Throws {@link CredentialError}.
 * @example await withCredential({ envVar: "K", envField: "--key-env", fileField: "--key-file", env }, (k) => mac(k))
 */
export async function withCredential<T>(
  ref: CredentialRef,
  use: (secret: Buffer) => T | Promise<T>,
): Promise<T> {
  const { raw, secret } = await readRaw(ref);
  try {
    return await use(secret);
  } finally {
    raw.fill(0);
  }
}

/**
 * The credential as {@link SecretBytes} (its own copy; the buffer read is zeroed).
 * Throws {@link CredentialError}.
 */
export function readSecret(ref: CredentialRef): Promise<SecretBytes> {
  return withCredential(ref, (bytes) => new SecretBytes(bytes));
}

/**
 * Why a file with permission bits `mode` may not hold a secret, or `undefined`
 * when only its owner may read or write it (the signer's rule for its files).
 */
function privateModeProblem(path: string, mode: number): string | undefined {
  if ((mode & 0o077) === 0) return undefined;
  return `${path} has mode 0${(mode & 0o777).toString(8)}: readable or writable by group or others; run chmod 600 ${path}`;
}

/** The whole buffer read (to zero) and the secret in it (a view of it). */
async function readRaw(ref: CredentialRef): Promise<{ raw: Buffer; secret: Buffer }> {
  const both = `give exactly one of ${ref.envField} and ${ref.fileField}`;
  if (ref.envVar !== undefined && ref.file !== undefined)
    throw new CredentialError("ambiguous", ref.fileField, both);
  if (ref.envVar !== undefined) {
    const value = ref.env[ref.envVar];
    if (value === undefined)
      throw new CredentialError("unset", ref.envField, `environment variable ${ref.envVar} is not set`);
    if (value === "")
      throw new CredentialError("empty", ref.envField, `environment variable ${ref.envVar} is empty`);
    // Not Buffer.from(value): small strings land in Node's shared pool.
    const raw = Buffer.alloc(Buffer.byteLength(value, "utf8"));
    raw.write(value, "utf8");
    return { raw, secret: raw };
  }
  if (ref.file !== undefined) {
    const path = resolve(ref.baseDir ?? process.cwd(), ref.file);
    const raw = await readPrivately(path, ref);
    let end = raw.length;
    if (end > 0 && raw[end - 1] === 0x0a) {
      end--;
      if (end > 0 && raw[end - 1] === 0x0d) end--;
    }
    if (end === 0) {
      raw.fill(0);
      throw new CredentialError("empty", ref.fileField, `${path} is empty`);
    }
    return { raw, secret: raw.subarray(0, end) };
  }
  throw new CredentialError("missing", ref.envField, both);
}

/** The file's bytes, its mode checked first on the same open file when `requirePrivate`. */
async function readPrivately(path: string, ref: CredentialRef): Promise<Buffer> {
  const unreadable = (err: unknown) =>
    new CredentialError("unreadable", ref.fileField, `cannot read ${path} (${errnoOf(err)})`);
  let fh: FileHandle;
  try {
    fh = await open(path, "r");
  } catch (err) {
    throw unreadable(err);
  }
  try {
    if (ref.requirePrivate === true) {
      let mode: number;
      try {
        mode = (await fh.stat()).mode;
      } catch (err) {
        throw unreadable(err);
      }
      const problem = privateModeProblem(path, mode);
      if (problem !== undefined) throw new CredentialError("exposed", ref.fileField, problem);
    }
    try {
      return await fh.readFile();
    } catch (err) {
      throw unreadable(err);
    }
  } finally {
    await fh.close().catch(() => undefined);
  }
}

function errnoOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : "error";
}

// ---------------------------------------------------------------------------
// Credentials a config file names: `<name>_env` / `<name>_file` in a section.

/** Options of {@link readConfigCredential}. */
export interface ConfigCredentialOptions {
  /** The config section holding `<name>_env` or `<name>_file`. */
  readonly holder: Readonly<Record<string, unknown>>;
  /** The credential's name in it (`secret`, `api_key`, `token`, `pin`, …). */
  readonly name: string;
  /** The section's dotted path (`keys.k1`, `callers.e1`): errors name `<field>.<name>_env` or `_file`. */
  readonly field: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Where a relative file path resolves (default: the working directory). */
  readonly baseDir?: string | undefined;
  /** See {@link CredentialRef.requirePrivate}. */
  readonly requirePrivate?: boolean | undefined;
}

/**
 * Reads a credential a config section names by `<name>_env` or
 * `<name>_file`, as {@link SecretBytes}. A failure is a {@link ConfigError}
 * on the field at fault (the {@link CredentialError} as its issue).
 * @example await readConfigCredential({ holder: config.vault, name: "passphrase", field: "vault", env })
 */
export async function readConfigCredential(opts: ConfigCredentialOptions): Promise<SecretBytes> {
  const text = (key: string): string | undefined => {
    const v = opts.holder[key];
    return typeof v === "string" ? v : undefined;
  };
  try {
    return await readSecret({
      envVar: text(`${opts.name}_env`),
      file: text(`${opts.name}_file`),
      envField: `${opts.field}.${opts.name}_env`,
      fileField: `${opts.field}.${opts.name}_file`,
      env: opts.env,
      baseDir: opts.baseDir,
      requirePrivate: opts.requirePrivate,
    });
  } catch (err) {
    if (err instanceof CredentialError) throw new ConfigError({ field: err.field, message: err.detail });
    throw err;
  }
}
