import { createInterface } from "node:readline";
import { Writable } from "node:stream";
import { type Command, InvalidArgumentError, Option } from "commander";
import type { Vault } from "../../../signer/index.js";
import { CliError, type CliIo, EXIT, withCliCredential, writeLine } from "./common.js";

/** Where the passphrase prompt reads from: a terminal, or nothing to prompt on. */
export type PromptInput = NodeJS.ReadableStream & { isTTY?: boolean };

/** What `vault` commands need beyond {@link CliIo}: a stdin to prompt on (default `process.stdin`). */
export interface VaultCliDeps {
  readonly stdin?: PromptInput;
}

type Encoding = "utf8" | "hex" | "base64";
const ENCODINGS: readonly Encoding[] = ["utf8", "hex", "base64"];
const KINDS = ["hmac", "secp256k1"] as const;

function entryIdArg(value: string): string {
  if (!/^[A-Za-z0-9._:-]{1,128}$/.test(value))
    throw new InvalidArgumentError("expected 1-128 chars of [A-Za-z0-9._:-]");
  return value;
}

interface PassphraseOpts {
  passphraseEnv?: string;
  passphraseFile?: string;
}

/**
 * Reads a line from a terminal without echoing it. The prompt goes to
 * `output` (stderr), nothing typed does.
 */
export function readHiddenLine(
  input: PromptInput,
  output: NodeJS.WritableStream,
  prompt: string,
): Promise<string> {
  return new Promise((resolve, reject) => {
    let muted = false;
    const sink = new Writable({
      write(chunk: Buffer | string, _enc, cb) {
        if (!muted) output.write(chunk);
        cb();
      },
    });
    const rl = createInterface({ input, output: sink, terminal: true, historySize: 0 });
    let done = false;
    const finish = (fn: () => void) => {
      if (done) return;
      done = true;
      muted = false;
      output.write("\n");
      rl.close();
      fn();
    };
    rl.on("SIGINT", () => finish(() => reject(new CliError("interrupted", EXIT.FAILURE))));
    rl.on("close", () => finish(() => reject(new CliError("no passphrase entered", EXIT.USAGE))));
    output.write(prompt);
    muted = true;
    rl.question("", (answer) => finish(() => resolve(answer)));
  });
}

/**
 * Runs `use` with a passphrase from `--<prefix>passphrase-env`,
 * `--<prefix>passphrase-file` (the shared credential reader) or a no-echo
 * prompt; the buffer is zeroed when `use` settles.
 */
async function withPassphrase<T>(
  from: {
    readonly io: CliIo;
    readonly stdin: PromptInput;
    /** The values of the `--…passphrase-env` / `--…passphrase-file` options. */
    readonly src: { env?: string | undefined; file?: string | undefined };
    /** Those options' names, for errors. */
    readonly names: { env: string; file: string };
    readonly prompt: { text: string; confirm: boolean };
  },
  use: (passphrase: Buffer) => Promise<T>,
): Promise<T> {
  const { io, stdin, src, names, prompt } = from;
  if (src.env !== undefined || src.file !== undefined) {
    return withCliCredential(
      { envVar: src.env, file: src.file, envField: names.env, fileField: names.file, env: io.env },
      use,
    );
  }
  if (stdin.isTTY !== true) {
    throw new CliError(
      `no passphrase: give ${names.env} NAME or ${names.file} PATH (stdin is not a terminal to prompt on)`,
      EXIT.USAGE,
    );
  }
  const first = await readHiddenLine(stdin, io.stderr, prompt.text);
  if (first === "") throw new CliError("the passphrase is empty", EXIT.USAGE);
  if (prompt.confirm) {
    const again = await readHiddenLine(stdin, io.stderr, "Repeat the passphrase: ");
    if (again !== first) throw new CliError("the passphrases do not match", EXIT.USAGE);
  }
  const passphrase = Buffer.from(first, "utf8");
  try {
    return await use(passphrase);
  } finally {
    passphrase.fill(0);
  }
}

const openNames = { env: "--passphrase-env", file: "--passphrase-file" };
const newNames = { env: "--new-passphrase-env", file: "--new-passphrase-file" };

/** Maps vault errors to CLI errors (message prefixed with nothing secret; exit code by kind). */
function toCliError(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  if (err.name === "KeyStoreError") {
    const code = (err as Error & { code: string }).code;
    const exit =
      code === "unreadable"
        ? EXIT.NOINPUT
        : code === "corrupted"
          ? EXIT.DATAERR
          : code === "not_found"
            ? EXIT.USAGE
            : EXIT.FAILURE;
    return new CliError(err.message, exit);
  }
  if (err.name === "VaultError") {
    const code = (err as Error & { code: string }).code;
    const exit =
      code === "invalid_secret"
        ? EXIT.DATAERR
        : code === "duplicate_id" ||
            code === "invalid_id" ||
            code === "invalid_kind" ||
            code === "invalid_passphrase"
          ? EXIT.USAGE
          : EXIT.FAILURE;
    return new CliError(err.message, exit);
  }
  return err;
}

/** The signer's public entry (vault operations), loaded when a vault command runs. */
const signerEntry = () => import("../../../signer/index.js");

async function withVault<T>(
  io: CliIo,
  stdin: PromptInput,
  file: string,
  opts: PassphraseOpts,
  fn: (vault: Vault) => Promise<T>,
): Promise<T> {
  const { openVault } = await signerEntry();
  const vault = await withPassphrase(
    {
      io,
      stdin,
      src: { env: opts.passphraseEnv, file: opts.passphraseFile },
      names: openNames,
      prompt: { text: `Passphrase for ${file}: `, confirm: false },
    },
    (passphrase) => openVault(file, passphrase).catch((err: unknown) => Promise.reject(toCliError(err))),
  );
  try {
    return await fn(vault);
  } catch (err) {
    throw toCliError(err);
  } finally {
    vault.close();
  }
}

function decodeSecret(text: string, encoding: Encoding, option: string): Buffer {
  if (encoding === "utf8") return Buffer.from(text, "utf8");
  if (encoding === "hex") {
    const hex = text.trim().replace(/^0x/i, "");
    if (!/^(?:[0-9a-fA-F]{2})+$/.test(hex)) throw new CliError(`${option}: not valid hex`, EXIT.DATAERR);
    return Buffer.from(hex, "hex");
  }
  const b64 = text.trim();
  if (!/^(?:[A-Za-z0-9+/_-]{4})*(?:[A-Za-z0-9+/_-]{2}(?:==)?|[A-Za-z0-9+/_-]{3}=?)?$/.test(b64) || b64 === "")
    throw new CliError(`${option}: not valid base64`, EXIT.DATAERR);
  return Buffer.from(b64, b64.includes("-") || b64.includes("_") ? "base64url" : "base64");
}

interface AddOpts extends PassphraseOpts {
  file: string;
  id: string;
  kind: "hmac" | "secp256k1";
  secretEnv?: string;
  secretFile?: string;
  generate: boolean;
  encoding?: Encoding;
}

async function secretForAdd(io: CliIo, opts: AddOpts): Promise<Buffer> {
  const sources = [opts.secretEnv, opts.secretFile, opts.generate ? true : undefined].filter(
    (s) => s !== undefined,
  );
  if (sources.length !== 1)
    throw new CliError("give exactly one of --secret-env, --secret-file, --generate", EXIT.USAGE);
  const encoding: Encoding = opts.encoding ?? (opts.kind === "secp256k1" ? "hex" : "utf8");
  if (opts.kind === "secp256k1" && encoding === "utf8")
    throw new CliError("--encoding utf8: a secp256k1 key is given in hex or base64", EXIT.USAGE);
  if (opts.generate) {
    if (opts.kind !== "secp256k1")
      throw new CliError(
        "--generate: only for --kind secp256k1 (an hmac secret comes from its issuer)",
        EXIT.USAGE,
      );
    if (opts.encoding !== undefined) throw new CliError("--encoding: not with --generate", EXIT.USAGE);
    const { generateSecp256k1Key } = await signerEntry();
    return generateSecp256k1Key();
  }
  // From --secret-env or --secret-file (exactly one, checked above): the shared reader; its buffer is zeroed.
  const option =
    opts.secretEnv !== undefined ? `--secret-env ${opts.secretEnv}` : `--secret-file ${opts.secretFile}`;
  return withCliCredential(
    {
      envVar: opts.secretEnv,
      file: opts.secretFile,
      envField: "--secret-env",
      fileField: "--secret-file",
      env: io.env,
    },
    (raw) => (encoding === "utf8" ? Buffer.from(raw) : decodeSecret(raw.toString("utf8"), encoding, option)),
  );
}

const fileOption = () => new Option("--file <path>", "the vault file").makeOptionMandatory();
const passphraseOptions = (cmd: Command): Command =>
  cmd
    .option("--passphrase-env <name>", "environment variable holding the vault passphrase")
    .option("--passphrase-file <path>", "file holding the vault passphrase (one trailing newline ignored)");

/**
 * `vault init|add|list|remove|passwd`: the signer's encrypted key store
 * (scrypt + AES-256-GCM per entry). Passphrases come from an environment
 * variable, a file, or a terminal prompt without echo; secrets never go on the
 * command line and are never printed.
 */
export function addVaultCommands(program: Command, io: CliIo, deps: VaultCliDeps = {}): void {
  const stdin: PromptInput = deps.stdin ?? process.stdin;
  const vault = program.command("vault").description("the signer's encrypted key store");

  passphraseOptions(
    vault
      .command("init")
      .description("create a new, empty vault file (mode 0600); refuses to overwrite one")
      .addOption(fileOption()),
  ).action(async (opts: PassphraseOpts & { file: string }) => {
    const { initVault } = await signerEntry();
    await withPassphrase(
      {
        io,
        stdin,
        src: { env: opts.passphraseEnv, file: opts.passphraseFile },
        names: openNames,
        prompt: { text: `New passphrase for ${opts.file}: `, confirm: true },
      },
      async (passphrase) => {
        try {
          (await initVault(opts.file, passphrase)).close();
        } catch (err) {
          throw toCliError(err);
        }
      },
    );
  });

  passphraseOptions(
    vault
      .command("add")
      .description("add an entry; prints its id, kind, address and created_at as one JSON line")
      .addOption(fileOption())
      .requiredOption("--id <id>", "the entry id (e.g. the account id)", entryIdArg)
      .addOption(new Option("--kind <kind>", "what the entry holds").choices(KINDS).makeOptionMandatory())
      .option("--secret-env <name>", "environment variable holding the secret")
      .option("--secret-file <path>", "file holding the secret (one trailing newline ignored)")
      .option("--generate", "generate a fresh secp256k1 key", false)
      .addOption(
        new Option(
          "--encoding <encoding>",
          "how the secret is written (default: utf8 for hmac, hex for secp256k1)",
        ).choices(ENCODINGS),
      ),
  ).action(async (opts: AddOpts) => {
    const secret = await secretForAdd(io, opts);
    try {
      const info = await withVault(io, stdin, opts.file, opts, (v) => v.add(opts.id, opts.kind, secret));
      await writeLine(io.stdout, JSON.stringify(info));
    } finally {
      secret.fill(0);
    }
  });

  passphraseOptions(
    vault
      .command("list")
      .description("one JSON line per entry: id, kind, address, created_at (never secrets)")
      .addOption(fileOption())
      .option("--verify", "also decrypt every entry to check it is intact", false),
  ).action(async (opts: PassphraseOpts & { file: string; verify: boolean }) => {
    const entries = await withVault(io, stdin, opts.file, opts, async (v) => {
      if (opts.verify) await v.verify();
      return v.list();
    });
    for (const e of entries) await writeLine(io.stdout, JSON.stringify(e));
  });

  passphraseOptions(
    vault
      .command("remove")
      .description("remove an entry")
      .addOption(fileOption())
      .requiredOption("--id <id>", "the entry id", entryIdArg),
  ).action(async (opts: PassphraseOpts & { file: string; id: string }) => {
    await withVault(io, stdin, opts.file, opts, (v) => v.remove(opts.id));
  });

  passphraseOptions(
    vault
      .command("passwd")
      .description("re-encrypt the vault under a new passphrase")
      .addOption(fileOption())
      .option("--new-passphrase-env <name>", "environment variable holding the new passphrase")
      .option(
        "--new-passphrase-file <path>",
        "file holding the new passphrase (one trailing newline ignored)",
      ),
  ).action(
    async (
      opts: PassphraseOpts & { file: string; newPassphraseEnv?: string; newPassphraseFile?: string },
    ) => {
      await withVault(io, stdin, opts.file, opts, (v) =>
        withPassphrase(
          {
            io,
            stdin,
            src: { env: opts.newPassphraseEnv, file: opts.newPassphraseFile },
            names: newNames,
            prompt: { text: `New passphrase for ${opts.file}: `, confirm: true },
          },
          (next) => v.passwd(next),
        ),
      );
    },
  );
}
