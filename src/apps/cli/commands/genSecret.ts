import { randomBytes } from "node:crypto";
import { open } from "node:fs/promises";
import { CliError, type CliIo, EXIT, writeLine } from "./common.js";

/** What {@link genSecretCommand} makes: a caller token, or the audit log's key. */
export interface GenSecretOptions {
  readonly what: "token" | "key";
  /** The caller the token's snippets name. */
  readonly caller?: string;
  /** Write the secret to this new file (0600) instead of stdout. */
  readonly out?: string | undefined;
}

/**
 * `signer token gen` / `audit key gen`: 32 bytes from the CSPRNG as base64url
 * (43 characters, what the signer's strength rule asks for), printed or
 * written to a new 0600 file, then the config snippets that use it.
 */
export async function genSecretCommand(io: CliIo, opts: GenSecretOptions): Promise<void> {
  const secret = randomBytes(32).toString("base64url");
  const name = opts.what === "token" ? (opts.caller ?? "executor-1") : "audit";
  const envName =
    opts.what === "token"
      ? `IG_SIGNER_TOKEN_${name.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`
      : "IG_AUDIT_KEY";
  if (opts.out !== undefined) {
    try {
      const fh = await open(opts.out, "wx", 0o600);
      try {
        await fh.writeFile(`${secret}\n`);
      } finally {
        await fh.close();
      }
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? "error";
      throw new CliError(
        `cannot create ${opts.out} (${code}; an existing file is never overwritten)`,
        EXIT.FAILURE,
      );
    }
  } else {
    await writeLine(io.stdout, secret);
  }
  const ref =
    opts.out === undefined ? { [`${opts.what}_env`]: envName } : { [`${opts.what}_file`]: opts.out };
  if (opts.what === "token") {
    await writeLine(io.stdout, '# signer config, under "callers" (list what this caller may sign for):');
    await writeLine(
      io.stdout,
      JSON.stringify({ [name]: { ...ref, accounts: ["<account id>"], intents: ["<intent>"] } }),
    );
    await writeLine(
      io.stdout,
      '# executor config, "signing" (the same token, by env or a file only the executor reads):',
    );
    await writeLine(
      io.stdout,
      JSON.stringify({ plane: "remote", socket: "<signer socket>", caller: name, ...ref }),
    );
  } else {
    await writeLine(io.stdout, '# signer config, "audit":');
    await writeLine(io.stdout, JSON.stringify({ path: "<audit.jsonl>", ...ref }));
    await writeLine(
      io.stdout,
      `# verify: intentgate audit verify <audit.jsonl> --key-${opts.out === undefined ? `env ${envName}` : `file ${opts.out}`}`,
    );
  }
}
