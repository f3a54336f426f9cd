import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { rssMb } from "../lib/latency.js";

/** A signer process started by the bench. */
export interface SignerProcess {
  readonly pid: number;
  readonly what: string;
  /** SIGTERM, then SIGKILL after 10 s. Resolves with the exit code. */
  stop(): Promise<number | null>;
  rssMb(): number | undefined;
}

/**
 * Starts a signer process and waits until it says it is ready on stdout:
 * `cli` runs `bin/intentgate.js signer --config F` (compiled CLI, the node
 * flags of its shebang); `child` runs bench/signer/signerChild.ts with `args`.
 */
export async function spawnSigner(opts: {
  repoRoot: string;
  kind: "cli" | "child";
  configPath: string;
  env: Record<string, string>;
  args?: readonly string[];
}): Promise<SignerProcess> {
  const { repoRoot } = opts;
  const cli = opts.kind === "cli";
  // Extra node flags for the signer (e.g. "--cpu-prof --cpu-prof-dir=/tmp/p"): the CLI then runs
  // under process.execPath with them plus its shebang's own flag, instead of through its shebang.
  const nodeArgs = (process.env.BENCH_SIGNER_CHILD_NODE_ARGS ?? "").split(" ").filter((a) => a !== "");
  const bin = join(repoRoot, "bin", "intentgate.js");
  const file = cli && nodeArgs.length === 0 ? bin : process.execPath;
  const args = cli
    ? [
        ...(nodeArgs.length === 0 ? [] : ["--max-semi-space-size=2", ...nodeArgs, bin]),
        "signer",
        "--config",
        opts.configPath,
      ]
    : [
        "--max-semi-space-size=2",
        ...nodeArgs,
        "--import",
        "tsx",
        join(repoRoot, "bench", "signer", "signerChild.ts"),
        "--config",
        opts.configPath,
        ...(opts.args ?? []),
      ];
  const child: ChildProcess = spawn(file, args, {
    cwd: repoRoot,
    env: { ...process.env, ...opts.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const what = cli ? "bin/intentgate.js signer" : `signerChild ${(opts.args ?? []).join(" ")}`.trim();
  let out = "";
  let err = "";
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => {
      exitCode = code;
      resolve(code);
    }),
  );
  child.stdout?.on("data", (d: Buffer) => {
    out = (out + d.toString("utf8")).slice(-8000);
  });
  child.stderr?.on("data", (d: Buffer) => {
    err = (err + d.toString("utf8")).slice(-8000);
  });
  const readyText = cli ? '"signer ready"' : "ready\n";
  const deadline = Date.now() + 30_000;
  while (!out.includes(readyText)) {
    if (exitCode !== undefined) throw new Error(`${what} exited (${exitCode}) before ready:\n${err}${out}`);
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`${what} not ready within 30 s:\n${err}${out}`);
    }
    await sleep(20);
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${what}: no pid`);
  return {
    pid,
    what,
    rssMb: () => rssMb(pid),
    async stop() {
      if (exitCode === undefined) child.kill("SIGTERM");
      const code = await Promise.race([exited, sleep(10_000).then(() => "timeout" as const)]);
      if (code === "timeout") {
        child.kill("SIGKILL");
        return exited;
      }
      return code;
    },
  };
}
