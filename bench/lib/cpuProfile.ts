import { readFileSync } from "node:fs";

/** One node of a V8 `.cpuprofile` call tree. */
export interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

/** A V8 `.cpuprofile` (from `node --cpu-prof`, or the inspector's `Profiler.stop`). */
export interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Reads a `.cpuprofile` file. */
export function readProfile(file: string): Profile {
  return JSON.parse(readFileSync(file, "utf8")) as Profile;
}

/** Sampled self time per call-tree node id, µs. */
export function selfTimes(prof: Profile): Map<number, number> {
  const selfUs = new Map<number, number>();
  prof.samples.forEach((id, i) => {
    selfUs.set(id, (selfUs.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0));
  });
  return selfUs;
}

/** Where a frame's code lives: `(native/V8)`, a package name, a `node:` module, or a path from `src/` or `bench/`. */
export function where(url: string): string {
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

/** A function's label: its name and where it is, with its line. */
export function frameLabel(n: ProfileNode): string {
  const { functionName, url, lineNumber } = n.callFrame;
  return `${functionName || "(anonymous)"}  ${where(url)}${url ? `:${lineNumber + 1}` : ""}`;
}

/** Self time per function ({@link frameLabel}) and per file or package ({@link where}), µs. */
export function selfByFunction(prof: Profile): {
  byFunction: Map<string, number>;
  byFile: Map<string, number>;
} {
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  for (const [id, us] of selfTimes(prof)) {
    const n = byId.get(id);
    if (!n) continue;
    const f = frameLabel(n);
    const w = where(n.callFrame.url);
    byFunction.set(f, (byFunction.get(f) ?? 0) + us);
    byFile.set(w, (byFile.get(w) ?? 0) + us);
  }
  return { byFunction, byFile };
}
