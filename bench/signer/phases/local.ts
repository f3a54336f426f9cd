import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { openAuditLog } from "../../../src/signer/audit/auditLog.js";
import { createLocalPlane } from "../../../src/signer/localPlane.js";
import { loadSignerConfig } from "../../../src/signer/signerConfig.js";
import { Vault } from "../../../src/signer/vault/vault.js";
import { checkPlane } from "../expected.js";
import { CALLER, KINDS, writeSignerConfig } from "../fixtures.js";
import { measure, planeOp } from "../measure.js";
import { fmtUs } from "../report.js";
import { localHandlers, type PhaseContext } from "./context.js";

/**
 * Phase 2, the local plane (in this process): audit as shipped (group
 * commit) and without fdatasync. Returns the audit log's mean line size.
 */
export async function runLocalPhase(ctx: PhaseContext): Promise<{ auditLineBytes: number | undefined }> {
  const { world } = ctx;
  let auditLineBytes: number | undefined;
  for (const sync of ["group", "never"] as const) {
    const auditPath = join(ctx.workDir, `audit-local-${sync}.jsonl`);
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
      await checkPlane(ctx, plane, `local-${sync}`);
      for (const kind of KINDS) {
        const m = await measure(ctx.opts, planeOp(plane, CALLER, ctx.requestsOf(`l${sync[0]}`, kind)));
        ctx.rows.push({ plane: "local", kind, audit: sync, m });
        ctx.log(`local ${sync} ${kind}: p50 ${fmtUs(m.p50Us)} µs, ${Math.round(m.concPerS)}/s`);
      }
    } finally {
      await plane.close();
      vault.close();
    }
    if (sync === "group") auditLineBytes = await bytesPerLine(auditPath);
  }
  return { auditLineBytes };
}

async function bytesPerLine(path: string): Promise<number> {
  const text = await readFile(path, "utf8");
  const lines = text.split("\n").filter((l) => l !== "").length;
  return Buffer.byteLength(text) / Math.max(1, lines);
}
