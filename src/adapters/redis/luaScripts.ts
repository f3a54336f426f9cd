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
  for (const name of SCRIPT_NAMES) conn.defineCommand(commandName(name), { lua: LUA_SOURCES[name] });
}

/** Runs a script registered by {@link defineScripts} and resolves with its raw reply. */
export function runScript(conn: Redis, name: ScriptName, call: ScriptCall): Promise<unknown> {
  const run = (conn as unknown as Record<string, ScriptFn | undefined>)[commandName(name)];
  if (run === undefined) throw new Error(`redis: script ${name} is not defined on this connection`);
  // ioredis flattens array arguments one level: no spread of a few thousand arguments
  return run.call(conn, call.keys.length, call.keys, call.argv);
}
