import { hostname, userInfo } from "node:os";
import { InvalidArgumentError } from "commander";
import { openBackend } from "../../../adapters/openBackend.js";
import type { ExecutorConfig } from "../../../config/configSchema.js";
import {
  CredentialError,
  type CredentialErrorCode,
  type CredentialRef,
  withCredential,
} from "../../../config/readCredential.js";
import { redactUrl } from "../../../core/redactUrl.js";
import type { Backend } from "../../../ports/backend.js";
import { EXIT } from "../exitCodes.js";

export { EXIT } from "../exitCodes.js";

/** Where a CLI run reads its environment and writes its output. */
export interface CliIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly env: NodeJS.ProcessEnv;
}

/** A failure with a message for the user and the exit code to leave with. */
export class CliError extends Error {
  override readonly name = "CliError";
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** Writes one line, waiting for the stream to drain when its buffer is full. */
export function writeLine(stream: NodeJS.WritableStream, line: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const ok = stream.write(`${line}\n`, (err) => {
      if (err) reject(err);
    });
    if (ok) resolve();
    else stream.once("drain", resolve);
  });
}

/**
 * Opens the backend a config names; an unreachable bus (or a missing bus file:
 * only the executor and `init` create one) is exit 69.
 */
export async function openConfiguredBackend(
  config: ExecutorConfig,
  opts: { readonly create?: "none" | "file" } = {},
): Promise<Backend> {
  try {
    return await openBackend({ url: config.bus, prefix: config.prefix, create: opts.create ?? "none" });
  } catch (err) {
    throw new CliError(`bus ${redactUrl(config.bus)}: ${(err as Error).message}`, EXIT.UNAVAILABLE);
  }
}

/** Runs `fn` with an open backend and closes it afterwards. */
export async function withBackend<T>(
  config: ExecutorConfig,
  fn: (backend: Backend) => Promise<T>,
  opts: { readonly create?: "none" | "file" } = {},
): Promise<T> {
  const backend = await openConfiguredBackend(config, opts);
  try {
    return await fn(backend);
  } finally {
    await backend.close();
  }
}

/** The exit code of each way a credential given on the command line can fail. */
const CREDENTIAL_EXIT: Readonly<Record<CredentialErrorCode, number>> = {
  missing: EXIT.USAGE,
  ambiguous: EXIT.USAGE,
  unset: EXIT.CONFIG,
  empty: EXIT.CONFIG,
  unreadable: EXIT.NOINPUT,
  exposed: EXIT.CONFIG,
};

/**
 * {@link withCredential} for a `--<x>-env NAME` / `--<x>-file PATH` pair of
 * options (`ref.envField` / `ref.fileField` name them): `use` gets the
 * secret, zeroed afterwards; a {@link CredentialError} becomes a
 * {@link CliError} with the same message and the exit code of its kind.
 */
export async function withCliCredential<T>(
  ref: CredentialRef,
  use: (secret: Buffer) => T | Promise<T>,
): Promise<T> {
  try {
    return await withCredential(ref, use);
  } catch (err) {
    if (err instanceof CredentialError) throw new CliError(err.message, CREDENTIAL_EXIT[err.code]);
    throw err;
  }
}

/**
 * The text of a secret given by `--<x>-env NAME` (`option` names the flag in
 * errors), read by the one credential reader: unset or empty is a
 * {@link CliError} (exit 78) naming the flag and the variable, never the value.
 * For the commands that hand a secret on as text (the emulators, the SDK's
 * signing keys); the reader's own buffer is zeroed.
 */
export function envSecretText(env: NodeJS.ProcessEnv, option: string, name: string): Promise<string> {
  return withCliCredential({ envVar: name, envField: option, fileField: option, env }, (secret) =>
    secret.toString("utf8"),
  );
}

/** `<user>@<hostname>`, for the trading-state log. */
export function defaultWho(env: NodeJS.ProcessEnv): string {
  let user: string | undefined;
  try {
    user = userInfo().username;
  } catch {
    user = undefined;
  }
  return `${user || env.USER || env.LOGNAME || "unknown"}@${hostname()}`;
}

/** commander parser for an integer option within [min, max]. */
export function intOption(min: number, max: number): (value: string) => number {
  return (value) => {
    if (!/^(0|[1-9][0-9]*)$/.test(value))
      throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
    const n = Number(value);
    if (n < min || n > max) throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
    return n;
  };
}
