import type { Command } from "commander";
import { verifyAuditFile } from "../../../signer/audit/verifyAudit.js";
import { CliError, type CliIo, EXIT, writeLine } from "./common.js";

/** `audit verify FILE`: checks the signer's audit hash chain (signing-plane-v1 §6). */
export function addAuditCommands(program: Command, io: CliIo, setExitCode: (code: number) => void): void {
  const audit = program.command("audit").description("the signer's append-only audit log");
  audit
    .command("verify")
    .description("check every line's hash and the chain; print the first bad line")
    .argument("<file>", "the audit log (JSONL)")
    .action(async (file: string) => {
      let result: Awaited<ReturnType<typeof verifyAuditFile>>;
      try {
        result = await verifyAuditFile(file);
      } catch (err) {
        const code = (err as { code?: unknown } | null)?.code;
        throw new CliError(
          `cannot read ${file} (${typeof code === "string" ? code : "error"})`,
          EXIT.NOINPUT,
        );
      }
      if (result.ok) {
        await writeLine(io.stdout, `ok: ${result.lines} lines`);
      } else {
        await writeLine(io.stdout, `bad line ${result.line}: ${result.problem}`);
        setExitCode(EXIT.FAILURE);
      }
    });
}
