/**
 * The whole live path as real processes: a remote signer child process
 * (`intentgate signer --config F`, its vault holding canary keys), the venue
 * emulators on 127.0.0.1 (in this process), and executor child processes
 * (`intentgate executor --config F` with `live: true` and `INTENTGATE_LIVE=1`)
 * on a real bus. Every child's stdout/stderr is kept for the secret search,
 * and each runs with `--heapsnapshot-signal=SIGUSR2` so a test can take its
 * heap snapshot.
 *
 * Longer than the ~400-line rule on purpose: one harness for the whole live
 * path (signer, emulators, executors); its parts only make sense together.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BINANCE_ROUTE_ACTIONS } from "../../src/adapters/binance/binanceSigning.js";
import { openBackend } from "../../src/adapters/openBackend.js";
import { POLYMARKET_ROUTE_ACTIONS } from "../../src/adapters/polymarket/planeSigning.js";
import type { PlanResult } from "../../src/core/result.js";
import { type BinanceEmulator, startBinanceEmulator } from "../../src/emulators/binance/binanceEmulator.js";
import {
  type PolymarketEmulator,
  type PolymarketEmulatorOptions,
  startPolymarketEmulator,
} from "../../src/emulators/polymarket/polymarketEmulator.js";
import type { Backend } from "../../src/ports/backend.js";
import { signPlan } from "../../src/sdk/signPlan.js";
import { newApiKey } from "./binanceHarness.js";
import { assertRegisteredError, ROOT } from "./executorHarness.js";
import {
  PM_ACCOUNT,
  PM_ADDRESS,
  PM_CANARY,
  PM_TOKEN,
  polymarketScenario,
  worldEmulatorOptions,
} from "./polymarketWorld.js";
import {
  AUDIT_KEY_ENV,
  freshSecret,
  type PlaneScenario,
  provisionVault,
  signerConfigFor,
} from "./signerPlanes.js";
import { uniquePrefix } from "./uniquePrefix.js";

const CLI = join(ROOT, "src", "apps", "cli", "main.ts");
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export const PRODUCER_KEY = "live-k1";
export const PRODUCER_SOURCE = "live_src";
export const EXIT_KEY = "exit-k1";
export const EXIT_SOURCE = "exit_src";
export const BINANCE_ACCOUNT = "acct-live";
/** An account whose API key the emulator knows with a different secret than the vault's (-1022). */
export const BAD_SIG_ACCOUNT = "acct-badsig";
/** An account whose signed reads use its read-only API key (the executor's `read_api_key_env`). */
export const READ_KEY_ACCOUNT = "acct-readkey";
export const EXECUTOR_CALLER = "executor-1";

/** The signer intents and routes the executor's venue adapters use (both venues). */
export const EXECUTOR_INTENTS: PlaneScenario["intents"] = {
  cex_api_signer: { routes: BINANCE_ROUTE_ACTIONS },
  per_user_clob_signer: { routes: POLYMARKET_ROUTE_ACTIONS.per_user_clob_signer },
  clob_api_signer: { routes: POLYMARKET_ROUTE_ACTIONS.clob_api_signer },
};

/** The secrets this stack holds; the canaries are what must never leave the signer. */
export interface StackSecrets {
  /** Binance HMAC secrets in the vault (canaries). */
  readonly binanceSecret: string;
  readonly badSigVaultSecret: string;
  /** Harness secrets (the executor legitimately holds the producer secret, the API keys and the token). */
  readonly producerSecret: string;
  readonly exitSecret: string;
  readonly signerToken: string;
  readonly auditKey: string;
  readonly vaultPassphrase: string;
  readonly apiKey: string;
  readonly badSigApiKey: string;
  /** The read-key account: its trade and read-only secrets (vault canaries) and API keys. */
  readonly roTradeSecret: string;
  readonly roReadSecret: string;
  readonly roTradeApiKey: string;
  readonly roReadApiKey: string;
}

/** A child process with its collected output. */
export interface Proc {
  readonly child: ChildProcess;
  output(): string;
  readonly exited: Promise<number | null>;
}

export interface LiveStack {
  readonly dir: string;
  readonly prefix: string;
  readonly busUrl: string;
  readonly secrets: StackSecrets;
  readonly emulator: BinanceEmulator;
  readonly polymarket: PolymarketEmulator;
  readonly signer: Proc;
  readonly auditPath: string;
  readonly backend: Backend;
  readonly configPath: string;
  /** Starts one executor child process (`consumer` names it in the group). */
  startExecutor(consumer: string, env?: Record<string, string>): Promise<Proc>;
  /** Starts one `intentgate watch` child process named `name`, with the executor's environment (and config, unless `configPath`). */
  startWatch(name: string, args?: readonly string[], configPath?: string): Promise<Proc>;
  /** Publishes one signed plan for the live Binance account; returns its stream id. */
  publish(over: Record<string, unknown>, opts?: { exit?: boolean }): Promise<string>;
  /** Publishes one signed plan for the live Polymarket account (a LIMIT BUY of 10 shares at 0.5 by default). */
  publishPm(over: Record<string, unknown>, opts?: { exit?: boolean }): Promise<string>;
  /** The key material that must never leave the signer process, as bytes. */
  canaries(): Buffer[];
  /** Every result so far. */
  results(): Promise<PlanResult[]>;
  /** Waits until `pred` holds over the results. */
  waitFor(pred: (rs: PlanResult[]) => boolean, ms?: number): Promise<PlanResult[]>;
  /** Every executor's output so far (also of stopped ones). */
  executorOutput(): string;
  /** Every executor started so far. */
  executors(): readonly Proc[];
  close(): Promise<void>;
}

export interface LiveStackOptions {
  /** Bus URL (a redis URL, or omitted for a SQLite file in the stack's directory). */
  readonly redisUrl?: string;
  /** Executor config overrides (merged at the top level). */
  readonly executor?: Record<string, unknown>;
  /** Binance venue config overrides. */
  readonly binance?: Record<string, unknown>;
  /** Polymarket venue config overrides. */
  readonly polymarket?: Record<string, unknown>;
  /** Polymarket emulator option overrides (e.g. `heartbeatTimeoutMs`). */
  readonly polymarketEmulator?: Partial<PolymarketEmulatorOptions>;
  /** More Binance accounts (`acct-x0`, `acct-x1`, …), each with its own key in the vault, at the emulator and in the config. */
  readonly extraBinanceAccounts?: number;
  /** Signer policy per intent, merged over the stack's (`max_notional` on `cex_api_signer`). */
  readonly signerPolicy?: PlaneScenario["policy"];
}

function track(child: ChildProcess): Proc {
  let out = "";
  child.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  return { child, output: () => out, exited };
}

async function waitOutput(p: Proc, text: string, ms: number): Promise<void> {
  const t0 = Date.now();
  while (!p.output().includes(text)) {
    if (Date.now() - t0 > ms || p.child.exitCode !== null)
      throw new Error(`no ${JSON.stringify(text)} in output:\n${p.output()}`);
    await sleep(20);
  }
}

/** Stops a child with SIGTERM (SIGKILL after 10 s); resolves with its exit code. */
export async function stopProc(p: Proc): Promise<number | null> {
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGTERM");
  const timer = setTimeout(() => p.child.kill("SIGKILL"), 10_000);
  const code = await p.exited;
  clearTimeout(timer);
  return code;
}

/** Starts signer, emulator and the shared bus; executors are started by the test. */
export async function startLiveStack(opts: LiveStackOptions = {}): Promise<LiveStack> {
  const dir = await mkdtemp(join(tmpdir(), "ig-live-"));
  const hex = (n: number) => randomBytes(n).toString("hex");
  const secrets: StackSecrets = {
    binanceSecret: `CANARYbinance${hex(20)}`,
    badSigVaultSecret: `CANARYbadsig${hex(20)}`,
    producerSecret: `producer-${hex(16)}`,
    exitSecret: `exit-${hex(16)}`,
    signerToken: freshSecret(),
    auditKey: freshSecret(),
    vaultPassphrase: `pass-${hex(12)}`,
    apiKey: newApiKey(),
    badSigApiKey: newApiKey(),
    roTradeSecret: `CANARYrotrade${hex(20)}`,
    roReadSecret: `CANARYroread${hex(20)}`,
    roTradeApiKey: newApiKey(),
    roReadApiKey: newApiKey(),
  };
  const pm = polymarketScenario();
  const extra = Array.from({ length: opts.extraBinanceAccounts ?? 0 }, (_, i) => ({
    name: `acct-x${i}`,
    keyId: `x${i}-key`,
    env: `IG_X${i}_API_KEY`,
    apiKey: newApiKey(),
    secret: `CANARYextra${i}${hex(16)}`,
  }));
  const scenario: PlaneScenario = {
    callers: [EXECUTOR_CALLER],
    intents: EXECUTOR_INTENTS,
    accounts: {
      [BINANCE_ACCOUNT]: { cex_api_signer: "binance-key" },
      [BAD_SIG_ACCOUNT]: { cex_api_signer: "badsig-key" },
      // reads signed with the account's read-only key (signing-plane-v1 §3a)
      [READ_KEY_ACCOUNT]: { cex_api_signer: { entry: "ro-trade-key", read_only_entry: "ro-read-key" } },
      ...Object.fromEntries(extra.map((x) => [x.name, { cex_api_signer: x.keyId }])),
      ...pm.accounts,
    },
    // the signer's own hard limit, independent of the executor's; the cancel routes of
    // BINANCE_ROUTE_ACTIONS and POLYMARKET_ROUTE_ACTIONS need a cancel rate, generous here
    // because an account without a read-only key has its replayable reads (reconcile
    // lookups) counted against it too
    policy: {
      ...pm.policy,
      ...opts.signerPolicy,
      cex_api_signer: {
        max_notional: "50000",
        cancel_rate_per_account_per_s: 100,
        ...opts.signerPolicy?.cex_api_signer,
      },
    },
    // The signer's own reference prices (its limit uses them, never the executor's), at the emulator's marks.
    referencePrices: { "binance-usdm": { BTCUSDT: "65000", ETHUSDT: "3000" } },
    keys: [
      { id: "binance-key", kind: "hmac", secret: secrets.binanceSecret, encoding: "raw" },
      { id: "badsig-key", kind: "hmac", secret: secrets.badSigVaultSecret, encoding: "raw" },
      { id: "ro-trade-key", kind: "hmac", secret: secrets.roTradeSecret, encoding: "raw" },
      { id: "ro-read-key", kind: "hmac", secret: secrets.roReadSecret, encoding: "raw" },
      ...extra.map((x) => ({
        id: x.keyId,
        kind: "hmac" as const,
        secret: x.secret,
        encoding: "raw" as const,
      })),
      ...pm.keys,
    ],
  };
  const vaultPath = join(dir, "vault.json");
  const auditPath = join(dir, "audit.jsonl");
  const socket = join(dir, "signer.sock");
  await provisionVault(scenario, vaultPath, secrets.vaultPassphrase);
  const signerConfig = join(dir, "signer.json");
  const sc = signerConfigFor(scenario, { vault: vaultPath, audit: auditPath, socket });
  await writeFile(signerConfig, JSON.stringify({ ...sc, live: true }));
  await mkdir(join(dir, "signer-heap"));
  const signer = track(
    spawn(
      process.execPath,
      [
        "--heapsnapshot-signal=SIGUSR2",
        `--diagnostic-dir=${join(dir, "signer-heap")}`,
        "--import",
        "tsx",
        CLI,
        "signer",
        "--config",
        signerConfig,
      ],
      {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH ?? "",
          HOME: process.env.HOME ?? "",
          IG_CONF_VAULT_PASS: secrets.vaultPassphrase,
          IG_CONF_TOKEN_0: secrets.signerToken,
          [AUDIT_KEY_ENV]: secrets.auditKey,
        },
        stdio: ["ignore", "pipe", "pipe"],
      },
    ),
  );
  await waitOutput(signer, "signer ready", 30_000);

  const emulator = await startBinanceEmulator({
    accounts: [
      { name: BINANCE_ACCOUNT, apiKey: secrets.apiKey, secret: secrets.binanceSecret },
      // the emulator knows this key with another secret than the vault's: every signature it gets is wrong
      { name: BAD_SIG_ACCOUNT, apiKey: secrets.badSigApiKey, secret: `other-${hex(8)}` },
      { name: READ_KEY_ACCOUNT, apiKey: secrets.roTradeApiKey, secret: secrets.roTradeSecret },
      { name: READ_KEY_ACCOUNT, apiKey: secrets.roReadApiKey, secret: secrets.roReadSecret, readOnly: true },
      ...extra.map((x) => ({ name: x.name, apiKey: x.apiKey, secret: x.secret })),
    ],
  });

  // The CLOB refuses L2 timestamps older than 3 s here, so an order not found 5 s after its send is final.
  const polymarket = await startPolymarketEmulator({
    ...worldEmulatorOptions(),
    timestampToleranceS: 3,
    ...opts.polymarketEmulator,
  });

  const prefix = uniquePrefix();
  const busUrl = opts.redisUrl ?? `sqlite:${join(dir, "bus.db")}`;
  const configPath = join(dir, "executor.json");
  const config = {
    bus: busUrl,
    prefix,
    exit_owner: EXIT_SOURCE,
    keys: {
      [PRODUCER_KEY]: { alg: "hmac-sha256", secret_env: "IG_PRODUCER_SECRET", source: PRODUCER_SOURCE },
      [EXIT_KEY]: { alg: "hmac-sha256", secret_env: "IG_EXIT_SECRET", source: EXIT_SOURCE },
    },
    sources: { [PRODUCER_SOURCE]: { lanes: ["main"] }, [EXIT_SOURCE]: { lanes: ["main"] } },
    claim_idle_ms: 1000,
    reconcile_interval_ms: 200,
    venues: {
      paper: { prices: { BTCUSDT: "65000", ETHUSDT: "3000" } },
      "binance-usdm": {
        base_url: emulator.url,
        timeout_ms: 1000,
        accounts: {
          [BINANCE_ACCOUNT]: { api_key_env: "IG_BINANCE_API_KEY" },
          [BAD_SIG_ACCOUNT]: { api_key_env: "IG_BADSIG_API_KEY" },
          [READ_KEY_ACCOUNT]: { api_key_env: "IG_RO_TRADE_API_KEY", read_api_key_env: "IG_RO_READ_API_KEY" },
          ...Object.fromEntries(extra.map((x) => [x.name, { api_key_env: x.env }])),
        },
        ...opts.binance,
      },
      polymarket: {
        base_url: polymarket.url,
        timeout_ms: 1000,
        in_flight_ms: 5000,
        markets: [PM_TOKEN],
        accounts: {
          [PM_ACCOUNT]: {
            api_key_env: "IG_PM_API_KEY",
            passphrase_env: "IG_PM_PASSPHRASE",
            address: PM_ADDRESS,
          },
        },
        ...opts.polymarket,
      },
    },
    signing: {
      plane: "remote",
      socket,
      caller: EXECUTOR_CALLER,
      token_env: "IG_SIGNER_TOKEN",
      timeout_ms: 3000,
    },
    live: true,
    log_level: "info",
    ...opts.executor,
  };
  await writeFile(configPath, JSON.stringify(config, null, 2));
  const backend = await openBackend({ url: busUrl, prefix, create: "file" });
  await backend.initDeployment({ state: "ACTIVE", who: "live stack" });

  const executors: Proc[] = [];
  const watchers: Proc[] = [];
  /** What an executor or watcher process is given: the credentials its config names, by env. */
  const childEnv: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? "",
    INTENTGATE_LIVE: "1",
    IG_PRODUCER_SECRET: secrets.producerSecret,
    IG_EXIT_SECRET: secrets.exitSecret,
    IG_SIGNER_TOKEN: secrets.signerToken,
    IG_BINANCE_API_KEY: secrets.apiKey,
    IG_BADSIG_API_KEY: secrets.badSigApiKey,
    IG_RO_TRADE_API_KEY: secrets.roTradeApiKey,
    IG_RO_READ_API_KEY: secrets.roReadApiKey,
    IG_PM_API_KEY: PM_CANARY.apiKey,
    IG_PM_PASSPHRASE: PM_CANARY.passphrase,
    ...Object.fromEntries(extra.map((x) => [x.env, x.apiKey])),
  };
  let n = 0;
  const stack: LiveStack = {
    dir,
    prefix,
    busUrl,
    secrets,
    emulator,
    polymarket,
    signer,
    auditPath,
    backend,
    configPath,
    async startExecutor(consumer, env = {}) {
      await mkdir(join(dir, `executor-heap-${consumer}`), { recursive: true });
      const p = track(
        spawn(
          process.execPath,
          [
            "--heapsnapshot-signal=SIGUSR2",
            `--diagnostic-dir=${join(dir, `executor-heap-${consumer}`)}`,
            "--import",
            "tsx",
            CLI,
            "executor",
            "--config",
            configPath,
            "--consumer",
            consumer,
          ],
          { cwd: ROOT, env: { ...childEnv, ...env }, stdio: ["ignore", "pipe", "pipe"] },
        ),
      );
      executors.push(p);
      await waitOutput(p, "executor started", 30_000);
      return p;
    },
    async startWatch(name, args = [], watchConfig = configPath) {
      const p = track(
        spawn(
          process.execPath,
          ["--import", "tsx", CLI, "watch", "--config", watchConfig, "--name", name, ...args],
          { cwd: ROOT, env: childEnv, stdio: ["ignore", "pipe", "pipe"] },
        ),
      );
      watchers.push(p);
      await waitOutput(p, "watcher started", 30_000);
      return p;
    },
    async publish(over, o = {}) {
      const plan = {
        v: 1,
        plan_id: `lp-${++n}-${hex(3)}`,
        source: o.exit ? EXIT_SOURCE : PRODUCER_SOURCE,
        venue: "binance-usdm",
        account: BINANCE_ACCOUNT,
        symbol: "BTCUSDT",
        side: "BUY",
        qty: "0.01",
        created_at: Date.now(),
        ...over,
      };
      const signed = signPlan({
        plan,
        key: o.exit
          ? { keyId: EXIT_KEY, alg: "hmac-sha256", secret: secrets.exitSecret }
          : { keyId: PRODUCER_KEY, alg: "hmac-sha256", secret: secrets.producerSecret },
      });
      return backend.publish("main", [
        ["plan", signed.plan],
        ["auth", signed.auth],
      ]);
    },
    async publishPm(over, o = {}) {
      return stack.publish(
        {
          venue: "polymarket",
          account: PM_ACCOUNT,
          symbol: PM_TOKEN,
          type: "LIMIT",
          price: "0.5",
          qty: "10",
          ...over,
        },
        o,
      );
    },
    canaries() {
      return [
        Buffer.from(secrets.binanceSecret, "utf8"),
        Buffer.from(secrets.badSigVaultSecret, "utf8"),
        Buffer.from(PM_CANARY.privateKeyHex, "hex"),
        Buffer.from(PM_CANARY.secret, "base64url"),
        Buffer.from(PM_CANARY.secret, "utf8"),
      ];
    },
    async results() {
      const results = (await backend.readResults("0", 100_000)).map((r) => r.result);
      for (const r of results) assertRegisteredError(r);
      return results;
    },
    async waitFor(pred, ms = 30_000) {
      const t0 = Date.now();
      for (;;) {
        const rs = await stack.results();
        if (pred(rs)) return rs;
        if (Date.now() - t0 > ms)
          throw new Error(
            `timed out waiting for results; have ${JSON.stringify(rs, null, 1).slice(0, 4000)}\nexecutor output:\n${stack.executorOutput().slice(-4000)}`,
          );
        await sleep(50);
      }
    },
    executors() {
      return executors;
    },
    executorOutput() {
      return executors.map((p) => p.output()).join("\n");
    },
    async close() {
      for (const p of [...watchers, ...executors]) await stopProc(p);
      await stopProc(signer);
      await backend.close();
      await emulator.close();
      await polymarket.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return stack;
}

/** Sends SIGUSR2 to a child started with `--heapsnapshot-signal=SIGUSR2` and returns the snapshot's text. */
export async function heapSnapshotOf(p: Proc, diagnosticDir: string): Promise<string> {
  const before = existsSync(diagnosticDir) ? new Set(await readdir(diagnosticDir)) : new Set<string>();
  p.child.kill("SIGUSR2");
  const t0 = Date.now();
  for (;;) {
    if (existsSync(diagnosticDir)) {
      const fresh = (await readdir(diagnosticDir)).filter(
        (f) => f.endsWith(".heapsnapshot") && !before.has(f),
      );
      if (fresh.length > 0) {
        const path = join(diagnosticDir, fresh[0]!);
        // the file is complete once it parses as JSON
        for (;;) {
          const text = await readFile(path, "utf8");
          try {
            JSON.parse(text);
            return text;
          } catch {
            if (Date.now() - t0 > 60_000) throw new Error(`heap snapshot ${path} never completed`);
            await sleep(100);
          }
        }
      }
    }
    if (Date.now() - t0 > 60_000) throw new Error("no heap snapshot written");
    await sleep(100);
  }
}

/**
 * The process's whole writable memory (every `rw` mapping of
 * `/proc/<pid>/mem`): the V8 heap, off-heap buffers, OpenSSL's and libc's
 * allocations, the environment. Stronger than a heap snapshot, which leaves
 * out ArrayBuffer contents.
 */
export async function processMemoryOf(pid: number): Promise<Buffer[]> {
  const maps = await readFile(`/proc/${pid}/maps`, "utf8");
  const { open } = await import("node:fs/promises");
  const fh = await open(`/proc/${pid}/mem`, "r");
  const chunks: Buffer[] = [];
  try {
    for (const line of maps.split("\n")) {
      const m = /^([0-9a-f]+)-([0-9a-f]+) (r[w-])/.exec(line);
      if (m?.[3] !== "rw") continue;
      const start = BigInt(`0x${m[1]}`);
      const end = BigInt(`0x${m[2]}`);
      const len = Number(end - start);
      if (len > 512 * 1024 * 1024) continue;
      const buf = Buffer.alloc(len);
      try {
        const { bytesRead } = await fh.read(buf, 0, len, Number(start));
        chunks.push(buf.subarray(0, bytesRead));
      } catch {
        // unreadable mapping (guard pages): skip
      }
    }
  } finally {
    await fh.close();
  }
  return chunks;
}

/** Every encoding of a secret a leak could take: raw, hex, base64, base64url (with and without padding). */
export function secretForms(secret: string | Buffer): string[] {
  const b = typeof secret === "string" ? Buffer.from(secret, "utf8") : secret;
  const forms = new Set([
    b.toString("latin1"),
    b.toString("hex"),
    b.toString("hex").toUpperCase(),
    b.toString("base64"),
    b.toString("base64").replace(/=+$/, ""),
    b.toString("base64url"),
  ]);
  return [...forms].filter((f) => f.length >= 8);
}

/** The forms of `secret` found in `haystacks`. */
export function findSecret(secret: string | Buffer, haystacks: ReadonlyArray<string | Buffer>): string[] {
  const hits: string[] = [];
  for (const form of secretForms(secret)) {
    const needle = Buffer.from(form, "latin1");
    // UTF-16 too: V8 may store a string two bytes per character
    const wide = Buffer.from(form, "utf16le");
    for (const h of haystacks) {
      const hb = typeof h === "string" ? Buffer.from(h, "utf8") : h;
      if (hb.includes(needle) || hb.includes(wide)) {
        hits.push(form);
        break;
      }
    }
  }
  return hits;
}

/**
 * Sends plans to a live venue until one is placed (at most `tries`): the
 * first orders of a fresh stack may be denied `venue_not_ready` while the
 * signer's workers and the venue's readiness warm up on a loaded machine.
 * Tests that count orders start after it, so warm-up never looks like a fault.
 */
export async function warmUpLive(
  stack: LiveStack,
  venue: "binance-usdm" | "polymarket",
  tries = 10,
): Promise<void> {
  for (let i = 0; i < tries; i++) {
    const id = venue === "polymarket" ? await stack.publishPm({}) : await stack.publish({ qty: "0.01" });
    const rs = await stack.waitFor((x) => x.some((r) => r.stream_id === id && r.decision !== "UNKNOWN"));
    const r = rs.find((x) => x.stream_id === id && x.decision !== "UNKNOWN")!;
    if (r.decision === "EXECUTED" && r.mode === "live") return;
    if (r.error !== `venue_not_ready:${venue}`)
      throw new Error(`warm-up on ${venue}: unexpected result ${JSON.stringify(r)}`);
    await sleep(250);
  }
  throw new Error(`${venue} did not take a live order in ${tries} tries`);
}
