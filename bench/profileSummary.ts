/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof`): top functions by
 * self time, and self time grouped by file / package.
 *   node --import tsx bench/profileSummary.ts <file.cpuprofile> [top=30]
 */
import { frameLabel, type ProfileNode, readProfile, selfByFunction, selfTimes } from "./lib/cpuProfile.js";

const file = process.argv[2];
if (!file) {
  process.stderr.write("usage: profileSummary.ts <file.cpuprofile> [top]\n");
  process.exit(64);
}
const top = Number.isInteger(Number(process.argv[3])) ? Number(process.argv[3]) : 30;
const prof = readProfile(file);
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const selfUs = selfTimes(prof);
const totalUs = prof.endTime - prof.startTime;
const { byFunction: fnSelf, byFile: fileSelf } = selfByFunction(prof);
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
const label = (n: ProfileNode) => frameLabel(n);
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
