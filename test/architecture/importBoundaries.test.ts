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

/** Bare (package) imports the pure core may use: hashing, curves and schemas, no I/O. */
const CORE_PACKAGES = /^(node:crypto|node:util|zod|@noble\/[a-z]+\/[\w./-]+)$/;

/** Package specifiers (not relative) a file imports. */
function packagesOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [
    ...text.matchAll(/\b(?:import|export)\s[^;]*?\sfrom\s*["']([^"']+)["']/g),
    ...text.matchAll(/\bimport\s*\(\s*["']([^"']+)["']\s*\)/g),
    ...text.matchAll(/^\s*import\s*["']([^"']+)["']/gm),
  ]
    .map((m) => m[1] as string)
    .filter((s) => !s.startsWith("."));
}

/**
 * Which top-level folders of `src/` each layer may import (besides itself).
 * Dependencies point one way: core ← ports ← adapters/executor ← apps, which wire.
 */
const LAYERS: Record<string, readonly string[]> = {
  core: [],
  ports: ["core"],
  adapters: ["core", "ports"],
  executor: ["core", "ports", "ops"],
  // The emulators stand in for the venues: they share the venues' facts from core, never the adapters'.
  emulators: ["core"],
  // The signing plane: its own contract (ports), pure facts (core) and the one credential reader (config).
  signer: ["core", "ports", "config"],
  // The producer SDK: pure facts and gates (core), and, for its publisher, reader and pre-check,
  // a bus (ports, adapters) and the executor's config (config) to read a policy snapshot from.
  sdk: ["core", "ports", "adapters", "config"],
  config: ["core"],
  // The watcher's orchestration (alert delivery, later the position watcher): like the executor's.
  watcher: ["core", "ports", "ops"],
  ops: ["core", "config"],
};

describe("import boundaries (signing-plane-v1 §5)", () => {
  const files = sourceFiles(SRC).map((f) => relative(ROOT, f));

  it("finds the sources it polices", () => {
    expect(files).toContain("src/executor/executor.ts");
    expect(importsOf(join(ROOT, "src/executor/executor.ts"))).toContain("src/core/decide.ts");
    expect(packagesOf(join(ROOT, "src/core/auth/verifySignature.ts"))).toContain("node:crypto");
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

  it.each(Object.entries(LAYERS))("src/%s/ imports only %j and itself", (layer, allowed) => {
    const ok = new Set([layer, ...allowed]);
    const offenders = files
      .filter((f) => f.startsWith(`src/${layer}/`))
      .flatMap((f) =>
        importsOf(join(ROOT, f))
          .filter((t) => !ok.has(t.split("/")[1] ?? ""))
          .map((t) => `${f} -> ${t}`),
      );
    expect(offenders).toEqual([]);
  });

  it("the pure core imports no I/O package (only hashing, curves and schemas)", () => {
    const offenders = files
      .filter((f) => f.startsWith("src/core/"))
      .flatMap((f) =>
        packagesOf(join(ROOT, f))
          .filter((p) => !CORE_PACKAGES.test(p))
          .map((p) => `${f} -> ${p}`),
      );
    expect(offenders).toEqual([]);
  });

  it("no adapter imports an app, the executor or the signer", () => {
    const offenders = files
      .filter((f) => f.startsWith("src/adapters/"))
      .flatMap((f) =>
        importsOf(join(ROOT, f))
          .filter((t) => /^src\/(apps|executor|signer)\//.test(t))
          .map((t) => `${f} -> ${t}`),
      );
    expect(offenders).toEqual([]);
  });
});
