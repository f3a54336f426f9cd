import type { ScriptCall, ScriptName } from "./luaScripts.js";

/**
 * Each script's KEYS and ARGV by name, in the order the script's header
 * (`lua/<name>.lua`, "Input") lists them; `keysRest` / `argvRest` name a
 * variable-length tail after the fixed slots. Callers build their arguments
 * from these lists ({@link scriptArgs}, {@link orderedArgs}), and
 * `luaContract.test.ts` compares the lists with the headers, so a slot added,
 * dropped or moved on one side only fails the test.
 */
export interface ScriptInput {
  readonly keys: readonly string[];
  readonly keysRest?: string;
  readonly argv: readonly string[];
  readonly argvRest?: string;
}

/** Per script: its named KEYS and ARGV, in header order. */
export const SCRIPT_INPUTS = {
  commit: {
    keys: [
      "planMain",
      "planManual",
      "result",
      "dlq",
      "state",
      "planIds",
      "permits",
      "positions",
      "sends",
      "deployment",
      "orders",
      "orderEvent",
      "unknowns",
      "daily",
      "booksReady",
    ],
    keysRest: "rateCounters",
    argv: [
      "group",
      "consumer",
      "decisions",
      "recordsLength",
      "rateChecks",
      "planIds",
      "permitIds",
      "positionFields",
      "mainLo",
      "mainHi",
      "mainCount",
      "manualLo",
      "manualHi",
      "manualCount",
      "deployment",
      "orderKeys",
      "dupKeys",
      "dailyFields",
      "openOrders",
      "exposureAccounts",
      "booksPrefix",
    ],
    argvRest: "records",
  },
  finishSend: {
    keys: ["planStream", "result", "sends", "unknowns", "deployment", "orders", "positions"],
    argv: [
      "group",
      "streamId",
      "field",
      "result",
      "unknown",
      "deployment",
      "orderKey",
      "orderText",
      "posField",
      "posExpected",
      "posValue",
      "booksPrefix",
    ],
  },
  reconcile: {
    keys: ["result", "unknowns", "deployment", "orders", "positions"],
    argv: [
      "field",
      "result",
      "deployment",
      "orderKey",
      "orderText",
      "posField",
      "posExpected",
      "posValue",
      "booksPrefix",
    ],
  },
  initDeployment: {
    keys: ["deployment", "planMain", "planManual", "state", "stateLog"],
    argv: ["id", "replace", "group", "state", "who", "at"],
  },
  holdLease: {
    keys: ["lease"],
    argv: ["owner", "ttlMs"],
  },
  updateOrders: {
    keys: ["orders", "positions", "orderEvent", "deployment"],
    argv: ["deployment", "count", "booksPrefix"],
    argvRest: "updates",
  },
  buildBooks: {
    keys: ["positions", "orders", "sends", "unknowns", "booksReady", "deployment"],
    argv: ["booksPrefix", "deployment"],
  },
} as const satisfies Record<ScriptName, ScriptInput>;

/** The names of a script's fixed KEYS. */
export type KeyName<S extends ScriptName> = (typeof SCRIPT_INPUTS)[S]["keys"][number];
/** The names of a script's fixed ARGV. */
export type ArgName<S extends ScriptName> = (typeof SCRIPT_INPUTS)[S]["argv"][number];

/** The values of `names`, in the list's order: every name must have a value. */
export function orderedArgs<N extends string>(
  names: readonly N[],
  values: Readonly<Record<N, string>>,
): string[] {
  return names.map((name) => values[name]);
}

/** KEYS and ARGV of a call to a script without variable-length tails, from named values. */
export function scriptArgs<S extends ScriptName>(
  script: S,
  values: {
    readonly keys: Readonly<Record<KeyName<S>, string>>;
    readonly argv: Readonly<Record<ArgName<S>, string>>;
  },
): ScriptCall {
  const input: ScriptInput = SCRIPT_INPUTS[script];
  return {
    keys: orderedArgs(input.keys as readonly KeyName<S>[], values.keys),
    argv: orderedArgs(input.argv as readonly ArgName<S>[], values.argv),
  };
}
