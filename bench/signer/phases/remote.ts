import { join } from "node:path";
import { SecretBytes } from "../../../src/core/auth/secretBytes.js";
import type { PayloadKind } from "../../../src/ports/signingPlane.js";
import { createRemotePlane } from "../../../src/signer/remote/remotePlaneClient.js";
import { checkOutcome } from "../expected.js";
import { CALLER, KINDS, makeRequest, writeSignerConfig } from "../fixtures.js";
import { measure, planeOp, requestsNeeded } from "../measure.js";
import { fmtUs, procCpuMs } from "../report.js";
import { spawnSigner } from "../spawnSigner.js";
import type { PhaseContext } from "./context.js";

/** Where the remote eip712-order rows were measured when the CLI signs that kind itself. */
export const CLI_EIP712_WHERE = "bin/intentgate.js signer";

/** One signer process, measured over `kinds` through createRemotePlane on its own socket and audit file. */
interface RemoteRun {
  /** The rows' plane column (also names the config, socket and audit file). */
  readonly label: string;
  readonly kinds: readonly PayloadKind[];
  /** `cli`: bin/intentgate.js signer; `child`: bench/signer/signerChild.ts with `args`. */
  readonly spawnKind: "cli" | "child";
  readonly args?: readonly string[];
  /** The rows' audit column. */
  readonly audit: string;
  readonly note?: string;
}

/**
 * Phase 3, remote: the real signer process (CLI), audit as shipped (the
 * config's default: group); the kinds the CLI does not register on
 * signerChild (the CLI's pipeline + the EIP-712 handler); signerChild with
 * audit `line` and `never`; a stub plane (the transport's floor).
 * Returns where the remote eip712-order rows (audit group) were measured.
 */
export async function runRemotePhase(ctx: PhaseContext): Promise<{ eip712Where: string }> {
  let eip712Where = CLI_EIP712_WHERE;
  const cliMissing = await remoteRun(ctx, {
    label: "remote",
    kinds: KINDS,
    spawnKind: "cli",
    audit: "group",
  });
  if (cliMissing.length > 0) {
    eip712Where = "bench/signer/signerChild.ts --with-eip712 (CLI pipeline from dist/ + the handler)";
    ctx.notes.push(
      `remote ${cliMissing.join(", ")}: the CLI's defaultPayloadHandlers() does not register it (intent_not_enabled); ` +
        "measured on bench/signer/signerChild.ts = the CLI's pipeline from dist/ with polymarketOrderHandler added.",
    );
    await remoteRun(ctx, {
      label: "remote",
      kinds: cliMissing,
      spawnKind: "child",
      args: ["--with-eip712", "--audit-sync", "group"],
      audit: "group",
      note: "signerChild (+eip712)",
    });
  }
  for (const sync of ["line", "never"] as const) {
    await remoteRun(ctx, {
      label: "remote",
      kinds: KINDS,
      spawnKind: "child",
      args: ["--with-eip712", "--audit-sync", sync],
      audit: sync,
      note: "signerChild",
    });
  }
  await remoteRun(ctx, {
    label: "remote transport floor",
    kinds: ["hmac-query"],
    spawnKind: "child",
    args: ["--plane", "stub"],
    audit: "-",
    note: "stub plane: fixed grant",
  });
  return { eip712Where };
}

/** Measures one {@link RemoteRun}; returns the kinds the signer answered `intent_not_enabled` (not measured). */
async function remoteRun(ctx: PhaseContext, run: RemoteRun): Promise<PayloadKind[]> {
  const { world, workDir } = ctx;
  const name = run.label.replace(/[^a-z0-9]+/gi, "-");
  const socketPath = join(workDir, `${name}.sock`);
  const configPath = await writeSignerConfig(world, {
    name,
    auditPath: join(workDir, `audit-${name}.jsonl`),
    socketPath,
  });
  const child = await spawnSigner({
    repoRoot: ctx.repoRoot,
    kind: run.spawnKind,
    configPath,
    env: world.env,
    ...(run.args === undefined ? {} : { args: run.args }),
  });
  ctx.defer(() => child.stop());
  const plane = createRemotePlane({
    socketPath,
    caller: CALLER,
    token: new SecretBytes(world.token),
    timeoutMs: 10_000,
  });
  const missing: PayloadKind[] = [];
  try {
    for (const kind of run.kinds) {
      const reqs = ctx.requestsOf(`r${name}`, kind);
      const probeRequest = makeRequest(world, kind, `probe-${name}`, 0);
      const probe = await plane.sign(CALLER, probeRequest);
      if (!probe.granted) {
        if (probe.reason === "intent_not_enabled") {
          missing.push(kind);
          continue;
        }
        throw new Error(`${run.label} ${kind}: probe denied ${probe.reason}`);
      }
      if (!run.args?.includes("stub")) checkOutcome(ctx.expected, probe, probeRequest);
      const cpu0 = procCpuMs(child.pid);
      const m = await measure(ctx.opts, planeOp(plane, CALLER, reqs));
      const cpu1 = procCpuMs(child.pid);
      const cpuUs =
        cpu0 === undefined || cpu1 === undefined
          ? undefined
          : ((cpu1 - cpu0) * 1000) / requestsNeeded(ctx.opts);
      ctx.rows.push({
        plane: run.label,
        kind,
        audit: run.audit,
        m,
        signerCpuUsPerReq: cpuUs,
        ...(run.note === undefined ? {} : { note: run.note }),
      });
      ctx.log(`${run.label} ${kind}: p50 ${fmtUs(m.p50Us)} µs, ${Math.round(m.concPerS)}/s`);
    }
    const rss = child.rssMb();
    if (rss !== undefined) ctx.log(`${run.label}: signer RSS ${rss.toFixed(1)} MB`);
  } finally {
    await plane.close();
    const code = await child.stop();
    if (code !== 0) ctx.log(`${run.label}: signer exited ${code}`);
  }
  return missing;
}
