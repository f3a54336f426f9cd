/**
 * The package's public entry, as a user gets it: built with the build's own
 * tsconfig into a temporary folder (so it never races another test or a
 * developer's `dist/`), laid out as an installed package, and imported
 * through its `exports` map. Every name the README's "Library" table lists
 * must be exported (values at run time, types in `index.d.ts`) and nothing
 * else; a plan signed with the built `signPlan`, and a permit issued with the
 * built `issuePermit`, pass the executor's own gates with a key and config
 * made by the built `generateKeyMaterial`.
 */
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfigText } from "../../src/config/loadConfig.js";
import { codeSpans, markdownSection, repoText, tableRows } from "../architecture/docTables.js";
import { decide, NOW, planEntry } from "../support/coreFixtures.js";

const ROOT = resolve(import.meta.dirname, "../..");
const PACKAGE_JSON = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  name: string;
  main: string;
  types: string;
  exports: { ".": { types: string; import: string } };
};

/** The README's Library table: value exports and type-only exports. */
function documentedExports(): { values: string[]; types: string[] } {
  const values: string[] = [];
  const types: string[] = [];
  for (const cells of tableRows(markdownSection(repoText("README.md"), "### Library"))) {
    const names = codeSpans(cells[0] ?? "");
    (cells[1] === "type" ? types : values).push(...names);
  }
  return { values, types };
}

/** Names a declaration file exports as types only (`export type {…}`, `type X` inside `export {…}`). */
function typeOnlyExports(dts: string): string[] {
  const out: string[] = [];
  for (const m of dts.matchAll(/export\s+(type\s+)?\{([^}]*)\}/g)) {
    for (const part of (m[2] as string).split(",")) {
      const t = part.trim();
      if (t === "") continue;
      const isType = m[1] !== undefined || t.startsWith("type ");
      const name = t
        .replace(/^type\s+/, "")
        .split(/\s+as\s+/)
        .pop() as string;
      if (isType) out.push(name);
    }
  }
  return out;
}

let dir: string;
let pkg: string;
let entry: Record<string, unknown>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "ig-package-"));
  pkg = join(dir, "node_modules", PACKAGE_JSON.name);
  mkdirSync(pkg, { recursive: true });
  // The build the package script runs (`npm run build`), into the temporary package.
  execFileSync(
    process.execPath,
    [
      join(ROOT, "node_modules/typescript/bin/tsc"),
      "-p",
      join(ROOT, "tsconfig.build.json"),
      "--outDir",
      join(pkg, "dist"),
    ],
    { cwd: ROOT, stdio: "pipe" },
  );
  cpSync(join(ROOT, "package.json"), join(pkg, "package.json"));
  // The package's own dependencies, as npm would have installed them beside it.
  symlinkSync(join(ROOT, "node_modules"), join(pkg, "node_modules"), "dir");
  const target = PACKAGE_JSON.exports["."].import;
  entry = (await import(pathToFileURL(join(pkg, target)).href)) as Record<string, unknown>;
}, 180_000);

afterAll(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

describe("package.json points at the built entry", () => {
  it("exports '.' as an ES module with its types, and main/types agree", () => {
    expect(PACKAGE_JSON.exports["."]).toEqual({ types: "./dist/index.d.ts", import: "./dist/index.js" });
    expect(PACKAGE_JSON.main).toBe(PACKAGE_JSON.exports["."].import);
    expect(PACKAGE_JSON.types).toBe(PACKAGE_JSON.exports["."].types);
    expect(existsSync(join(pkg, PACKAGE_JSON.exports["."].import))).toBe(true);
    expect(existsSync(join(pkg, PACKAGE_JSON.exports["."].types))).toBe(true);
  });

  it("Node resolves the package name through its exports map to the same module", () => {
    const script =
      'const m = await import("intentgate"); console.log(JSON.stringify(Object.keys(m).sort())); ' +
      'console.log(import.meta.resolve("intentgate"));';
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], {
      cwd: dir,
      encoding: "utf8",
    }).split("\n");
    expect(JSON.parse(out[0] as string)).toEqual(Object.keys(entry).sort());
    expect(out[1]).toBe(pathToFileURL(join(pkg, "dist/index.js")).href);
  });
});

describe("the README's Library table is what the package exports", () => {
  const documented = documentedExports();

  it("finds the names it compares", () => {
    expect(documented.values).toContain("signPlan");
    expect(documented.types).toContain("PlanResult");
  });

  it("every documented value is exported, and every exported value documented", () => {
    const exported = Object.keys(entry);
    const missing = documented.values.filter((n) => !exported.includes(n));
    const extra = exported.filter((n) => !documented.values.includes(n));
    expect(missing, `in the README's Library table but not exported: ${missing}`).toEqual([]);
    expect(extra, `exported but not in the README's Library table: ${extra}`).toEqual([]);
  });

  it("every documented type is in index.d.ts, and every exported type documented", () => {
    const exported = typeOnlyExports(readFileSync(join(pkg, "dist/index.d.ts"), "utf8"));
    const missing = documented.types.filter((n) => !exported.includes(n));
    const extra = exported.filter((n) => !documented.types.includes(n));
    expect(missing, `in the README's Library table but not a type export: ${missing}`).toEqual([]);
    expect(extra, `type exports not in the README's Library table: ${extra}`).toEqual([]);
  });
});

describe("what the built package signs passes the executor's gates", () => {
  type Sdk = typeof import("../../src/index.js");
  const sdk = () => entry as unknown as Sdk;

  /** The executor's policy for a config made of generated key snippets. */
  async function policyFor(
    keys: Record<string, unknown>,
    env: Record<string, string>,
    permitsRequired: boolean,
  ) {
    const config = {
      exit_owner: "svc",
      keys,
      sources: { svc: { lanes: ["main"] } },
      permits: {
        required: permitsRequired,
        issuers: Object.keys(keys).filter((k) => k.startsWith("gov")),
      },
      venues: { paper: { prices: { BTCUSDT: "65000" } } },
    };
    return (await parseConfigText(JSON.stringify(config), "json", env)).policy;
  }

  const plan = (planId: string, permit?: string) => ({
    v: 1,
    plan_id: planId,
    source: "svc",
    venue: "paper",
    symbol: "BTCUSDT",
    side: "BUY",
    qty: "0.5",
    created_at: NOW - 1000,
    ...(permit === undefined ? {} : { permit }),
  });

  it("an HMAC-signed plan executes, authenticated", async () => {
    const k = sdk().generateKeyMaterial("hmac-sha256", "svc-hmac", "svc");
    if (k.alg !== "hmac-sha256") throw new Error("expected HMAC material");
    const policy = await policyFor(k.config.keys, { [k.secretEnv]: k.secret }, false);
    const signed = sdk().signPlan({
      plan: plan("pkg-hmac-1"),
      key: { keyId: k.keyId, alg: "hmac-sha256", secret: k.secret },
    });
    const { result } = decide(planEntry(signed.plan, { auth: signed.auth }), policy);
    expect(result).toMatchObject({ decision: "EXECUTED", error: null, authenticated: true });
    expect(sdk().isRegisteredReason("unauthenticated:bad_signature")).toBe(true);
  });

  it("an ed25519-signed plan with an issued permit executes; a tampered one is refused", async () => {
    const producer = sdk().generateKeyMaterial("ed25519", "svc-ed", "svc");
    const issuer = sdk().generateKeyMaterial("ed25519", "gov-1");
    if (producer.alg !== "ed25519" || issuer.alg !== "ed25519") throw new Error("expected ed25519 material");
    const policy = await policyFor({ ...producer.config.keys, ...issuer.config.keys }, {}, true);
    const key = { keyId: producer.keyId, alg: "ed25519" as const, privateKey: producer.privateKey };
    const permit = sdk().issuePermit(
      {
        permit_id: "permit-pkg-1",
        plan_id: "pkg-ed-1",
        symbol: "BTCUSDT",
        side: "BUY",
        max_qty: "1",
        reduce_only: false,
        exp: NOW + 60_000,
      },
      { keyId: issuer.keyId, alg: "ed25519", privateKey: issuer.privateKey },
    );
    const signed = sdk().signPlan({ plan: plan("pkg-ed-1", permit), key });
    const ok = decide(planEntry(signed.plan, { auth: signed.auth }), policy).result;
    expect(ok).toMatchObject({ decision: "EXECUTED", error: null, authenticated: true });

    const tampered = signed.plan.replace('"qty":"0.5"', '"qty":"0.9"');
    const denied = decide(planEntry(tampered, { auth: signed.auth }), policy).result;
    expect(denied).toMatchObject({ decision: "DENIED", error: "unauthenticated:bad_signature" });
    expect(sdk().baseCode(denied.error as string)).toBe("unauthenticated");
  });
});
