import { readFileSync } from "node:fs";
import type { Redis } from "ioredis";

/**
 * The Lua scripts in `lua/`, one file each, with their contract (KEYS, ARGV,
 * reply codes, errors) in the file's header. Their inputs are named in
 * `scriptInputs.ts` and their reply codes in `conflictCodes.ts`; the
 * contract test (`luaContract.test.ts`) checks the three agree.
 */
export const SCRIPT_NAMES = [
  "commit",
  "finishSend",
  "reconcile",
  "initDeployment",
  "updateOrders",
  "holdLease",
  "buildBooks",
] as const;

/** A script's name: its file is `lua/<name>.lua`. */
export type ScriptName = (typeof SCRIPT_NAMES)[number];

/**
 * Where a script's source is: `lua/<name>.lua` next to this module, under
 * `src/` (vitest, tsx) and under `dist/` alike (`scripts/copyAssets.mjs`
 * copies the `.lua` files there at build).
 */
export function scriptUrl(name: ScriptName): URL {
  return new URL(`./lua/${name}.lua`, import.meta.url);
}

/** Every script's source, read once when this module loads (a missing file fails the import). */
export const LUA_SOURCES: Readonly<Record<ScriptName, string>> = Object.fromEntries(
  SCRIPT_NAMES.map((name) => [name, readFileSync(scriptUrl(name), "utf8")]),
) as Record<ScriptName, string>;

/** Code the scripts share, in `lua/lib/<name>.lua`: prepended to each script that lists it. */
export const LIBRARY_NAMES = ["books"] as const;

/** A library's name: its file is `lua/lib/<name>.lua`. */
export type LibraryName = (typeof LIBRARY_NAMES)[number];

/** Every library's source, read once when this module loads. */
export const LUA_LIBRARIES: Readonly<Record<LibraryName, string>> = Object.fromEntries(
  LIBRARY_NAMES.map((name) => [
    name,
    readFileSync(new URL(`./lua/lib/${name}.lua`, import.meta.url), "utf8"),
  ]),
) as Record<LibraryName, string>;

/**
 * The libraries each script runs with. `books` goes to every script that
 * writes positions, working orders, send records or open UNKNOWNs: each
 * keeps the accounts' books in the same step (lua/lib/books.lua).
 */
export const SCRIPT_LIBRARIES: Readonly<Record<ScriptName, readonly LibraryName[]>> = {
  commit: ["books"],
  finishSend: ["books"],
  reconcile: ["books"],
  initDeployment: [],
  updateOrders: ["books"],
  holdLease: [],
  buildBooks: ["books"],
};

/** What Redis runs for a script: its libraries, then its file. */
export function scriptSource(name: ScriptName): string {
  return [...SCRIPT_LIBRARIES[name].map((lib) => LUA_LIBRARIES[lib]), LUA_SOURCES[name]].join("\n");
}

/** KEYS and ARGV of one script call, in the order the script's header lists them. */
export interface ScriptCall {
  readonly keys: readonly string[];
  readonly argv: ReadonlyArray<string | Buffer>;
}

type ScriptFn = (
  numKeys: number,
  keys: readonly string[],
  argv: ReadonlyArray<string | Buffer>,
) => Promise<unknown>;

/** The ioredis command a script is registered as (a client-side name only). */
const commandName = (name: ScriptName): string => `intentgate_${name}`;

/** Registers every script on a connection: ioredis then sends EVALSHA, and the source once when Redis lacks it. */
export function defineScripts(conn: Redis): void {
  for (const name of SCRIPT_NAMES) conn.defineCommand(commandName(name), { lua: scriptSource(name) });
}

/** Runs a script registered by {@link defineScripts} and resolves with its raw reply. */
export function runScript(conn: Redis, name: ScriptName, call: ScriptCall): Promise<unknown> {
  const run = (conn as unknown as Record<string, ScriptFn | undefined>)[commandName(name)];
  if (run === undefined) throw new Error(`redis: script ${name} is not defined on this connection`);
  // ioredis flattens array arguments one level: no spread of a few thousand arguments
  return run.call(conn, call.keys.length, call.keys, call.argv);
}
