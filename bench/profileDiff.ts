/**
 * Where one config's extra time goes: sums the `.cpuprofile`s of each side
 * (several runs each, so one run's noise weighs less), and prints the
 * difference in self time per function and per file or package, in µs per
 * unit of work (a plan, say), largest first. The executor bench writes the
 * profiles (`BENCH_PROFILE_DIR`); run each config a few times, alternating.
 *   node --import tsx bench/profileDiff.ts --units 20000 a1.cpuprofile,a2.cpuprofile b1.cpuprofile,b2.cpuprofile [top=40]
 * `--units` is the work each profile covers (BENCH_N); the wall time per
 * unit of each side is printed first.
 */
import { readProfile, selfByFunction } from "./lib/cpuProfile.js";

interface Side {
  readonly wallUs: number;
  readonly byFunction: Map<string, number>;
  readonly byFile: Map<string, number>;
  readonly profiles: number;
}

function usage(): never {
  process.stderr.write("usage: profileDiff.ts --units <n> <a.cpuprofile,…> <b.cpuprofile,…> [top]\n");
  process.exit(64);
}

function add(into: Map<string, number>, from: Map<string, number>): void {
  for (const [k, us] of from) into.set(k, (into.get(k) ?? 0) + us);
}

function load(list: string): Side {
  const files = list.split(",").filter((f) => f !== "");
  if (files.length === 0) usage();
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  let wallUs = 0;
  for (const f of files) {
    const prof = readProfile(f);
    wallUs += prof.endTime - prof.startTime;
    const self = selfByFunction(prof);
    add(byFunction, self.byFunction);
    add(byFile, self.byFile);
  }
  return { wallUs, byFunction, byFile, profiles: files.length };
}

const args = process.argv.slice(2);
if (args[0] !== "--units") usage();
const units = Number(args[1]);
if (!Number.isInteger(units) || units <= 0) usage();
const [aList, bList, topArg] = args.slice(2);
if (aList === undefined || bList === undefined) usage();
const top = topArg === undefined ? 40 : Number(topArg);
if (!Number.isInteger(top) || top <= 0) usage();
const a = load(aList);
const b = load(bList);
// µs per unit of one profile's work, averaged over the side's profiles
const perA = (us: number) => us / (a.profiles * units);
const perB = (us: number) => us / (b.profiles * units);
const f = (us: number) => us.toFixed(2).padStart(8);

process.stdout.write(
  `wall per unit: a ${f(perA(a.wallUs))} µs, b ${f(perB(b.wallUs))} µs, a − b ${f(perA(a.wallUs) - perB(b.wallUs))} µs\n`,
);
for (const [title, am, bm] of [
  ["self time per function", a.byFunction, b.byFunction],
  ["self time per file / package", a.byFile, b.byFile],
] as const) {
  process.stdout.write(`\n${title}, µs per unit: a − b (a)\n`);
  const rows = [...new Set([...am.keys(), ...bm.keys()])]
    .map((k) => [k, perA(am.get(k) ?? 0) - perB(bm.get(k) ?? 0), perA(am.get(k) ?? 0)] as const)
    .sort((x, y) => Math.abs(y[1]) - Math.abs(x[1]))
    .slice(0, top);
  for (const [k, d, on] of rows) process.stdout.write(`${f(d)} (${f(on)})  ${k}\n`);
}
