/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof`): top functions by
 * self time, and self time grouped by file / package.
 *   node --import tsx bench/profileSummary.ts <file.cpuprofile> [top=30]
 */
import { readFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const file = process.argv[2];
if (!file) {
  process.stderr.write("usage: profileSummary.ts <file.cpuprofile> [top]\n");
  process.exit(64);
}
const top = Number.isInteger(Number(process.argv[3])) ? Number(process.argv[3]) : 30;
const prof = JSON.parse(readFileSync(file, "utf8")) as Profile;
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const selfUs = new Map<number, number>();
prof.samples.forEach((id, i) => {
  selfUs.set(id, (selfUs.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0));
});
const totalUs = prof.endTime - prof.startTime;

function where(url: string): string {
  if (url === "") return "(native/V8)";
  const nm = url.lastIndexOf("node_modules/");
  if (nm >= 0) {
    const rest = url.slice(nm + "node_modules/".length).split("/");
    return rest[0]?.startsWith("@") ? `${rest[0]}/${rest[1]}` : (rest[0] ?? url);
  }
  if (url.startsWith("node:")) return url;
  const src = url.indexOf("/src/");
  if (src >= 0) return url.slice(src + 1);
  const bench = url.indexOf("/bench/");
  if (bench >= 0) return url.slice(bench + 1);
  return url;
}

const fnSelf = new Map<string, number>();
const fileSelf = new Map<string, number>();
for (const [id, us] of selfUs) {
  const n = byId.get(id);
  if (!n) continue;
  const { functionName, url, lineNumber } = n.callFrame;
  const w = where(url);
  const key = `${functionName || "(anonymous)"}  ${w}${url ? `:${lineNumber + 1}` : ""}`;
  fnSelf.set(key, (fnSelf.get(key) ?? 0) + us);
  fileSelf.set(w, (fileSelf.get(w) ?? 0) + us);
}
const pct = (us: number) => `${((100 * us) / totalUs).toFixed(1).padStart(5)}%`;
const ms = (us: number) => `${(us / 1000).toFixed(0).padStart(7)} ms`;
process.stdout.write(
  `profile ${file}: ${(totalUs / 1e6).toFixed(2)} s wall\n\nTop functions by self time:\n`,
);
for (const [k, us] of [...fnSelf].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  process.stdout.write(`${ms(us)} ${pct(us)}  ${k}\n`);
}
process.stdout.write("\nSelf time by file / package:\n");
for (const [k, us] of [...fileSelf].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  process.stdout.write(`${ms(us)} ${pct(us)}  ${k}\n`);
}

// Inclusive (self + callees) time per function, each function counted once per stack.
const parent = new Map<number, number>();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const label = (n: ProfileNode) => {
  const { functionName, url, lineNumber } = n.callFrame;
  return `${functionName || "(anonymous)"}  ${where(url)}${url ? `:${lineNumber + 1}` : ""}`;
};
const inclusive = new Map<string, number>();
const callers = new Map<string, Map<string, number>>();
for (const [id, us] of selfUs) {
  const seenOnStack = new Set<string>();
  let cur: number | undefined = id;
  const leaf = byId.get(id);
  const up = parent.get(id);
  if (leaf && up !== undefined) {
    const l = label(leaf);
    const m = callers.get(l) ?? new Map<string, number>();
    const p = byId.get(up);
    if (p) m.set(label(p), (m.get(label(p)) ?? 0) + us);
    callers.set(l, m);
  }
  while (cur !== undefined) {
    const n = byId.get(cur);
    if (!n) break;
    const l = label(n);
    if (!seenOnStack.has(l)) {
      seenOnStack.add(l);
      inclusive.set(l, (inclusive.get(l) ?? 0) + us);
    }
    cur = parent.get(cur);
  }
}
process.stdout.write("\nTop functions by inclusive time (project code and ioredis/pino/prom-client):\n");
for (const [k, us] of [...inclusive]
  .filter(([k]) => /src\/|ioredis|pino|prom-client|bench\//.test(k))
  .sort((a, b) => b[1] - a[1])
  .slice(0, top)) {
  process.stdout.write(`${ms(us)} ${pct(us)}  ${k}\n`);
}
process.stdout.write("\nCallers of the top native self-time entries:\n");
for (const [k] of [...fnSelf].sort((a, b) => b[1] - a[1]).slice(0, 8)) {
  const m = callers.get(k);
  if (!m || k.startsWith("(idle)")) continue;
  const list = [...m]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 4)
    .map(([c, us]) => `${c} ${(us / 1000).toFixed(0)} ms`);
  process.stdout.write(`  ${k}\n    <- ${list.join("\n    <- ")}\n`);
}
