/**
 * The documented contracts say what the code does, both ways: every reason
 * code, config key, CLI command (with its options) and exit code the code has
 * is documented, and nothing is documented that the code does not have.
 * Failure messages name the missing or extra item and where it belongs.
 */
import { execFileSync } from "node:child_process";
import { PassThrough } from "node:stream";
import type { Command } from "commander";
import { describe, expect, it } from "vitest";
import { EXIT, EXIT_MEANINGS } from "../../src/apps/cli/exitCodes.js";
import { buildProgram } from "../../src/apps/cli/main.js";
import { configSchema } from "../../src/config/configSchema.js";
import { REASON_REGISTRY } from "../../src/core/reasons.js";
import { SIGNER_DENY_CODES } from "../../src/ports/signingPlane.js";
import { codeSpans, markdownSection, repoText, tableRows } from "./docTables.js";

const README = repoText("README.md");
const WIRE = repoText("docs/wire-contract.md");
const CONFIG_DOC = repoText("docs/configuration.md");
const SIGNING_DOC = repoText("docs/signing-plane.md");

/** `[missing, extra]`: what `expected` has that `documented` lacks, and the reverse, in order. */
function difference(expected: readonly string[], documented: readonly string[]): [string[], string[]] {
  const doc = new Set(documented);
  const exp = new Set(expected);
  return [expected.filter((x) => !doc.has(x)), documented.filter((x) => !exp.has(x))];
}

// ---------------------------------------------------------------------------
// (a) reason codes ↔ docs/wire-contract.md §6

const TABLE_BEGIN = /<!-- reason-table:begin[^>]*-->\n/;
const TABLE_END = "<!-- reason-table:end -->";

/** The generated reason table between the markers of docs/wire-contract.md. */
function contractReasonTable(): string {
  const begin = TABLE_BEGIN.exec(WIRE);
  const end = WIRE.indexOf(TABLE_END);
  if (!begin || end < 0) throw new Error("docs/wire-contract.md has no reason-table markers");
  return WIRE.slice(begin.index + begin[0].length, end).trim();
}

/** Every reason the registry allows, as the contract table names them: `code` (bare), `code:…`, `code:<detail>`. */
function registeredReasons(): string[] {
  return Object.entries(REASON_REGISTRY).flatMap(([code, spec]) => [
    spec.bare ? code : `${code}:…`,
    ...Object.keys(spec.details).map((d) => `${code}:${d}`),
  ]);
}

describe("reason codes ↔ docs/wire-contract.md §6", () => {
  const documented = tableRows(contractReasonTable()).map((cells) => codeSpans(cells[0] ?? "")[0] ?? "");

  it("documents every registered code and detail", () => {
    const [missing] = difference(registeredReasons(), documented);
    expect(missing, `registered but missing from docs/wire-contract.md §6: ${missing.join(", ")}`).toEqual(
      [],
    );
  });

  it("documents no code or detail the registry does not have", () => {
    const [, extra] = difference(registeredReasons(), documented);
    expect(extra, `in docs/wire-contract.md §6 but not registered: ${extra.join(", ")}`).toEqual([]);
  });

  it("is the table the registry generates, row for row (gate, decisions, meaning)", () => {
    const generated = execFileSync(
      process.execPath,
      ["--import", "tsx", "scripts/reasonTables.ts", "--contract"],
      { cwd: new URL("../..", import.meta.url), encoding: "utf8" },
    ).trim();
    const want = generated.split("\n");
    const have = contractReasonTable().split("\n");
    const differing = [
      ...want.filter((row) => !have.includes(row)).map((row) => `missing: ${row}`),
      ...have.filter((row) => !want.includes(row)).map((row) => `extra: ${row}`),
    ];
    expect(
      differing,
      "docs/wire-contract.md §6 differs from the registry in these rows; paste the output of " +
        `\`npx tsx scripts/reasonTables.ts --contract\` between the markers:\n${differing.join("\n")}`,
    ).toEqual([]);
    expect(have).toEqual(want);
  });
});

// ---------------------------------------------------------------------------
// (b) config keys ↔ docs/configuration.md

interface ConfigLeaf {
  /** Dotted path; a record key is `<*>`. */
  readonly path: string;
  /** The schema's default, when it has one. */
  readonly default?: unknown;
}

/** A zod schema's internal definition, as far as the walk reads it. */
interface ZodDef {
  readonly type: string;
  readonly innerType?: Walkable;
  readonly defaultValue?: unknown;
  readonly in?: Walkable;
  readonly shape?: Readonly<Record<string, Walkable>>;
  readonly options?: readonly Walkable[];
  readonly valueType?: Walkable;
}
interface Walkable {
  readonly _zod: { readonly def: ZodDef };
}

/** Every leaf key path of a zod schema: objects and unions are walked, records become `<*>`. */
function configLeaves(schema: Walkable): ConfigLeaf[] {
  const out = new Map<string, ConfigLeaf>();
  const walk = (s: Walkable, path: string, dflt: unknown): void => {
    const def = s._zod.def;
    if (def.type === "optional" || def.type === "nullable") walk(def.innerType!, path, dflt);
    else if (def.type === "default" || def.type === "prefault")
      walk(def.innerType!, path, dflt === undefined ? def.defaultValue : dflt);
    else if (def.type === "pipe") walk(def.in!, path, dflt);
    else if (def.type === "object")
      for (const [k, v] of Object.entries(def.shape!)) walk(v, path === "" ? k : `${path}.${k}`, undefined);
    else if (def.type === "union") for (const o of def.options!) walk(o, path, dflt);
    else if (def.type === "record") walk(def.valueType!, `${path}.<*>`, undefined);
    else if (!out.has(path)) out.set(path, dflt === undefined ? { path } : { path, default: dflt });
  };
  walk(schema, "", undefined);
  return [...out.values()];
}

/** A documented key with its placeholders (`<id>`, `<symbol>`) written `<*>`. */
const normalizeKey = (key: string): string => key.replace(/<[^>]+>/g, "<*>");

describe("config keys ↔ docs/configuration.md", () => {
  const leaves = configLeaves(configSchema as unknown as Walkable);
  const rows = tableRows(markdownSection(CONFIG_DOC, "## Keys"));
  const documented = new Map(rows.map((cells) => [normalizeKey(codeSpans(cells[0] ?? "")[0] ?? ""), cells]));

  it("finds the keys it compares", () => {
    expect(leaves.map((l) => l.path)).toContain("limits.max_qty.<*>");
    expect(leaves.map((l) => l.path)).toContain("signing.signer_config");
    expect(documented.size).toBeGreaterThan(40);
  });

  it("documents every key the schema accepts", () => {
    const [missing] = difference(
      leaves.map((l) => l.path),
      [...documented.keys()],
    );
    expect(missing, `accepted by configSchema but missing from docs/configuration.md: ${missing}`).toEqual(
      [],
    );
  });

  it("documents no key the schema refuses", () => {
    const [, extra] = difference(
      leaves.map((l) => l.path),
      [...documented.keys()],
    );
    expect(extra, `in docs/configuration.md but not accepted by configSchema: ${extra}`).toEqual([]);
  });

  it("documents every schema default as the schema has it", () => {
    const wrong = leaves
      .filter((l) => "default" in l)
      .flatMap((l) => {
        const want = `\`${typeof l.default === "string" ? l.default : JSON.stringify(l.default)}\``;
        const cell = documented.get(l.path)?.[2] ?? "";
        return cell.includes(want) ? [] : [`${l.path}: default ${want}, documented ${cell || "(nothing)"}`];
      });
    expect(
      wrong,
      `docs/configuration.md's default column differs from configSchema: ${wrong.join("; ")}`,
    ).toEqual([]);
  });

  it("the README's configuration table names only keys the schema accepts", () => {
    const readmeKeys = tableRows(markdownSection(README, "## Configuration"))
      .map((cells) => normalizeKey(codeSpans(cells[0] ?? "")[0] ?? ""))
      .filter((k) => k !== "");
    const paths = leaves.map((l) => l.path);
    const unknown = readmeKeys.filter((k) => !paths.some((p) => p === k || p.startsWith(`${k}.`)));
    expect(unknown, `in the README's configuration table but not in configSchema: ${unknown}`).toEqual([]);
  });
});

// ---------------------------------------------------------------------------
// (c) CLI commands ↔ the README's CLI table

/** The program's runnable commands: path → its long options (and `--help` left out). */
function programCommands(): Map<string, string[]> {
  const sink = new PassThrough();
  const program = buildProgram({ stdout: sink, stderr: sink, env: {} }, () => undefined);
  const out = new Map<string, string[]>();
  const walk = (cmd: Command, path: readonly string[]): void => {
    for (const sub of cmd.commands) {
      const full = [...path, sub.name()];
      // A group (`vault`, `state`) has subcommands and nothing of its own; `signer` has both.
      const runnable =
        sub.commands.length === 0 || sub.options.length > 0 || sub.registeredArguments.length > 0;
      if (runnable)
        out.set(
          full.join(" "),
          sub.options.map((o) => o.long ?? "").filter((l) => l !== ""),
        );
      walk(sub, full);
    }
  };
  walk(program, []);
  return out;
}

/** A documented invocation, `intentgate vault add --file F …`: its command words and the options it names. */
function parseInvocation(text: string): { command: string; options: string[] } {
  const words = text.split(/\s+/);
  if (words[0] !== "intentgate") return { command: `(not an intentgate command: ${text})`, options: [] };
  const command: string[] = [];
  for (const w of words.slice(1)) {
    if (!/^[a-z][a-z0-9-]*$/.test(w)) break;
    command.push(w);
  }
  return { command: command.join(" "), options: [...new Set(text.match(/--[a-z][a-z0-9-]*/g) ?? [])] };
}

/** The invocations a doc's command table lists (the first code span of each row). */
function documentedCommands(section: string): Array<{ command: string; options: string[] }> {
  return tableRows(section)
    .map((cells) => codeSpans(cells[0] ?? "")[0])
    .filter((span): span is string => span?.startsWith("intentgate") === true)
    .map(parseInvocation);
}

describe("CLI commands ↔ the README's CLI table", () => {
  const program = programCommands();
  const readme = documentedCommands(markdownSection(README, "## CLI"));

  it("finds the commands it compares", () => {
    expect([...program.keys()]).toEqual(expect.arrayContaining(["executor", "signer", "signer token gen"]));
    expect(readme.length).toBeGreaterThan(20);
  });

  it("documents every command, and no command the CLI does not have", () => {
    const [missing, extra] = difference(
      [...program.keys()],
      readme.map((r) => r.command),
    );
    expect(missing, `commands missing from the README's CLI table: ${missing}`).toEqual([]);
    expect(extra, `commands in the README's CLI table that the CLI does not have: ${extra}`).toEqual([]);
  });

  it("lists every option of every command, and no option it does not have", () => {
    const wrong = readme.flatMap(({ command, options }) => {
      const real = program.get(command) ?? [];
      const [missing, extra] = difference(real, options);
      return [
        ...missing.map((o) => `${command}: ${o} is not in its README row`),
        ...extra.map((o) => `${command}: the README row names ${o}, which it does not have`),
      ];
    });
    expect(wrong, `the README's CLI table: ${wrong.join("; ")}`).toEqual([]);
  });

  it("docs/wire-contract.md §8 names only commands and options the CLI has", () => {
    const wire = documentedCommands(markdownSection(WIRE, "## 8. Configuration, commands and probes"));
    expect(wire.length).toBeGreaterThan(5);
    const wrong = wire.flatMap(({ command, options }) => {
      const real = program.get(command);
      if (real === undefined) return [`no command "${command}"`];
      return options.filter((o) => !real.includes(o)).map((o) => `${command}: no option ${o}`);
    });
    expect(wrong, `docs/wire-contract.md §8: ${wrong.join("; ")}`).toEqual([]);
  });
});

// ---------------------------------------------------------------------------
// (d) exit codes ↔ the README's exit-code table

describe("exit codes ↔ the README's exit-code table", () => {
  const rows = tableRows(markdownSection(README, "### Exit codes"));
  const documented = new Map(rows.map((cells) => [codeSpans(cells[0] ?? "")[0] ?? "", cells[1] ?? ""]));

  it("the meanings table covers exactly the codes the CLI uses", () => {
    expect(Object.keys(EXIT_MEANINGS).map(Number).sort()).toEqual(Object.values(EXIT).sort());
  });

  it("documents every exit code, and no other", () => {
    const [missing, extra] = difference(Object.keys(EXIT_MEANINGS), [...documented.keys()]);
    expect(missing, `exit codes missing from the README: ${missing}`).toEqual([]);
    expect(extra, `exit codes in the README that the CLI never uses: ${extra}`).toEqual([]);
  });

  it("says what src/apps/cli/exitCodes.ts says each code means", () => {
    const wrong = Object.entries(EXIT_MEANINGS)
      .filter(([code, meaning]) => documented.get(code) !== meaning)
      .map(([code, meaning]) => `${code}: README "${documented.get(code)}", code "${meaning}"`);
    expect(wrong, `the README's exit-code table differs from exitCodes.ts: ${wrong.join("; ")}`).toEqual([]);
  });
});

// ---------------------------------------------------------------------------
// (e) signer deny codes ↔ docs/signing-plane.md §3

describe("signer deny codes ↔ docs/signing-plane.md §3", () => {
  it("lists the registry's deny codes in authorization order, and no other", () => {
    const documented = tableRows(markdownSection(SIGNING_DOC, "## Authorization (§3)")).map(
      (cells) => (codeSpans(cells[0] ?? "")[0] ?? "").split(":")[0] as string,
    );
    const [missing, extra] = difference(SIGNER_DENY_CODES, documented);
    expect(missing, `deny codes missing from docs/signing-plane.md §3: ${missing}`).toEqual([]);
    expect(extra, `in docs/signing-plane.md §3 but not a deny code: ${extra}`).toEqual([]);
    expect(documented).toEqual([...SIGNER_DENY_CODES]);
  });
});
