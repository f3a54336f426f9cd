/**
 * `intentgate signer --config F` as a real child process, for tests: writes
 * the config, starts the signer with the given environment, waits for its
 * ready line and stops it with SIGTERM.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "../..");
const CLI = join(ROOT, "src/apps/cli/main.ts");

/** A started signer process. */
export interface SignerProcess {
  readonly child: ChildProcess;
  readonly configPath: string;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code once it exited. */
  readonly exited: Promise<number | null>;
  /** Waits until its output holds `text` (rejects if it exits first or after `ms`). */
  waitFor(text: string, ms?: number): Promise<void>;
  /** SIGTERM (SIGKILL after 10 s); resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Options of {@link spawnSigner}. */
export interface SpawnSignerOptions {
  /** The directory the config file is written to (relative paths in it resolve there). */
  readonly dir: string;
  /** The signer config, written as JSON. */
  readonly config: Record<string, unknown>;
  /** Environment of the child (secrets the config names), besides PATH and HOME. */
  readonly env: Readonly<Record<string, string>>;
  /** The config file's name (default `signer.json`). */
  readonly file?: string;
  /** Extra node flags, before tsx is loaded. */
  readonly nodeArgs?: readonly string[];
  /** Modules to preload after tsx (e.g. `test/support/fixedClock.ts`). */
  readonly preload?: readonly string[];
}

/** Writes the config and starts the signer; does not wait for it to be ready. */
export async function spawnSigner(opts: SpawnSignerOptions): Promise<SignerProcess> {
  const configPath = join(opts.dir, opts.file ?? "signer.json");
  await writeFile(configPath, JSON.stringify(opts.config, null, 2), { mode: 0o600 });
  const child = spawn(
    process.execPath,
    [
      ...(opts.nodeArgs ?? []),
      "--import",
      "tsx",
      ...(opts.preload ?? []).flatMap((m) => ["--import", m]),
      CLI,
      "signer",
      "--config",
      configPath,
    ],
    {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...opts.env },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let out = "";
  child.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  return {
    child,
    configPath,
    output: () => out,
    exited,
    async waitFor(text, ms = 30_000) {
      const t0 = Date.now();
      while (!out.includes(text)) {
        if (Date.now() - t0 > ms || child.exitCode !== null || child.signalCode !== null)
          throw new Error(`no ${JSON.stringify(text)} from the signer; output:\n${out}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** {@link spawnSigner}, then waits for "signer ready". */
export async function startSigner(opts: SpawnSignerOptions): Promise<SignerProcess> {
  const p = await spawnSigner(opts);
  try {
    await p.waitFor("signer ready");
  } catch (err) {
    p.child.kill("SIGKILL");
    throw err;
  }
  return p;
}
