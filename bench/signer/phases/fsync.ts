import { open } from "node:fs/promises";
import { join } from "node:path";
import { stats } from "../measure.js";
import { fmtUs } from "../report.js";
import type { PhaseContext } from "./context.js";

export type FsyncFloor = ReturnType<typeof stats>;

/**
 * Phase 0, the floor under every audited grant: one ~audit-line append +
 * fdatasync, `opts.seqN` times, on the work dir's file system.
 */
export async function runFsyncPhase(ctx: PhaseContext): Promise<FsyncFloor> {
  const floor = await measureFsync(join(ctx.workDir, "fsync-probe.jsonl"), ctx.opts.seqN);
  ctx.log(`fdatasync floor: p50 ${fmtUs(floor.p50Us)} µs, p99 ${fmtUs(floor.p99Us)} µs`);
  return floor;
}

/** append + fdatasync of an audit-sized line, as the audit log does per grant. */
async function measureFsync(path: string, n: number): Promise<FsyncFloor> {
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
