/**
 * Harness for the executor's real-component tests (test/integration/executor*):
 * a temp config file, real executor child processes started through the CLI
 * (`node --import tsx src/apps/cli/main.ts executor --config F --consumer N`),
 * fast publishing of signed plans, result collection and the exactly-once
 * assertions (one result per entry, each plan_id executed once, nothing
 * pending, DLQ empty, paper positions equal to the exact signed sum).
 *
 * Longer than the ~400-line rule on purpose: one harness object (config,
 * processes, publishing, results, exactly-once checks) every executor
 * integration test shares; its parts only make sense together.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { Redis } from "ioredis";
import { openBackend } from "../../src/adapters/openBackend.js";
import { addDecimal, type Decimal, formatDecimal, negDecimal, parseDecimal } from "../../src/core/decimal.js";
import type { Lane } from "../../src/core/plan.js";
import { isRegisteredReason } from "../../src/core/reasons.js";
import type { Backend } from "../../src/ports/backend.js";
import { CONSUMER_GROUP, type ResultEntry } from "../../src/ports/bus.js";
import type { LedgerPosition } from "../../src/ports/ledger.js";

/** A position of the paper venue's book (the harness only plans on paper): venue and mode left out. */
type PaperPosition = Omit<LedgerPosition, "venue" | "mode">;

import { signPlan } from "../../src/sdk/signPlan.js";
import { uniquePrefix } from "./uniquePrefix.js";

const here = dirname(fileURLToPath(import.meta.url));
/** Repository root (the children's working directory). */
export const ROOT = join(here, "..", "..");
/** The CLI entry point the executor children run. */
export const CLI = join(ROOT, "src", "apps", "cli", "main.ts");

/** Producer key ids, sources and the env var holding the shared HMAC secret. */
export const LOAD_KEY_ID = "load-k1";
export const LOAD_SOURCE = "load_src";
export const EXIT_KEY_ID = "exit-k1";
export const EXIT_SOURCE = "exit_src";
export const SECRET_ENV = "IG_TEST_HMAC_SECRET";

/** Paper reference prices of the symbols the generated plans trade. */
export const PRICES: Readonly<Record<string, string>> = {
  BTCUSDT: "65000",
  ETHUSDT: "3000.5",
  SOLUSDT: "150.25",
};
const SYMBOLS = Object.keys(PRICES);
const ACCOUNTS = ["acct-a", "acct-b", "acct-c"];
const QTYS = ["0.001", "1.25", "0.5", "2", "0.000000000000000001", "3.141592653589793238", "0.07", "10"];

export type BusKind = "redis" | "sqlite";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ------------------------------------------------------------------ plans

/** How an entry is signed. */
export type AuthKind = "ok" | "bad_signature" | "malformed_auth";

/** One plan entry to publish. */
export interface PlanSpec {
  readonly planId: string;
  readonly lane: Lane;
  readonly account: string;
  readonly symbol: string;
  readonly side: "BUY" | "SELL";
  readonly qty: string;
  readonly auth: AuthKind;
  /** A LIMIT plan at this price (absent: MARKET). */
  readonly price?: string;
}

/** A published plan entry. */
export interface Published {
  readonly lane: Lane;
  readonly id: string;
  readonly spec: PlanSpec;
}

/**
 * `n` plan entries over a few accounts/symbols, BUY and SELL of varied decimal
 * quantities; every `dupEvery`-th entry repeats the previous entry's plan
 * (same plan_id and content: a producer retry), every `badEvery`-th has a bad
 * signature, every `manualEvery`-th goes to the manual lane.
 */
export function makePlans(
  n: number,
  opts: { tag?: string; dupEvery?: number; badEvery?: number; manualEvery?: number } = {},
): PlanSpec[] {
  const tag = opts.tag ?? randomBytes(3).toString("hex");
  const out: PlanSpec[] = [];
  for (let i = 0; i < n; i++) {
    const prev = out[out.length - 1];
    if (opts.dupEvery !== undefined && i % opts.dupEvery === opts.dupEvery - 1 && prev?.auth === "ok") {
      out.push({ ...prev });
      continue;
    }
    // A cheap deterministic mix so sums are non-trivial and differ per (account, symbol).
    const h = (i * 2654435761) >>> 0;
    out.push({
      planId: `${tag}-${i}`,
      lane: opts.manualEvery !== undefined && i % opts.manualEvery === 1 ? "manual" : "main",
      account: ACCOUNTS[h % ACCOUNTS.length]!,
      symbol: SYMBOLS[(h >>> 4) % SYMBOLS.length]!,
      side: (h >>> 8) % 5 < 3 ? "BUY" : "SELL",
      qty: QTYS[(h >>> 12) % QTYS.length]!,
      auth: opts.badEvery !== undefined && i % opts.badEvery === opts.badEvery - 1 ? "bad_signature" : "ok",
    });
  }
  return out;
}

/** The entry fields (`plan`, `auth`) of a spec, signed with `secret`. */
export function entryFields(spec: PlanSpec, secret: string, now = Date.now()): Array<[string, string]> {
  const plan = {
    v: 1,
    plan_id: spec.planId,
    source: LOAD_SOURCE,
    venue: "paper",
    account: spec.account,
    symbol: spec.symbol,
    side: spec.side,
    qty: spec.qty,
    ...(spec.price === undefined ? {} : { type: "LIMIT", price: spec.price }),
    created_at: now,
  };
  const signed = signPlan({ plan, key: { keyId: LOAD_KEY_ID, alg: "hmac-sha256", secret } });
  let auth = signed.auth;
  if (spec.auth === "bad_signature") {
    const wrong = signPlan({ plan, key: { keyId: LOAD_KEY_ID, alg: "hmac-sha256", secret: `${secret}x` } });
    auth = wrong.auth;
  } else if (spec.auth === "malformed_auth") {
    auth = `hmac-sha256:${LOAD_KEY_ID}`; // no signature part
  }
  return [
    ["plan", signed.plan],
    ["auth", auth],
  ];
}

/** The exact paper positions the executed plans must leave: the signed sum per (account, symbol), each plan_id once. */
export function expectedPositions(specs: readonly PlanSpec[]): PaperPosition[] {
  const seen = new Set<string>();
  const sums = new Map<string, { account: string; symbol: string; qty: Decimal }>();
  for (const s of specs) {
    if (s.auth !== "ok" || seen.has(s.planId)) continue;
    seen.add(s.planId);
    const q = parseDecimal(s.qty);
    if (q === undefined) throw new Error(`bad qty ${s.qty}`);
    const key = JSON.stringify([s.account, s.symbol]);
    const cur = sums.get(key) ?? { account: s.account, symbol: s.symbol, qty: 0n as Decimal };
    cur.qty = addDecimal(cur.qty, s.side === "BUY" ? q : negDecimal(q));
    sums.set(key, cur);
  }
  return sortPositions(
    [...sums.values()]
      .filter((p) => p.qty !== 0n)
      .map((p) => ({ account: p.account, symbol: p.symbol, qty: formatDecimal(p.qty) })),
  );
}

export function sortPositions(ps: readonly PaperPosition[]): PaperPosition[] {
  return [...ps]
    .map((p) => ({ account: p.account, symbol: p.symbol, qty: p.qty }))
    .sort((a, b) => {
      const ka = `${a.account}\0${a.symbol}`;
      const kb = `${b.account}\0${b.symbol}`;
      return ka < kb ? -1 : ka > kb ? 1 : 0;
    });
}

// ------------------------------------------------------------------ executor processes

/** One JSON log line of an executor (pino). */
export type LogLine = Record<string, unknown> & { msg?: string; level?: number };

interface Waiter {
  readonly match: (line: LogLine) => boolean;
  readonly resolve: (line: LogLine) => void;
}

/** A running (or exited) executor child process. */
export class ExecutorProcess {
  readonly child: ChildProcess;
  readonly consumer: string;
  stdout = "";
  stderr = "";
  /** Parsed JSON lines from stdout, in order. */
  readonly logs: LogLine[] = [];
  /** Resolves once the process exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exitStatus: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  #partial = "";
  #waiters: Waiter[] = [];

  constructor(child: ChildProcess, consumer: string) {
    this.child = child;
    this.consumer = consumer;
    child.stdout?.on("data", (d: Buffer) => this.#onStdout(d.toString("utf8")));
    child.stderr?.on("data", (d: Buffer) => {
      this.stderr += d.toString("utf8");
    });
    this.exited = new Promise((resolve) => {
      child.on("close", (code, signal) => {
        if (this.#partial !== "") this.#onStdout("\n");
        this.exitStatus = { code, signal };
        resolve(this.exitStatus);
      });
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get alive(): boolean {
    return this.exitStatus === undefined;
  }

  #onStdout(text: string): void {
    this.stdout += text;
    const parts = (this.#partial + text).split("\n");
    this.#partial = parts.pop() ?? "";
    for (const raw of parts) {
      if (raw.trim() === "") continue;
      let line: LogLine;
      try {
        line = JSON.parse(raw) as LogLine;
      } catch {
        line = { msg: raw, nonJson: true };
      }
      this.logs.push(line);
      this.#waiters = this.#waiters.filter((w) => {
        if (!w.match(line)) return true;
        w.resolve(line);
        return false;
      });
    }
  }

  /** Waits for a log line matching `match` (already seen or to come). */
  async waitForLog(match: (line: LogLine) => boolean, what: string, timeoutMs = 20_000): Promise<LogLine> {
    const found = this.logs.find(match);
    if (found) return found;
    let timer: NodeJS.Timeout | undefined;
    let waiter: Waiter | undefined;
    try {
      return await Promise.race([
        new Promise<LogLine>((resolve) => {
          waiter = { match, resolve };
          this.#waiters.push(waiter);
        }),
        this.exited.then(() => {
          throw new Error(`${this.consumer} exited before logging ${what}\n${this.describe()}`);
        }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(new Error(`${this.consumer}: no ${what} within ${timeoutMs} ms\n${this.describe()}`)),
            timeoutMs,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
      this.#waiters = this.#waiters.filter((w) => w !== waiter);
    }
  }

  /** Waits for the `executor started` line; returns it (it carries `metrics_port`). */
  ready(timeoutMs = 20_000): Promise<LogLine> {
    return this.waitForLog((l) => l.msg === "executor started", "'executor started'", timeoutMs);
  }

  /** Log lines with this message. */
  logsWith(msg: string): LogLine[] {
    return this.logs.filter((l) => l.msg === msg);
  }

  kill(signal: NodeJS.Signals): void {
    if (this.alive) this.child.kill(signal);
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit status. */
  async stop(graceMs = 10_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (!this.alive) return this.exitStatus!;
    this.kill("SIGTERM");
    const timer = setTimeout(() => this.kill("SIGKILL"), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Exit status and the tails of stderr and stdout, for failure messages. */
  describe(lines = 15): string {
    const tail = (s: string) => s.trimEnd().split("\n").slice(-lines).join("\n");
    const status = this.exitStatus
      ? `exited code=${this.exitStatus.code} signal=${this.exitStatus.signal}`
      : "running";
    return `--- ${this.consumer} (pid ${this.pid}, ${status})\nstderr:\n${tail(this.stderr)}\nstdout (last ${lines} lines):\n${tail(this.stdout)}`;
  }
}

// ------------------------------------------------------------------ the harness

export interface HarnessOptions {
  readonly bus: BusKind;
  /** `inject("redisUrl")` for the Redis bus. */
  readonly redisUrl?: string;
  /** The HMAC secret of the producer keys (default: random). */
  readonly secret?: string;
}

/** Everything one test needs: temp dir, unique prefix, config files, children, a backend for the test's side. */
export class ExecutorHarness {
  readonly bus: BusKind;
  readonly dir: string;
  readonly prefix: string;
  readonly busUrl: string;
  readonly secret: string;
  readonly backend: Backend;
  /** Raw connection for XPENDING/XINFO (Redis bus only). */
  readonly redis: Redis | undefined;
  /** Read-only connection to the bus file (SQLite bus only). */
  readonly sqlite: Database.Database | undefined;
  readonly procs: ExecutorProcess[] = [];
  readonly results: ResultCollector;

  private constructor(init: {
    bus: BusKind;
    dir: string;
    prefix: string;
    busUrl: string;
    secret: string;
    backend: Backend;
    redis: Redis | undefined;
    sqlite: Database.Database | undefined;
  }) {
    this.bus = init.bus;
    this.dir = init.dir;
    this.prefix = init.prefix;
    this.busUrl = init.busUrl;
    this.secret = init.secret;
    this.backend = init.backend;
    this.redis = init.redis;
    this.sqlite = init.sqlite;
    this.results = new ResultCollector(init.backend);
  }

  static async create(opts: HarnessOptions): Promise<ExecutorHarness> {
    const dir = mkdtempSync(join(tmpdir(), "ig-exec-"));
    const prefix = uniquePrefix("igexec");
    let busUrl: string;
    if (opts.bus === "redis") {
      if (opts.redisUrl === undefined) throw new Error("redis harness needs redisUrl");
      busUrl = opts.redisUrl;
    } else {
      busUrl = `sqlite:${join(dir, "bus.db")}`;
    }
    const backend = await openBackend({ url: busUrl, prefix, create: "file" });
    await backend.initDeployment({ state: "ACTIVE", who: "test harness" });
    const redis =
      opts.bus === "redis" ? new Redis(busUrl, { lazyConnect: false, maxRetriesPerRequest: 3 }) : undefined;
    redis?.on("error", () => {
      // reconnects by itself (tests may restart the server); commands carry their own failures
    });
    const sqlite =
      opts.bus === "sqlite"
        ? new Database(join(dir, "bus.db"), { readonly: true, fileMustExist: true })
        : undefined;
    sqlite?.pragma("busy_timeout = 5000");
    return new ExecutorHarness({
      bus: opts.bus,
      dir,
      prefix,
      busUrl,
      secret: opts.secret ?? `s3cret-${randomBytes(24).toString("base64url")}`,
      backend,
      redis,
      sqlite,
    });
  }

  /** Env for the children: the secret under {@link SECRET_ENV}, nothing else added. */
  childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env, [SECRET_ENV]: this.secret, ...extra };
    delete env.INTENTGATE_EXIT_OWNER;
    return env;
  }

  /** The config object (wire-v1 §8) with `overrides` merged on top (shallow, `limits` one level deep). */
  config(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    const base: Record<string, unknown> = {
      bus: this.busUrl,
      prefix: this.prefix,
      exit_owner: EXIT_SOURCE,
      require_auth: true,
      keys: {
        [LOAD_KEY_ID]: { alg: "hmac-sha256", secret_env: SECRET_ENV, source: LOAD_SOURCE },
        [EXIT_KEY_ID]: { alg: "hmac-sha256", secret_env: SECRET_ENV, source: EXIT_SOURCE },
      },
      sources: {
        [LOAD_SOURCE]: { lanes: ["main", "manual"] },
        [EXIT_SOURCE]: { lanes: ["main"] },
      },
      limits: { max_qty: { BTCUSDT: "1000" } },
      claim_idle_ms: 2000,
      max_deliveries: 10,
      batch_size: 100,
      venues: { paper: { prices: { ...PRICES } } },
      log_level: "info",
    };
    const limits = { ...(base.limits as object), ...((overrides.limits as object | undefined) ?? {}) };
    return { ...base, ...overrides, limits };
  }

  /** Writes a config file (JSON) and returns its path. */
  writeConfig(overrides: Record<string, unknown> = {}, file = "config.json"): string {
    const path = join(this.dir, file);
    writeFileSync(path, `${JSON.stringify(this.config(overrides), null, 2)}\n`);
    return path;
  }

  /** Writes raw text to a file in the temp dir; returns its path. */
  writeFile(file: string, text: string): string {
    const path = join(this.dir, file);
    writeFileSync(path, text);
    return path;
  }

  /** Spawns `intentgate executor --config <config> --consumer <consumer> [args…]` (not waiting for it). */
  spawn(
    consumer: string,
    opts: { config: string; args?: readonly string[]; env?: NodeJS.ProcessEnv },
  ): ExecutorProcess {
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        CLI,
        "executor",
        "--config",
        opts.config,
        "--consumer",
        consumer,
        ...(opts.args ?? []),
      ],
      { cwd: ROOT, env: opts.env ?? this.childEnv(), stdio: ["ignore", "pipe", "pipe"] },
    );
    const proc = new ExecutorProcess(child, consumer);
    this.procs.push(proc);
    return proc;
  }

  /** Spawns executors and waits until each logged `executor started`. */
  async start(
    consumers: readonly string[],
    opts: { config: string; args?: readonly string[]; env?: NodeJS.ProcessEnv },
  ): Promise<ExecutorProcess[]> {
    const procs = consumers.map((c) => this.spawn(c, opts));
    await Promise.all(procs.map((p) => p.ready()));
    return procs;
  }

  /**
   * Publishes the specs' entries, `burst` at a time concurrently (pipelined on
   * one connection), sleeping `pauseMs` between bursts. Returns them in order.
   */
  async publish(
    specs: readonly PlanSpec[],
    opts: { burst?: number; pauseMs?: number; fields?: (spec: PlanSpec) => Array<[string, string]> } = {},
  ): Promise<Published[]> {
    const burst = opts.burst ?? 500;
    const fieldsOf = opts.fields ?? ((s: PlanSpec) => entryFields(s, this.secret));
    const out: Published[] = [];
    for (let i = 0; i < specs.length; i += burst) {
      const chunk = specs.slice(i, i + burst);
      const ids = await Promise.all(chunk.map((s) => this.backend.publish(s.lane, fieldsOf(s))));
      chunk.forEach((spec, j) => {
        out.push({ lane: spec.lane, id: ids[j]!, spec });
      });
      if (opts.pauseMs !== undefined && i + burst < specs.length) await sleep(opts.pauseMs);
    }
    return out;
  }

  /**
   * Waits until the result stream holds at least `count` results; fails with
   * the counts, pending entries and the children's output tails on timeout or
   * when no executor is left alive.
   */
  async waitForResults(count: number, timeoutMs = 60_000): Promise<ResultEntry[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const all = await this.results.poll();
      if (all.length >= count) return all;
      const noneAlive = this.procs.length > 0 && this.procs.every((p) => !p.alive);
      if (Date.now() > deadline || noneAlive) {
        const why = noneAlive ? "every executor exited" : `timed out after ${timeoutMs} ms`;
        throw new Error(
          `waiting for ${count} results: ${why} with ${all.length}; pending=${await this.backend.pendingCount()} ` +
            `dlq=${await this.backend.dlqLength()}\n${this.describeProcs()}`,
        );
      }
      await sleep(50);
    }
  }

  /** Waits for the result of one entry (by lane and stream id). */
  async waitForResult(lane: Lane, id: string, timeoutMs = 20_000): Promise<ResultEntry> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = (await this.results.poll()).find(
        (r) => r.result.lane === lane && r.result.stream_id === id,
      );
      if (found) return found;
      if (Date.now() > deadline || (this.procs.length > 0 && this.procs.every((p) => !p.alive)))
        throw new Error(`no result for ${lane}/${id} within ${timeoutMs} ms\n${this.describeProcs()}`);
      await sleep(20);
    }
  }

  /** Publishes one plan entry and waits for its result. */
  async decide(spec: PlanSpec, fields?: Array<[string, string]>): Promise<ResultEntry> {
    const id = await this.backend.publish(spec.lane, fields ?? entryFields(spec, this.secret));
    return this.waitForResult(spec.lane, id);
  }

  /** Entries pending for one consumer (both lanes). */
  async pendingFor(consumer: string): Promise<number> {
    if (this.redis) {
      let n = 0;
      for (const lane of ["main", "manual"] as const) {
        const rows = (await this.redis.call(
          "XPENDING",
          this.streamKey(lane),
          CONSUMER_GROUP,
          "-",
          "+",
          1_000_000,
          consumer,
        )) as unknown[];
        n += rows.length;
      }
      return n;
    }
    const row = this.sqlite!.prepare(
      "SELECT COUNT(*) AS n FROM ig_pending WHERE prefix = ? AND consumer = ?",
    ).get(this.prefix, consumer) as { n: number };
    return row.n;
  }

  /** Every pending entry with its holder and delivery count (both lanes). */
  async pendingEntries(): Promise<Array<{ lane: Lane; id: string; consumer: string; deliveries: number }>> {
    const out: Array<{ lane: Lane; id: string; consumer: string; deliveries: number }> = [];
    if (this.redis) {
      for (const lane of ["main", "manual"] as const) {
        const rows = (await this.redis.call(
          "XPENDING",
          this.streamKey(lane),
          CONSUMER_GROUP,
          "-",
          "+",
          1_000_000,
        )) as Array<[string, string, number, number]>;
        for (const [id, consumer, , deliveries] of rows)
          out.push({ lane, id, consumer, deliveries: Number(deliveries) });
      }
      return out;
    }
    const rows = this.sqlite!.prepare(
      "SELECT lane, ms, seq, consumer, deliveries FROM ig_pending WHERE prefix = ?",
    ).all(this.prefix) as Array<{
      lane: Lane;
      ms: number;
      seq: number;
      consumer: string;
      deliveries: number;
    }>;
    for (const r of rows)
      out.push({ lane: r.lane, id: `${r.ms}-${r.seq}`, consumer: r.consumer, deliveries: r.deliveries });
    return out;
  }

  /** The Redis key of a plan stream. */
  streamKey(lane: Lane): string {
    return lane === "main" ? `${this.prefix}stream:apply.plan` : `${this.prefix}stream:apply.plan.manual`;
  }

  /** Every child's status and output tails. */
  describeProcs(): string {
    return this.procs.map((p) => p.describe()).join("\n");
  }

  /** Stops every child still running (SIGKILL), closes connections, removes the temp dir. */
  async close(): Promise<void> {
    for (const p of this.procs) p.kill("SIGKILL");
    await Promise.all(this.procs.map((p) => p.exited));
    await this.backend.close();
    this.redis?.disconnect();
    this.sqlite?.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Reads the result stream incrementally (`readResults` paging), keeping everything read. */
export class ResultCollector {
  readonly all: ResultEntry[] = [];
  #cursor = "0";

  constructor(private readonly backend: Backend) {}

  /** Reads every result appended since the last poll; returns all read so far. */
  async poll(): Promise<ResultEntry[]> {
    for (;;) {
      const page = await this.backend.readResults(this.#cursor, 1000, 0);
      if (page.length === 0) return this.all;
      for (const r of page) assertRegisteredError(r.result);
      this.all.push(...page);
      this.#cursor = page[page.length - 1]!.id;
    }
  }
}

// ------------------------------------------------------------------ assertions

/** Every result a real executor writes carries a registered reason (wire §6) or none. */
export function assertRegisteredError(result: { readonly error: string | null }): void {
  if (result.error !== null && !isRegisteredReason(result.error))
    throw new Error(`unregistered reason in a result: ${JSON.stringify(result)}`);
}

/** What {@link checkExactlyOnce} found, for the test's log line. */
export interface ExactlyOnceSummary {
  readonly entries: number;
  readonly executed: number;
  readonly denied: number;
  readonly decisions: Record<string, number>;
}

/**
 * The exactly-once checks, throwing with a precise message on the first
 * violation: one result per published entry and none for anything else,
 * each authentic plan_id EXECUTED exactly once (its other entries
 * `duplicate_plan_id`), badly signed entries DENIED unauthenticated, no
 * `delivery_limit`, nothing pending, DLQ empty, positions exact.
 */
export async function checkExactlyOnce(
  h: ExecutorHarness,
  published: readonly Published[],
  results: readonly ResultEntry[],
): Promise<ExactlyOnceSummary> {
  const fail = (msg: string): never => {
    throw new Error(`exactly-once violated: ${msg}`);
  };
  const byEntry = new Map<string, Published>();
  for (const p of published) byEntry.set(`${p.lane}/${p.id}`, p);
  if (byEntry.size !== published.length) fail("publish returned a repeated stream id");

  const seen = new Map<string, ResultEntry>();
  const executedByPlan = new Map<string, number>();
  const decisions: Record<string, number> = {};
  for (const r of results) {
    const key = `${r.result.lane}/${r.result.stream_id}`;
    const prev = seen.get(key);
    if (prev)
      fail(`two results for entry ${key}: ${JSON.stringify(prev.result)} and ${JSON.stringify(r.result)}`);
    seen.set(key, r);
    const pub = byEntry.get(key);
    if (!pub) fail(`result for an entry never published: ${JSON.stringify(r.result)}`);
    const spec = pub!.spec;
    const res = r.result;
    const label = `${res.decision}/${res.error ?? "none"}`;
    decisions[label] = (decisions[label] ?? 0) + 1;
    if (res.error === "internal_error:delivery_limit") fail(`delivery_limit result for ${key}`);
    if (res.plan_id !== spec.planId) fail(`${key}: plan_id ${res.plan_id}, published ${spec.planId}`);
    if (spec.auth !== "ok") {
      if (res.decision !== "DENIED" || !res.error?.startsWith("unauthenticated:") || res.authenticated)
        fail(`${key} (${spec.auth}) got ${label}, authenticated=${res.authenticated}`);
      continue;
    }
    if (res.decision === "EXECUTED") {
      executedByPlan.set(spec.planId, (executedByPlan.get(spec.planId) ?? 0) + 1);
      if (!res.executed || res.fill_qty === null || parseDecimal(res.fill_qty) !== parseDecimal(spec.qty))
        fail(`${key}: executed with fill_qty ${res.fill_qty}, plan qty ${spec.qty}`);
      if (res.side !== spec.side || res.symbol !== spec.symbol)
        fail(`${key}: side/symbol differ from the plan`);
    } else if (res.error !== "duplicate_plan_id") {
      fail(`${key}: authentic plan ${spec.planId} got ${label}`);
    }
  }
  if (seen.size !== published.length) {
    const missing = [...byEntry.keys()].filter((k) => !seen.has(k));
    fail(
      `${published.length} entries published, ${seen.size} answered; missing e.g. ${missing.slice(0, 5).join(", ")}`,
    );
  }
  const planIds = new Set(published.filter((p) => p.spec.auth === "ok").map((p) => p.spec.planId));
  for (const id of planIds) {
    const n = executedByPlan.get(id) ?? 0;
    if (n !== 1) fail(`plan_id ${id} EXECUTED ${n} times`);
  }
  const pending = await h.backend.pendingCount();
  if (pending !== 0)
    fail(`${pending} entries still pending: ${JSON.stringify((await h.pendingEntries()).slice(0, 5))}`);
  const dlq = await h.backend.dlqLength();
  if (dlq !== 0) fail(`DLQ holds ${dlq} entries`);
  const actual = sortPositions(await h.backend.positions());
  const expected = expectedPositions(published.map((p) => p.spec));
  if (JSON.stringify(actual) !== JSON.stringify(expected))
    fail(`positions differ:\nexpected ${JSON.stringify(expected)}\nactual   ${JSON.stringify(actual)}`);
  return {
    entries: published.length,
    executed: planIds.size,
    denied: results.filter((r) => r.result.decision === "DENIED").length,
    decisions,
  };
}
