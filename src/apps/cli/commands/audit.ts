import type { Command } from "commander";
import { CliError, type CliIo, EXIT, withCliCredential, writeLine } from "./common.js";
import { genSecretCommand } from "./genSecret.js";

/**
 * `audit verify FILE --key-env NAME | --key-file PATH`: checks the signer's
 * keyed audit chain (signing-plane-v1 §6) under its key; `audit key gen`:
 * a new audit key.
 */
export function addAuditCommands(program: Command, io: CliIo, setExitCode: (code: number) => void): void {
  const audit = program.command("audit").description("the signer's append-only audit log");
  audit
    .command("verify")
    .description("check every line's MAC under the audit key and the chain; print the first bad line")
    .argument("<file>", "the audit log (JSONL)")
    .option("--key-env <name>", "environment variable holding the audit key")
    .option("--key-file <path>", "file holding the audit key")
    .action(async (file: string, opts: { keyEnv?: string; keyFile?: string }) => {
      if ((opts.keyEnv === undefined) === (opts.keyFile === undefined)) {
        throw new CliError(
          "audit verify needs the audit key: give exactly one of --key-env and --key-file",
          EXIT.USAGE,
        );
      }
      const { verifyAuditFile } = await import("../../../signer/index.js");
      const keyRef = {
        envVar: opts.keyEnv,
        file: opts.keyFile,
        envField: "--key-env",
        fileField: "--key-file",
        env: io.env,
      };
      // The key is zeroed once the file is checked.
      const result = await withCliCredential(keyRef, async (key) => {
        try {
          return await verifyAuditFile(file, key);
        } catch (err) {
          const code = (err as { code?: unknown } | null)?.code;
          throw new CliError(
            `cannot read ${file} (${typeof code === "string" ? code : "error"})`,
            EXIT.NOINPUT,
          );
        }
      });
      if (result.ok) {
        await writeLine(io.stdout, `ok: ${result.lines} lines`);
      } else {
        await writeLine(io.stdout, `bad line ${result.line}: ${result.problem}`);
        setExitCode(EXIT.FAILURE);
      }
    });
  audit
    .command("key")
    .description("the audit log's HMAC key")
    .command("gen")
    .description("print a new audit key (32 random bytes, base64url) and its config snippet")
    .option("--out <file>", "write the key to this new file (mode 0600) instead of printing it")
    .action(async (opts: { out?: string }) => {
      await genSecretCommand(io, { what: "key", out: opts.out });
    });
}
