import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Command, CommanderError } from "commander";
import { ConfigError } from "../../config/configError.js";
import { addAuditCommands } from "./commands/audit.js";
import { addBusCommands } from "./commands/bus.js";
import { CliError, type CliIo, EXIT } from "./commands/common.js";
import { addEmulatorCommands } from "./commands/emulator.js";
import { addKeyCommands } from "./commands/keys.js";
import { addOrderCommands } from "./commands/orders.js";
import { addProducerCommands } from "./commands/producer.js";
import { addRunCommands } from "./commands/run.js";
import { addSignerCommands } from "./commands/signer.js";
import { addVaultCommands } from "./commands/vault.js";

/** Builds the `intentgate` command tree writing to `io`. */
export function buildProgram(io: CliIo, setExitCode: (code: number) => void): Command {
  const program = new Command("intentgate");
  program
    .description("IntentGate: fail-closed execution boundary between trade plans on a bus and the exchange")
    .exitOverride()
    .showHelpAfterError("(run with --help for usage)")
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      outputError: (s, write) => write(`intentgate: ${s.replace(/^error: /, "")}`),
    });
  addRunCommands(program, io, setExitCode);
  addBusCommands(program, io);
  addProducerCommands(program, io, setExitCode);
  addOrderCommands(program, io, setExitCode);
  addKeyCommands(program, io);
  addSignerCommands(program, io);
  addEmulatorCommands(program, io);
  addAuditCommands(program, io, setExitCode);
  addVaultCommands(program, io);
  return program;
}

/**
 * Runs the CLI on `argv` (the user's arguments, without `node` and the
 * script) and resolves to the exit code (`exitCodes.ts`: 0 ok, 64 bad usage,
 * 78 bad config, 69 bus unavailable, 1 other failures, …).
 */
export async function main(argv: readonly string[], io: CliIo = defaultIo()): Promise<number> {
  let code: number = EXIT.OK;
  const program = buildProgram(io, (c) => {
    code = c;
  });
  try {
    await program.parseAsync([...argv], { from: "user" });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    if (err instanceof ConfigError) {
      io.stderr.write(`intentgate: ${err.message}\n`);
      return EXIT.CONFIG;
    }
    if (err instanceof CliError) {
      io.stderr.write(`intentgate: ${err.message}\n`);
      return err.exitCode;
    }
    if ((err as NodeJS.ErrnoException | null)?.code === "EPIPE") return EXIT.OK; // reader went away (| head)
    io.stderr.write(`intentgate: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT.FAILURE;
  }
}

function defaultIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env };
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  process.exitCode = await main(process.argv.slice(2));
}
