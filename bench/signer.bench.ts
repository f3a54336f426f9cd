/**
 * `npm run bench:signer`: the signing planes (signing-plane-v1) per payload
 * kind, against ethers' in-process EIP-712 signing and raw PKCS#11 C_Sign on
 * SoftHSM2. Prints a table and the verdicts, then ONE JSON line last:
 *   {"remote_eip712_per_s","ethers_inproc_per_s","ratio","remote_hmac_p50_us","pkcs11_over_raw"}
 *
 * Per configuration: `warm-up` requests (not measured), then BENCH_SIGNER_N
 * one at a time (p50 / p99 latency, µs), then BENCH_SIGNER_CONC_N with
 * BENCH_SIGNER_K in flight (throughput). Every answer must be a grant. The
 * warm-up is long (2000) on purpose: a signer is a long-running process, and
 * V8 needs a few thousand requests to compile its hot paths; the first
 * thousand run several times slower.
 *
 * Planes: local (in this process), remote (a real signer child process,
 * `bin/intentgate.js signer --config F`, through createRemotePlane over its
 * Unix socket), pkcs11 (in this process, keys in a SoftHSM2 token) when
 * SoftHSM2 is installed. Each request appends one audit line, written before
 * the answer; the `audit` column is the log's sync policy (auditLog.ts):
 * `group` (the default, as shipped: fdatasync in the background, coalesced),
 * `line` (fdatasync before each answer; remote via bench/signer/signerChild.ts,
 * the CLI's pipeline with that one knob) and `never` (no fdatasync: what the
 * sync costs); the `stub` row (a signer process that answers at once) is the
 * transport's floor.
 *
 * Environment (all optional):
 *   BENCH_SIGNER_N        sequential requests per configuration (default 2000)
 *   BENCH_SIGNER_CONC_N   requests of the concurrent phase (default 4000)
 *   BENCH_SIGNER_K        requests in flight in the concurrent phase (default 32)
 *   BENCH_SIGNER_WARMUP   warm-up requests per configuration (default 2000)
 *   BENCH_SIGNER_CHILD_NODE_ARGS  extra node flags for the signer processes (e.g. --cpu-prof)
 *   BENCH_SIGNER_PHASES   comma list of handler,local,remote,ethers,pkcs11 (default all)
 */
import { createHmac } from "node:crypto";
import { mkdtemp, open, readFile, rm } from "node:fs/promises";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { SecretBytes } from "../src/core/auth/secretBytes.js";
import type { PayloadKind, SigningPlane, SignOutcome, SignRequest } from "../src/ports/signingPlane.js";
import { openAuditLog } from "../src/signer/audit/auditLog.js";
import type { RevealedKey } from "../src/signer/keyStore.js";
import { createLocalPlane } from "../src/signer/localPlane.js";
import type { PayloadKindHandler } from "../src/signer/payloadKind.js";
import { polymarketOrderHandler } from "../src/signer/payloads/polymarketOrder.js";
import { defaultPayloadHandlers } from "../src/signer/payloads/registry.js";
import { createPkcs11Plane } from "../src/signer/pkcs11/pkcs11Plane.js";
import { createRemotePlane } from "../src/signer/remote/remotePlaneClient.js";
import { loadSignerConfig } from "../src/signer/signerConfig.js";
import { Vault } from "../src/signer/vault/vault.js";
import { ethersOrderSigner, recoverOrderSigner } from "./signer/ethersInproc.js";
import {
  type BenchWorld,
  CALLER,
  KINDS,
  makeRequest,
  provision,
  writeSignerConfig,
} from "./signer/fixtures.js";
import {
  type Measured,
  type MeasureOptions,
  measure,
  planeOp,
  requestsNeeded,
  stats,
} from "./signer/measure.js";
import {
  measureRawCSign,
  type RawCSign,
  type SoftHsm,
  setupSoftHsm,
  softHsmMissing,
  TOKEN_LABELS,
  tokenReadyOrderHandler,
} from "./signer/pkcs11.js";
import { fmtInt, fmtUs, procCpuMs, type Row, round, rowsTable, table } from "./signer/report.js";
import { type SignerProcess, spawnSigner } from "./signer/spawnSigner.js";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const OPTS: MeasureOptions = {
  warmup: intEnv("BENCH_SIGNER_WARMUP", 2000),
  seqN: intEnv("BENCH_SIGNER_N", 2000),
  concN: intEnv("BENCH_SIGNER_CONC_N", 4000),
  concurrency: intEnv("BENCH_SIGNER_K", 32),
};
const NEEDED = requestsNeeded(OPTS);
const PHASES = new Set(
  (process.env.BENCH_SIGNER_PHASES ?? "handler,local,remote,ethers,pkcs11").split(",").map((s) => s.trim()),
);

const log = (msg: string) => process.stderr.write(`[bench:signer] ${msg}\n`);

function intEnv(name: string, dflt: number): number {
  const v = process.env[name];
  if (v === undefined || v === "") return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer`);
  return n;
}

type Granted = Extract<SignOutcome, { granted: true }>;

/** What every plane must answer for request 0 of each kind (HMACs computed here, EIP-712 by ethers). */
interface Expected {
  readonly hmacQuery: (r: SignRequest) => string;
  readonly hmacL2: (r: SignRequest) => string;
  readonly eip712: string;
  /** The address an EIP-712 signature of request 0's order recovers to (a token's ECDSA is randomised). */
  readonly eip712Signer: (signature: string) => string;
  readonly evmAddress: string;
}

async function main(): Promise<void> {
  const workDir = await mkdtemp(join(tmpdir(), "ig-signer-bench-"));
  const rows: Row[] = [];
  const notes: string[] = [];
  let hsm: SoftHsm | undefined;
  const children: SignerProcess[] = [];
  let fsyncFloor: ReturnType<typeof stats> | undefined;
  let auditLineBytes: number | undefined;
  let ethers: Measured | undefined;
  const raw: { ecdsa?: RawCSign; hmac?: RawCSign } = {};
  let pkcs11Reason: string | undefined;
  let remoteEip712Where = "bin/intentgate.js signer";
  try {
    log(
      `warm-up ${OPTS.warmup}, sequential ${OPTS.seqN}, concurrent ${OPTS.concN} with K=${OPTS.concurrency} in flight; ${machineLoad()}`,
    );
    const world = await provision(workDir);
    log(`vault ${world.vaultPath} (scrypt N=2^10): 1 hmac + 1 secp256k1 entry; signer ${world.evmAddress}`);

    const ethersSign = ethersOrderSigner(world);
    const expected: Expected = {
      hmacQuery: (r) =>
        createHmac("sha256", world.hmacSecret)
          .update((r.payload as { query: string }).query)
          .digest("hex"),
      hmacL2: (r) => {
        const p = r.payload as { timestamp: string; method: string; path: string; body: string };
        return createHmac("sha256", Buffer.from(world.hmacSecret.toString("utf8"), "base64"))
          .update(p.timestamp + p.method + p.path + p.body)
          .digest("base64")
          .replaceAll("+", "-")
          .replaceAll("/", "_");
      },
      eip712: await ethersSign(0),
      eip712Signer: (signature) => recoverOrderSigner(world, 0, signature),
      evmAddress: world.evmAddress,
    };
    const requestsOf = (tag: string, kind: PayloadKind) =>
      Array.from({ length: NEEDED }, (_, i) => makeRequest(world, kind, tag, i));

    // -- 0. the floor under every audited grant: one ~audit-line append + fdatasync, same file system
    fsyncFloor = await measureFsync(join(workDir, "fsync-probe.jsonl"), OPTS.seqN);
    log(`fdatasync floor: p50 ${fmtUs(fsyncFloor.p50Us)} µs, p99 ${fmtUs(fsyncFloor.p99Us)} µs`);

    // -- 1. handler only: bind + sign with the key already decrypted (no plane, no audit, no transport)
    if (PHASES.has("handler")) {
      const vault = await Vault.open(world.vaultPath, world.passphrase);
      const hmacKey = await vault.reveal("bench-hmac");
      const evmKey = await vault.reveal("bench-evm");
      const handlers = localHandlers();
      for (const kind of KINDS) {
        const handler = handlers.get(kind);
        if (handler === undefined) continue;
        const reqs = requestsOf("h", kind);
        const key: RevealedKey = kind === "eip712-order" ? evmKey : hmacKey;
        const m = await measure(OPTS, async (i) => {
          const r = reqs[i]!;
          const bound = handler.bind(r.payload, r.target!);
          if (!bound.ok) throw new Error(`bind failed: ${bound.field}`);
          await handler.sign(r.payload, key);
        });
        rows.push({ plane: "handler only (bind+sign)", kind, audit: "-", m });
        log(`handler ${kind}: p50 ${fmtUs(m.p50Us)} µs`);
      }
      vault.close();
    }

    // -- 2. local plane, audit as shipped (group commit) and without fdatasync
    for (const sync of PHASES.has("local") ? (["group", "never"] as const) : []) {
      const auditPath = join(workDir, `audit-local-${sync}.jsonl`);
      const config = await loadSignerConfig(
        await writeSignerConfig(world, { name: `local-${sync}`, auditPath }),
      );
      const vault = await Vault.open(world.vaultPath, world.passphrase);
      const plane = createLocalPlane({
        config,
        keyStore: vault,
        handlers: localHandlers(),
        audit: await openAuditLog(auditPath, { sync, key: world.auditKey }),
      });
      try {
        await checkPlane(plane, world, `local-${sync}`, expected);
        for (const kind of KINDS) {
          const m = await measure(OPTS, planeOp(plane, CALLER, requestsOf(`l${sync[0]}`, kind)));
          rows.push({ plane: "local", kind, audit: sync, m });
          log(`local ${sync} ${kind}: p50 ${fmtUs(m.p50Us)} µs, ${Math.round(m.concPerS)}/s`);
        }
      } finally {
        await plane.close();
        vault.close();
      }
      if (sync === "group") auditLineBytes = await bytesPerLine(auditPath);
    }

    // -- 3. remote: the real signer process (CLI), audit as shipped (the config's default: group)
    const remoteRun = async (opts: {
      label: string;
      kinds: readonly PayloadKind[];
      spawnKind: "cli" | "child";
      args?: readonly string[];
      audit: string;
      note?: string;
    }): Promise<PayloadKind[]> => {
      const name = opts.label.replace(/[^a-z0-9]+/gi, "-");
      const socketPath = join(workDir, `${name}.sock`);
      const configPath = await writeSignerConfig(world, {
        name,
        auditPath: join(workDir, `audit-${name}.jsonl`),
        socketPath,
      });
      const child = await spawnSigner({
        repoRoot,
        kind: opts.spawnKind,
        configPath,
        env: world.env,
        ...(opts.args === undefined ? {} : { args: opts.args }),
      });
      children.push(child);
      const plane = createRemotePlane({
        socketPath,
        caller: CALLER,
        token: new SecretBytes(world.token),
        timeoutMs: 10_000,
      });
      const missing: PayloadKind[] = [];
      try {
        for (const kind of opts.kinds) {
          const reqs = requestsOf(`r${name}`, kind);
          const probeRequest = makeRequest(world, kind, `probe-${name}`, 0);
          const probe = await plane.sign(CALLER, probeRequest);
          if (!probe.granted) {
            if (probe.reason === "intent_not_enabled") {
              missing.push(kind);
              continue;
            }
            throw new Error(`${opts.label} ${kind}: probe denied ${probe.reason}`);
          }
          if (!opts.args?.includes("stub")) checkOutcome(probe, kind, probeRequest, expected);
          const cpu0 = procCpuMs(child.pid);
          const m = await measure(OPTS, planeOp(plane, CALLER, reqs));
          const cpu1 = procCpuMs(child.pid);
          const cpuUs =
            cpu0 === undefined || cpu1 === undefined ? undefined : ((cpu1 - cpu0) * 1000) / NEEDED;
          rows.push({
            plane: opts.label,
            kind,
            audit: opts.audit,
            m,
            signerCpuUsPerReq: cpuUs,
            ...(opts.note === undefined ? {} : { note: opts.note }),
          });
          log(`${opts.label} ${kind}: p50 ${fmtUs(m.p50Us)} µs, ${Math.round(m.concPerS)}/s`);
        }
        const rss = child.rssMb();
        if (rss !== undefined) log(`${opts.label}: signer RSS ${rss.toFixed(1)} MB`);
      } finally {
        await plane.close();
        const code = await child.stop();
        if (code !== 0) log(`${opts.label}: signer exited ${code}`);
      }
      return missing;
    };

    const cliMissing = PHASES.has("remote")
      ? await remoteRun({ label: "remote", kinds: KINDS, spawnKind: "cli", audit: "group" })
      : [];
    if (cliMissing.length > 0) {
      remoteEip712Where = "bench/signer/signerChild.ts --with-eip712 (CLI pipeline from dist/ + the handler)";
      notes.push(
        `remote ${cliMissing.join(", ")}: the CLI's defaultPayloadHandlers() does not register it (intent_not_enabled); ` +
          "measured on bench/signer/signerChild.ts = the CLI's pipeline from dist/ with polymarketOrderHandler added.",
      );
      await remoteRun({
        label: "remote",
        kinds: cliMissing,
        spawnKind: "child",
        args: ["--with-eip712", "--audit-sync", "group"],
        audit: "group",
        note: "signerChild (+eip712)",
      });
    }
    if (PHASES.has("remote")) {
      for (const sync of ["line", "never"] as const) {
        await remoteRun({
          label: "remote",
          kinds: KINDS,
          spawnKind: "child",
          args: ["--with-eip712", "--audit-sync", sync],
          audit: sync,
          note: "signerChild",
        });
      }
      await remoteRun({
        label: "remote transport floor",
        kinds: ["hmac-query"],
        spawnKind: "child",
        args: ["--plane", "stub"],
        audit: "-",
        note: "stub plane: fixed grant",
      });
    }

    // -- 4. ethers v6 Wallet.signTypedData in-process, same order
    if (PHASES.has("ethers")) {
      ethers = await measure(OPTS, async (i) => {
        await ethersSign(i);
      });
      rows.push({ plane: "ethers Wallet.signTypedData", kind: "eip712-order", audit: "-", m: ethers });
      log(`ethers: p50 ${fmtUs(ethers.p50Us)} µs, ${Math.round(ethers.concPerS)}/s`);
    }

    // -- 5. PKCS#11: raw C_Sign on SoftHSM2, then the pkcs11 plane
    // The token store is made just before use (nothing earlier in this process opens the module).
    pkcs11Reason = PHASES.has("pkcs11") ? await softHsmMissing() : "phase not selected";
    if (pkcs11Reason === undefined) {
      try {
        hsm = await setupSoftHsm(world);
        log(`SoftHSM2 token "ig-bench" in ${hsm.fixture.dir}: keys imported`);
      } catch (err) {
        pkcs11Reason = `SoftHSM2 setup failed: ${err instanceof Error ? err.message : String(err)}`;
      }
    }
    if (hsm !== undefined) {
      const l2 = makeRequest(world, "hmac-clob-l2", "raw", 0).payload as {
        timestamp: string;
        method: string;
        path: string;
        body: string;
      };
      const l2Data = Buffer.from(l2.timestamp + l2.method + l2.path + l2.body, "utf8");
      raw.ecdsa = measureRawCSign(hsm.token, "ecdsa", OPTS.seqN, OPTS.warmup, l2Data);
      raw.hmac = measureRawCSign(hsm.token, "hmac", OPTS.seqN, OPTS.warmup, l2Data);
      for (const [mech, r] of [
        ["CKM_ECDSA (32 B digest)", raw.ecdsa],
        ["CKM_SHA256_HMAC (L2 message)", raw.hmac],
      ] as const) {
        rows.push({
          plane: "raw C_Sign (SoftHSM2)",
          kind: mech,
          audit: "-",
          m: {
            seqN: r.n,
            p50Us: r.p50Us,
            p99Us: r.p99Us,
            meanUs: r.meanUs,
            seqPerS: r.perS,
            concN: 0,
            concurrency: 1,
            concPerS: r.perS,
          },
          note: "synchronous: K-in-flight = 1/mean",
        });
      }
      log(`raw C_Sign: ECDSA p50 ${fmtUs(raw.ecdsa.p50Us)} µs, HMAC p50 ${fmtUs(raw.hmac.p50Us)} µs`);

      const orderHandler = tokenReadyOrderHandler(polymarketOrderHandler as unknown as PayloadKindHandler);
      if (orderHandler.adapted) {
        notes.push(
          "pkcs11 eip712-order: this build's polymarketOrderHandler has no bindInput()/digest(), so the pkcs11 " +
            "plane refuses it; measured with a bench-side digest() (decodePolymarketOrder + polymarketOrderDigest). " +
            "NB: on that path nothing checks order.signer == the token key's address.",
        );
      }
      for (const sync of ["group", "never"] as const) {
        const auditPath = join(workDir, `audit-pkcs11-${sync}.jsonl`);
        const config = await loadSignerConfig(
          await writeSignerConfig(world, {
            name: `pkcs11-${sync}`,
            auditPath,
            entries: { cex: TOKEN_LABELS.hmacRaw, clob: TOKEN_LABELS.hmacL2, order: TOKEN_LABELS.evm },
          }),
        );
        const handlers = new Map(defaultPayloadHandlers());
        handlers.set("eip712-order", orderHandler.handler);
        const plane = createPkcs11Plane({
          config,
          handlers,
          audit: await openAuditLog(auditPath, { sync, key: world.auditKey }),
          token: hsm.tokenOptions,
        });
        try {
          await plane.connect();
          await checkPlane(plane, world, `pkcs11-${sync}`, expected);
          for (const kind of KINDS) {
            const m = await measure(OPTS, planeOp(plane, CALLER, requestsOf(`p${sync[0]}`, kind)));
            rows.push({
              plane: "pkcs11 (SoftHSM2)",
              kind,
              audit: sync,
              m,
              ...(kind === "eip712-order" && orderHandler.adapted ? { note: "bench digest adapter" } : {}),
            });
            log(`pkcs11 ${sync} ${kind}: p50 ${fmtUs(m.p50Us)} µs, ${Math.round(m.concPerS)}/s`);
          }
        } finally {
          await plane.close();
        }
      }
    }
    log(`done; ${machineLoad()}`);
  } finally {
    for (const c of children) await c.stop().catch(() => undefined);
    await hsm?.dispose().catch(() => undefined);
    await rm(workDir, { recursive: true, force: true });
  }
  report({ rows, notes, fsyncFloor, auditLineBytes, ethers, raw, pkcs11Reason, remoteEip712Where });
}

/** The handlers the bench's in-process planes use: the build's registry, plus the EIP-712 handler if it lacks it. */
function localHandlers(): Map<PayloadKind, PayloadKindHandler> {
  const handlers = new Map(defaultPayloadHandlers());
  if (!handlers.has("eip712-order")) {
    handlers.set("eip712-order", polymarketOrderHandler as unknown as PayloadKindHandler);
  }
  return handlers;
}

/** One request of each kind must be granted with exactly the expected signature. */
async function checkPlane(
  plane: SigningPlane,
  world: BenchWorld,
  tag: string,
  expected: Expected,
): Promise<void> {
  for (const kind of KINDS) {
    const r = makeRequest(world, kind, `check-${tag}`, 0);
    const out = await plane.sign(CALLER, r);
    if (!out.granted) throw new Error(`${tag} ${kind}: denied ${out.reason}`);
    checkOutcome(out, kind, r, expected);
  }
}

function checkOutcome(out: Granted, kind: PayloadKind, r: SignRequest, expected: Expected): void {
  if (kind === "eip712-order" && out.signature !== expected.eip712) {
    // RFC 6979 planes match ethers byte for byte; a token's ECDSA nonce is random: check who signed.
    const signer = expected.eip712Signer(out.signature);
    if (signer !== expected.evmAddress || out.signer_address !== expected.evmAddress) {
      throw new Error(`eip712-order: signature recovers to ${signer}, not ${expected.evmAddress}`);
    }
    return;
  }
  const want =
    kind === "hmac-query"
      ? expected.hmacQuery(r)
      : kind === "hmac-clob-l2"
        ? expected.hmacL2(r)
        : expected.eip712;
  if (out.signature !== want) {
    throw new Error(`${kind}: signature ${out.signature} differs from the reference ${want}`);
  }
}

/** append + fdatasync of an audit-sized line, as the audit log does per grant. */
async function measureFsync(path: string, n: number): Promise<ReturnType<typeof stats>> {
  const fh = await open(path, "a+", 0o600);
  const line = `${"x".repeat(560)}\n`;
  const lat: number[] = [];
  try {
    for (let i = 0; i < n + 100; i++) {
      const t = performance.now();
      await fh.appendFile(line, "utf8");
      await fh.datasync();
      if (i >= 100) lat.push((performance.now() - t) * 1000);
    }
  } finally {
    await fh.close();
  }
  return stats(lat);
}

async function bytesPerLine(path: string): Promise<number> {
  const text = await readFile(path, "utf8");
  const lines = text.split("\n").filter((l) => l !== "").length;
  return Buffer.byteLength(text) / Math.max(1, lines);
}

function machineLoad(): string {
  const [one] = loadavg();
  const cpus = availableParallelism();
  const busy = (one ?? 0) > cpus * 0.5 ? " (BUSY machine: figures are pessimistic and noisy)" : "";
  return `load average ${(one ?? 0).toFixed(2)} on ${cpus} CPUs${busy}`;
}

function report(r: {
  rows: Row[];
  notes: string[];
  fsyncFloor: ReturnType<typeof stats> | undefined;
  auditLineBytes: number | undefined;
  ethers: Measured | undefined;
  raw: { ecdsa?: RawCSign; hmac?: RawCSign };
  pkcs11Reason: string | undefined;
  remoteEip712Where: string;
}): void {
  const find = (plane: string, kind: string, audit: string) =>
    r.rows.find((x) => x.plane === plane && x.kind === kind && x.audit === audit)?.m;
  const remoteEip = find("remote", "eip712-order", "group");
  const remoteEipNosync = find("remote", "eip712-order", "never");
  const remoteHmac = find("remote", "hmac-query", "group");
  const remoteHmacNosync = find("remote", "hmac-query", "never");
  const remoteHmacLine = find("remote", "hmac-query", "line");
  const floor = find("remote transport floor", "hmac-query", "-");
  const pkEip = find("pkcs11 (SoftHSM2)", "eip712-order", "group");
  const pkEipNosync = find("pkcs11 (SoftHSM2)", "eip712-order", "never");
  const pkHmac = find("pkcs11 (SoftHSM2)", "hmac-clob-l2", "group");
  const pkHmacNosync = find("pkcs11 (SoftHSM2)", "hmac-clob-l2", "never");
  const ratio = remoteEip && r.ethers ? remoteEip.concPerS / r.ethers.concPerS : undefined;
  const ratioNosync = remoteEipNosync && r.ethers ? remoteEipNosync.concPerS / r.ethers.concPerS : undefined;
  const pkOverRaw = pkEip && r.raw.ecdsa ? pkEip.p50Us / r.raw.ecdsa.p50Us : undefined;
  const pkOverRawNosync = pkEipNosync && r.raw.ecdsa ? pkEipNosync.p50Us / r.raw.ecdsa.p50Us : undefined;
  const pkHmacOverRaw = pkHmac && r.raw.hmac ? pkHmac.p50Us / r.raw.hmac.p50Us : undefined;
  const pkHmacOverRawNosync = pkHmacNosync && r.raw.hmac ? pkHmacNosync.p50Us / r.raw.hmac.p50Us : undefined;

  const out: string[] = [""];
  out.push(
    `Signing planes: ${OPTS.seqN} sequential requests (p50/p99, 1-in-flight/s = 1e6/mean), then ${OPTS.concN} ` +
      `with K=${OPTS.concurrency} in flight (K-in-flight/s); ${OPTS.warmup} warm-up each. Every answer a grant.`,
  );
  out.push(rowsTable(r.rows));
  out.push("");
  if (r.fsyncFloor) {
    out.push(
      `Audit: one line per request (${r.auditLineBytes?.toFixed(0) ?? "?"} B), written (write(2)) before the answer. ` +
        "group (default): fdatasync in the background, one at a time, at most one start per 2 ms, each covering every " +
        "line written before it (a power failure loses at most ~2 ms + one flush of lines); line: the answer waits " +
        `for a sync covering its line (coalesced); never: no sync. append+fdatasync alone on this file system: ` +
        `p50 ${fmtUs(r.fsyncFloor.p50Us)} µs, p99 ${fmtUs(r.fsyncFloor.p99Us)} µs.` +
        (remoteHmacLine === undefined
          ? ""
          : ` Remote hmac-query p50 with policy line: ${fmtUs(remoteHmacLine.p50Us)} µs.`),
    );
  }
  if (r.pkcs11Reason !== undefined) out.push(`pkcs11: not available (${r.pkcs11Reason})`);
  out.push(`remote eip712-order signer: ${r.remoteEip712Where}`);
  for (const n of r.notes) out.push(`note: ${n}`);
  out.push("");

  const pass = (ok: boolean | undefined) => (ok === undefined ? "n/a" : ok ? "ok" : "MISSED");
  const x = (v: number | undefined) => (v === undefined ? "-" : `${v.toFixed(2)}×`);
  out.push("Verdicts (as shipped: audit policy group; never = no fdatasync, for attribution only)");
  out.push(
    table(
      ["target", "measured", "never", "verdict"],
      [
        [
          "remote EIP-712 throughput ≥ 1.5× ethers in-process",
          `${x(ratio)} (${fmtInt(remoteEip?.concPerS)}/s vs ${fmtInt(r.ethers?.concPerS)}/s)`,
          x(ratioNosync),
          pass(ratio === undefined ? undefined : ratio >= 1.5),
        ],
        [
          "remote HMAC p50 round trip ≤ 100 µs",
          `${fmtUs(remoteHmac?.p50Us)} µs (hmac-query)`,
          `${fmtUs(remoteHmacNosync?.p50Us)} µs; transport floor ${fmtUs(floor?.p50Us)} µs`,
          pass(remoteHmac === undefined ? undefined : remoteHmac.p50Us <= 100),
        ],
        [
          "pkcs11 plane ≤ 1.2× raw C_Sign latency (p50, ECDSA)",
          pkOverRaw === undefined
            ? "-"
            : `${x(pkOverRaw)} (${fmtUs(pkEip?.p50Us)} vs ${fmtUs(r.raw.ecdsa?.p50Us)} µs)`,
          x(pkOverRawNosync),
          pass(pkOverRaw === undefined ? undefined : pkOverRaw <= 1.2),
        ],
        [
          "  same, HMAC (hmac-clob-l2 vs CKM_SHA256_HMAC)",
          pkHmacOverRaw === undefined
            ? "-"
            : `${x(pkHmacOverRaw)} (${fmtUs(pkHmac?.p50Us)} vs ${fmtUs(r.raw.hmac?.p50Us)} µs)`,
          x(pkHmacOverRawNosync),
          pass(pkHmacOverRaw === undefined ? undefined : pkHmacOverRaw <= 1.2),
        ],
      ],
      new Set(),
    ),
  );
  if (ratio === undefined) out.push("ratio: null (remote eip712-order or ethers not measured)");
  if (pkOverRaw === undefined)
    out.push(`pkcs11_over_raw: null (${r.pkcs11Reason ?? "pkcs11 plane not measured"})`);
  out.push("");
  process.stdout.write(`${out.join("\n")}\n`);
  const json = {
    remote_eip712_per_s: round(remoteEip?.concPerS, 0),
    ethers_inproc_per_s: round(r.ethers?.concPerS, 0),
    ratio: round(ratio, 3),
    remote_hmac_p50_us: round(remoteHmac?.p50Us, 1),
    pkcs11_over_raw: round(pkOverRaw, 3),
  };
  process.stdout.write(`${JSON.stringify(json)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
