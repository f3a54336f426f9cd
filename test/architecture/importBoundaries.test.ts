import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");
const SRC = join(ROOT, "src");

/** The signer's public entry, the only signer module other code may import. */
const SIGNER_ENTRY = "src/signer/index.ts";

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const path = join(dir, d.name);
    if (d.isDirectory()) return sourceFiles(path);
    return d.name.endsWith(".ts") && !d.name.endsWith(".test.ts") ? [path] : [];
  });
}

/** Relative module specifiers of every static and dynamic import/export-from in a file, resolved to repo paths. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const specs = [
    ...text.matchAll(/\b(?:import|export)\s[^;]*?\sfrom\s*["']([^"']+)["']/g),
    ...text.matchAll(/\bimport\s*\(\s*["']([^"']+)["']\s*\)/g),
    ...text.matchAll(/^\s*import\s*["']([^"']+)["']/gm),
  ].map((m) => m[1] as string);
  return specs
    .filter((s) => s.startsWith("."))
    .map((s) => relative(ROOT, resolve(dirname(file), s)).replace(/\.js$/, ".ts"));
}

describe("import boundaries (signing-plane-v1 §5)", () => {
  const files = sourceFiles(SRC).map((f) => relative(ROOT, f));

  it("finds the sources it polices", () => {
    expect(files).toContain("src/apps/executor/executor.ts");
    expect(importsOf(join(ROOT, "src/apps/executor/executor.ts"))).toContain("src/core/decide.ts");
  });

  it("no module outside src/signer/ imports the vault, a plane's internals or any other signer module", () => {
    const offenders = files
      .filter((f) => !f.startsWith("src/signer/"))
      .flatMap((f) =>
        importsOf(join(ROOT, f))
          .filter((target) => target.startsWith("src/signer/") && target !== SIGNER_ENTRY)
          .map((target) => `${f} -> ${target}`),
      );
    expect(offenders).toEqual([]);
  });

  it("the pure core imports no adapter, app, signer or I/O module", () => {
    const offenders = files
      .filter((f) => f.startsWith("src/core/"))
      .flatMap((f) =>
        importsOf(join(ROOT, f))
          .filter((t) => /^src\/(adapters|apps|signer|config|ops)\//.test(t))
          .map((t) => `${f} -> ${t}`),
      );
    expect(offenders).toEqual([]);
  });
});
