import { type ChildProcess, spawn } from "node:child_process";
import { inspect } from "node:util";
import type { AlertRecord, AlertSink, SinkOutcome } from "../../ports/alertSink.js";
import { AlertSinkConfigError } from "./alertSinkConfigError.js";
import { redactedSnippet } from "./outputSnippet.js";
import { positiveMs, sinkName } from "./webhookSink.js";

/** Default name of a command sink (its `sink` metric label). */
export const DEFAULT_COMMAND_SINK_NAME = "command";
/** Default time the command may run before it is killed (and the delivery retried). */
export const DEFAULT_COMMAND_TIMEOUT_MS = 10_000;
/**
 * The variables a command inherits from this process when no `env` is given:
 * enough to find programs and format text, none of the executor's secrets.
 */
export const DEFAULT_COMMAND_ENV_PASSTHROUGH: readonly string[] = [
  "PATH",
  "HOME",
  "LANG",
  "LC_ALL",
  "TZ",
  "TMPDIR",
];
/** Bytes of the command's output kept for a failure's snippet (per stream); the rest is drained unread. */
const MAX_OUTPUT_BYTES = 4_096;

/** Options of a {@link CommandSink}. */
export interface CommandSinkOptions {
  /** Name in logs and metrics (default {@link DEFAULT_COMMAND_SINK_NAME}); never the command. */
  readonly name?: string;
  /** The program and its arguments, run without a shell. May hold secrets: never logged. */
  readonly argv: readonly string[];
  /** Default {@link DEFAULT_COMMAND_TIMEOUT_MS}. */
  readonly timeoutMs?: number;
  /**
   * The command's whole environment (besides the `INTENTGATE_ALERT_*`
   * variables); default: {@link DEFAULT_COMMAND_ENV_PASSTHROUGH} copied from this process.
   */
  readonly env?: Readonly<Record<string, string>>;
  /** Working directory (default: this process's). */
  readonly cwd?: string;
}

/**
 * Runs a command per alert (argv, no shell) with the alert's JSON text and a
 * line break on stdin, and `INTENTGATE_ALERT_ID` (the idempotency key),
 * `INTENTGATE_ALERT_KIND` and `INTENTGATE_ALERT_SEVERITY` in its
 * environment. Exit status 0 is `delivered`; anything else (another status,
 * a signal, a command that cannot start, the timeout, after which it is
 * killed with SIGKILL) is `retry`. Its output is only ever quoted as a
 * bounded, redacted snippet in a failure reason.
 */
export class CommandSink implements AlertSink {
  readonly name: string;
  readonly #argv: readonly string[];
  readonly #timeoutMs: number;
  readonly #env: Readonly<Record<string, string>>;
  readonly #cwd: string | undefined;

  /** Throws {@link AlertSinkConfigError}. */
  constructor(opts: CommandSinkOptions) {
    this.name = sinkName(opts.name ?? DEFAULT_COMMAND_SINK_NAME);
    if (opts.argv.length === 0 || opts.argv[0] === "")
      throw new AlertSinkConfigError(this.name, "argv", "needs at least the program to run");
    this.#argv = [...opts.argv];
    this.#timeoutMs = positiveMs(this.name, "timeoutMs", opts.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS);
    this.#env = opts.env ?? inheritedEnv();
    this.#cwd = opts.cwd;
  }

  async deliver(record: AlertRecord, signal?: AbortSignal): Promise<SinkOutcome> {
    if (signal?.aborted) return { status: "retry", reason: "aborted" };
    try {
      return await this.#run(record, signal);
    } catch (err) {
      return { status: "retry", reason: `spawn:${errorCode(err)}` };
    }
  }

  #run(record: AlertRecord, signal: AbortSignal | undefined): Promise<SinkOutcome> {
    const child: ChildProcess = spawn(this.#argv[0]!, this.#argv.slice(1), {
      shell: false,
      stdio: ["pipe", "pipe", "pipe"],
      windowsHide: true,
      ...(this.#cwd === undefined ? {} : { cwd: this.#cwd }),
      env: {
        ...this.#env,
        INTENTGATE_ALERT_ID: record.id,
        INTENTGATE_ALERT_KIND: record.kind,
        INTENTGATE_ALERT_SEVERITY: record.severity,
      },
    });
    const stdout = collect(child.stdout);
    const stderr = collect(child.stderr);
    return new Promise<SinkOutcome>((resolve) => {
      let done = false;
      const finish = (outcome: SinkOutcome): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        resolve(outcome);
      };
      const stop = (reason: string): void => {
        child.kill("SIGKILL");
        // A grandchild may hold the pipes open: do not wait for them.
        child.stdout?.destroy();
        child.stderr?.destroy();
        finish({ status: "retry", reason });
      };
      const timer = setTimeout(() => stop("timeout"), this.#timeoutMs);
      const onAbort = (): void => stop("aborted");
      signal?.addEventListener("abort", onAbort, { once: true });
      child.on("error", (err) => {
        if (child.pid === undefined) finish({ status: "retry", reason: `spawn:${errorCode(err)}` });
      });
      child.on("close", (code, killedBy) => {
        if (code === 0) return finish({ status: "delivered" });
        const what = code === null ? `signal_${killedBy ?? "unknown"}` : `exit_${code}`;
        const output = stderr().length > 0 ? stderr() : stdout();
        const snippet = redactedSnippet(output);
        finish({ status: "retry", reason: snippet === "" ? what : `${what}: ${snippet}` });
      });
      // A command that does not read its stdin closes the pipe (EPIPE): not a failure of its own.
      child.stdin?.on("error", () => undefined);
      child.stdin?.end(`${record.text}\n`);
    });
  }

  toString(): string {
    return `CommandSink(${this.name})`;
  }

  toJSON(): Record<string, unknown> {
    return { sink: "command", name: this.name };
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

/** Keeps the first {@link MAX_OUTPUT_BYTES} of a stream; returns a reader of what was kept. */
function collect(stream: NodeJS.ReadableStream | null): () => Buffer {
  const chunks: Buffer[] = [];
  let size = 0;
  stream?.on("data", (chunk: Buffer) => {
    if (size < MAX_OUTPUT_BYTES) chunks.push(chunk.subarray(0, MAX_OUTPUT_BYTES - size));
    size += chunk.length;
  });
  stream?.on("error", () => undefined);
  return () => Buffer.concat(chunks);
}

function inheritedEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of DEFAULT_COMMAND_ENV_PASSTHROUGH) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}

function errorCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && /^[A-Z0-9_]{1,40}$/.test(code) ? code : "error";
}
