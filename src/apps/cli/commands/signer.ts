import type { Command } from "commander";
import type { Logger } from "../../../ops/logger.js";
import type { SignerPipeline, SignerServer } from "../../../signer/index.js";
import { CliError, type CliIo, EXIT, intOption } from "./common.js";
import { genSecretCommand } from "./genSecret.js";

/** Options of {@link runSigner}. */
export interface RunSignerOptions {
  readonly configPath: string;
  readonly env: NodeJS.ProcessEnv;
  /** Where the JSON log lines go. */
  readonly logTo: NodeJS.WritableStream;
  /** Overrides `socket.path` from the config. */
  readonly socketPath?: string | undefined;
  /** Longest one request may take in the plane before the caller gets `signer_unavailable`. */
  readonly requestTimeoutMs: number;
  /** Stops the signer like SIGTERM does (besides the signals themselves). */
  readonly signal?: AbortSignal;
  /** Called once the socket accepts connections. */
  readonly onReady?: (info: { socketPath: string }) => void;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 5000;

/** `signer`: the remote signing plane's process (signing-plane-v1 §5 `remote`); `signer token gen`. */
export function addSignerCommands(program: Command, io: CliIo): void {
  const signer = program.command("signer");
  signer
    .command("token")
    .description("caller tokens for the signer")
    .command("gen")
    .description("print a new caller token (32 random bytes, base64url) and its config snippets")
    .option("--caller <id>", "the caller id the snippets name", "executor-1")
    .option("--out <file>", "write the token to this new file (mode 0600) instead of printing it")
    .action(async (opts: { caller: string; out?: string }) => {
      await genSecretCommand(io, { what: "token", caller: opts.caller, out: opts.out });
    });
  signer
    .description("run the signing plane on a Unix domain socket (mode 0600) until SIGTERM/SIGINT")
    // Not requiredOption: commander would then demand it of `signer token gen` too.
    .option("--config <path>", "signer config file (JSON or YAML); required")
    .option("--socket <path>", "Unix socket to serve (default: socket.path from the config)")
    .option(
      "--request-timeout-ms <ms>",
      "longest a request may take before it is denied signer_unavailable",
      intOption(1, 600_000),
      DEFAULT_REQUEST_TIMEOUT_MS,
    )
    .action(async (opts: { config?: string; socket?: string; requestTimeoutMs: number }) => {
      if (opts.config === undefined) {
        throw new CliError("required option '--config <path>' not specified", EXIT.USAGE);
      }
      await runSigner({
        configPath: opts.config,
        env: io.env,
        logTo: io.stdout,
        socketPath: opts.socket,
        requestTimeoutMs: opts.requestTimeoutMs,
      });
    });
}

/**
 * Loads the signer config, reads the caller tokens and the vault passphrase
 * (from the environment or files the config names), opens the vault and the
 * audit log, and serves the signing engine on the socket until SIGTERM/SIGINT
 * (or `signal`): then it stops accepting, answers the requests in flight,
 * removes the socket, closes the audit log, forgets the vault key and
 * resolves. A bad config is a {@link ConfigError} (exit 78); a vault that
 * cannot be opened, an audit log that cannot be, or a socket path in use are
 * {@link CliError}s.
 */
export async function runSigner(opts: RunSignerOptions): Promise<void> {
  const signer = await import("../../../signer/index.js");
  const config = await signer.loadSignerConfig(opts.configPath);
  const socketPath = opts.socketPath ?? config.socket?.path;
  if (socketPath === undefined) {
    throw new CliError(`${opts.configPath}: no socket.path in the config and no --socket given`, EXIT.CONFIG);
  }
  const callers = await signer.loadCallerTokens(config, opts.env);
  if (callers.size === 0) {
    throw new CliError(`${opts.configPath}: no callers configured: nobody could authenticate`, EXIT.CONFIG);
  }
  const { createLogger, flushLogger } = await import("../../../ops/logger.js");

  let pipeline: SignerPipeline | undefined;
  let server: SignerServer | undefined;
  let logger: Logger | undefined;
  const stop = new AbortController();
  const onStop = () => stop.abort();
  try {
    process.on("SIGTERM", onStop);
    process.on("SIGINT", onStop);
    opts.signal?.addEventListener("abort", onStop, { once: true });

    logger = createLogger({
      level: "info",
      destination: opts.logTo,
      base: { component: "signer" },
    });
    // The keys (vault, or the PKCS#11 token of a `pkcs11` section) and the audit log with its sync
    // policy and key. Unlike the in-process local plane this runs with `live: true`: a separate
    // signer process is the production plane.
    pipeline = await signer.openSignerPipeline(config, opts.env, { logger }).catch((err: unknown) => {
      throw startError(err, "keys or audit log");
    });
    const limits = config.socket;
    server = await signer
      .startSignerServer({
        socketPath,
        callers,
        plane: pipeline.plane,
        requestTimeoutMs: opts.requestTimeoutMs,
        logger,
        ...definedOnly({
          maxConnections: limits?.max_connections,
          maxConnectionsPerCaller: limits?.max_connections_per_caller,
          idleTimeoutMs: limits?.idle_timeout_ms,
          frameTimeoutMs: limits?.frame_timeout_ms,
          unreadTimeoutMs: limits?.unread_timeout_ms,
          maxUnreadBytes: limits?.max_unread_bytes,
        }),
      })
      .catch((err: unknown) => {
        throw startError(err, "socket");
      });
    logger.info(
      {
        socket: socketPath,
        callers: [...callers.keys()],
        live: config.live,
        ...pipeline.summary,
      },
      "signer ready",
    );
    opts.onReady?.({ socketPath });
    if (!stop.signal.aborted) {
      await new Promise<void>((resolve) =>
        stop.signal.addEventListener("abort", () => resolve(), { once: true }),
      );
    }
    logger.info({ socket: socketPath }, "signer stopping: answering requests in flight");
  } finally {
    process.off("SIGTERM", onStop);
    process.off("SIGINT", onStop);
    opts.signal?.removeEventListener("abort", onStop);
    await server?.close();
    await pipeline?.close();
    if (logger !== undefined) await flushLogger(logger);
  }
}

/** A start-up failure as a CLI error: the module's own message (which never holds a secret), exit by kind. */
function startError(err: unknown, what: string): unknown {
  if (!(err instanceof Error)) return err;
  const code = (err as Error & { code?: unknown }).code;
  switch (err.name) {
    case "KeyStoreError":
      return new CliError(
        err.message,
        code === "unreadable" ? EXIT.NOINPUT : code === "corrupted" ? EXIT.DATAERR : EXIT.CONFIG,
      );
    case "AuditLogError":
      return new CliError(
        err.message,
        code === "corrupt_tail" || code === "corrupt"
          ? EXIT.DATAERR
          : code === "permissions" || code === "locked"
            ? EXIT.CONFIG
            : EXIT.FAILURE,
      );
    case "FilePermissionError":
    case "ReferencePriceFileError":
      return new CliError(err.message, EXIT.CONFIG);
    case "ConfigError":
      return err; // exit 78 with the field named
    case "SignerServerError":
      return new CliError(err.message, EXIT.FAILURE);
    default:
      return new CliError(`${what}: ${err.message}`, EXIT.FAILURE);
  }
}

/** The defined entries of `o` only (options objects under `exactOptionalPropertyTypes`). */
function definedOnly<T extends Record<string, unknown>>(o: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]?: Exclude<T[K], undefined>;
  };
}
