import { stat } from "node:fs/promises";
import type { SignerConfig } from "./signerConfig.js";

/** A signer file that group or others may read or write (signing-plane-v1 §6): the signer does not start. */
export class FilePermissionError extends Error {
  override readonly name = "FilePermissionError";
  constructor(
    readonly path: string,
    readonly mode: number,
    what: string,
  ) {
    super(
      `${what} ${path} has mode 0${mode.toString(8)}: readable or writable by group or others; run chmod 600 ${path}`,
    );
  }
}

/**
 * Throws {@link FilePermissionError} when the file at `path` has any group
 * or other permission bit. A missing file passes when `optional` (the audit
 * log is created 0600); any other failure to inspect it throws.
 */
export async function assertPrivateFile(path: string, what: string, optional = false): Promise<void> {
  let mode: number;
  try {
    mode = (await stat(path)).mode & 0o777;
  } catch (err) {
    if (optional && (err as NodeJS.ErrnoException).code === "ENOENT") return;
    const code = (err as NodeJS.ErrnoException).code ?? "error";
    throw new FilePermissionError(path, 0, `${what} cannot be inspected (${code}):`);
  }
  if ((mode & 0o077) !== 0) throw new FilePermissionError(path, mode, what);
}

/**
 * Checks every file the signer's secrets or records live in before any is
 * read: the vault (unless keys are in a token), the vault passphrase file,
 * each caller's token file, the audit log (when it exists) and its key
 * file, the token PIN file. The first one open to group or others refuses
 * the start, naming the file and the mode to set.
 */
export async function checkSignerFiles(config: SignerConfig): Promise<void> {
  const files: [string, string, boolean][] = [];
  if (config.pkcs11 === undefined) files.push([config.vault.path, "vault", false]);
  if (config.vault.passphrase_file !== undefined && config.pkcs11 === undefined)
    files.push([config.vault.passphrase_file, "vault.passphrase_file", false]);
  for (const [id, c] of Object.entries(config.callers)) {
    if (c.token_file !== undefined) files.push([c.token_file, `callers.${id}.token_file`, false]);
  }
  files.push([config.audit.path, "audit log", true]);
  if (config.audit.key_file !== undefined) files.push([config.audit.key_file, "audit.key_file", false]);
  if (config.pkcs11?.pin_file !== undefined) files.push([config.pkcs11.pin_file, "pkcs11.pin_file", false]);
  for (const [path, what, optional] of files) await assertPrivateFile(path, what, optional);
}
