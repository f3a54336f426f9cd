// Copies the non-TypeScript files the built modules read at run time (src/**/*.lua)
// to dist/, at the same relative paths. Run after tsc by `npm run build` / `prepare`.
import { copyFileSync, mkdirSync, readdirSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const SRC = join(ROOT, "src");
const DIST = join(ROOT, "dist");
const ASSET = /\.lua$/;

function* assets(dir) {
  for (const d of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, d.name);
    if (d.isDirectory()) yield* assets(path);
    else if (ASSET.test(d.name)) yield path;
  }
}

let n = 0;
for (const from of assets(SRC)) {
  const to = join(DIST, relative(SRC, from));
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(from, to);
  n++;
}
console.log(`copyAssets: ${n} file(s) copied to ${relative(ROOT, DIST)}/`);
