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
import { mkdtemp, rm } from "node:fs/promises";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { PayloadKind } from "../src/ports/signingPlane.js";
import { intEnv } from "./lib/intEnv.js";
import { ethersOrderSigner } from "./signer/ethersInproc.js";
import { makeExpected } from "./signer/expected.js";
import { makeRequest, provision } from "./signer/fixtures.js";
import { type Measured, type MeasureOptions, requestsNeeded } from "./signer/measure.js";
import type { PhaseContext } from "./signer/phases/context.js";
import { runEthersPhase } from "./signer/phases/ethers.js";
import { type FsyncFloor, runFsyncPhase } from "./signer/phases/fsync.js";
import { runHandlerPhase } from "./signer/phases/handler.js";
import { runLocalPhase } from "./signer/phases/local.js";
import { type Pkcs11Result, runPkcs11Phase } from "./signer/phases/pkcs11.js";
import { CLI_EIP712_WHERE, runRemotePhase } from "./signer/phases/remote.js";
import type { RawCSign } from "./signer/pkcs11.js";
import { fmtInt, fmtUs, type Row, round, rowsTable, table } from "./signer/report.js";

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

/** Phases 0–5 in order (each in bench/signer/phases/), then the report. */
async function main(): Promise<void> {
  const workDir = await mkdtemp(join(tmpdir(), "ig-signer-bench-"));
  const rows: Row[] = [];
  const notes: string[] = [];
  const cleanups: Array<() => Promise<unknown>> = [];
  let fsyncFloor: FsyncFloor | undefined;
  let auditLineBytes: number | undefined;
  let ethers: Measured | undefined;
  let pkcs11: Pkcs11Result = { raw: {}, reason: "phase not selected" };
  let remoteEip712Where = CLI_EIP712_WHERE;
  try {
    log(
      `warm-up ${OPTS.warmup}, sequential ${OPTS.seqN}, concurrent ${OPTS.concN} with K=${OPTS.concurrency} in flight; ${machineLoad()}`,
    );
    const world = await provision(workDir);
    log(`vault ${world.vaultPath} (scrypt N=2^10): 1 hmac + 1 secp256k1 entry; signer ${world.evmAddress}`);

    const ethersSign = ethersOrderSigner(world);
    const ctx: PhaseContext = {
      world,
      opts: OPTS,
      workDir,
      repoRoot,
      expected: await makeExpected(world, ethersSign),
      ethersSign,
      requestsOf: (tag: string, kind: PayloadKind) =>
        Array.from({ length: NEEDED }, (_, i) => makeRequest(world, kind, tag, i)),
      rows,
      notes,
      log,
      defer: (cleanup) => cleanups.push(cleanup),
    };

    fsyncFloor = await runFsyncPhase(ctx); // 0. append + fdatasync: the floor under every audited grant
    if (PHASES.has("handler")) await runHandlerPhase(ctx); // 1. bind + sign, key already decrypted
    if (PHASES.has("local")) ({ auditLineBytes } = await runLocalPhase(ctx)); // 2. local plane
    if (PHASES.has("remote")) remoteEip712Where = (await runRemotePhase(ctx)).eip712Where; // 3. signer process
    if (PHASES.has("ethers")) ethers = await runEthersPhase(ctx); // 4. ethers in-process
    if (PHASES.has("pkcs11")) pkcs11 = await runPkcs11Phase(ctx); // 5. raw C_Sign + pkcs11 plane
    log(`done; ${machineLoad()}`);
  } finally {
    for (const cleanup of cleanups) await cleanup().catch(() => undefined);
    await rm(workDir, { recursive: true, force: true });
  }
  report({
    rows,
    notes,
    fsyncFloor,
    auditLineBytes,
    ethers,
    raw: pkcs11.raw,
    pkcs11Reason: pkcs11.reason,
    remoteEip712Where,
  });
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
  fsyncFloor: FsyncFloor | undefined;
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
  // main's own clean-up has run; whatever a failed run left open (a client that reconnects to the
  // server main just stopped, forever) must not keep a failed bench alive
  process.exit(1);
});
