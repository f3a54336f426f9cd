import { readFileSync } from "node:fs";
import type { Measured } from "./measure.js";

/** One measured configuration. */
export interface Row {
  readonly plane: string;
  readonly kind: string;
  /** The audit log's sync policy (`group` as shipped, `line`, `never`), or `-` (no audit in the path). */
  readonly audit: string;
  readonly m: Measured;
  /** CPU the signer process spent per request over the whole run (remote planes). */
  readonly signerCpuUsPerReq?: number | undefined;
  readonly note?: string | undefined;
}

export function fmtInt(n: number | undefined): string {
  return n === undefined || !Number.isFinite(n) ? "-" : Math.round(n).toLocaleString("en-US");
}

export function fmtUs(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return "-";
  return n < 10 ? n.toFixed(2) : n < 100 ? n.toFixed(1) : Math.round(n).toLocaleString("en-US");
}

export function round(n: number | undefined, digits: number): number | null {
  if (n === undefined || !Number.isFinite(n)) return null;
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** A plain text table; columns listed in `right` are right-aligned. */
export function table(header: string[], rows: string[][], right: ReadonlySet<number>): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, c) => (right.has(c) ? cell.padStart(widths[c] ?? 0) : cell.padEnd(widths[c] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

export function rowsTable(rows: readonly Row[]): string {
  return table(
    [
      "plane",
      "kind",
      "audit",
      "p50 µs",
      "p99 µs",
      "1-in-flight/s",
      "K-in-flight/s",
      "signer CPU µs/req",
      "note",
    ],
    rows.map((r) => [
      r.plane,
      r.kind,
      r.audit,
      fmtUs(r.m.p50Us),
      fmtUs(r.m.p99Us),
      fmtInt(r.m.seqPerS),
      fmtInt(r.m.concPerS),
      r.signerCpuUsPerReq === undefined ? "" : fmtUs(r.signerCpuUsPerReq),
      r.note ?? "",
    ]),
    new Set([3, 4, 5, 6, 7]),
  );
}

/** User + system CPU of a process in ms, from /proc/<pid>/stat (clock ticks of 10 ms). */
export function procCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // After the command name: state is field 3, utime 14, stime 15 (1-based) → indexes 11 and 12 here.
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}
