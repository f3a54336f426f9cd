import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { decisionFor } from "../../../test/conformance/backendConformance.js";
import { PAPER_BOOK } from "../../../test/support/coreFixtures.js";
import type { Decision } from "../../core/decision.js";
import { encodeWorkingOrder } from "../../core/workingOrder.js";
import { RATE_COUNTER_TTL_MS } from "../../ports/ledger.js";
import { buildCommitCall } from "./commitArgs.js";
import { ERROR_REPLIES, REPLY_CODES } from "./conflictCodes.js";
import {
  LUA_SOURCES,
  SCRIPT_LIBRARIES,
  SCRIPT_NAMES,
  type ScriptName,
  scriptSource,
  scriptUrl,
} from "./luaScripts.js";
import { redisKeys } from "./redisKeys.js";
import { buildUpdateOrdersCall } from "./redisOrders.js";
import { SCRIPT_INPUTS, type ScriptInput, scriptArgs } from "./scriptInputs.js";

/**
 * The contract between the Lua scripts (lua/*.lua) and the TypeScript that
 * calls them, checked both ways: each header's Input against
 * `SCRIPT_INPUTS`, each header's Output and each script's `-- reply`
 * constants against `REPLY_CODES`, its error replies against `ERROR_REPLIES`.
 */

interface Slot {
  readonly index: number;
  readonly rest: boolean;
  readonly name: string;
}

interface ParsedScript {
  readonly keys: Slot[];
  readonly argv: Slot[];
  /** Output codes listed in the header: code → name. */
  readonly outputs: Map<number | string, string>;
  /** Error prefixes listed in the header. */
  readonly headerErrors: string[];
  /** `local NAME = code -- reply` constants: code → NAME. */
  readonly constants: Map<number | string, string>;
  /** The code after the header. */
  readonly body: string;
}

const code = (text: string): number | string => (text.startsWith("'") ? text.slice(1, -1) : Number(text));
const upperSnake = (name: string): string => name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();

/** The lines of a header section: from its heading to the next empty comment line. */
function section(header: string[], heading: RegExp): string[] {
  const at = header.findIndex((l) => heading.test(l));
  if (at < 0) return [];
  const end = header.indexOf("--", at);
  return header.slice(at + 1, end < 0 ? undefined : end);
}

function parse(source: string): ParsedScript {
  const lines = source.split("\n");
  const headerEnd = lines.findIndex((l) => !l.startsWith("--"));
  const header = lines.slice(0, headerEnd);
  const body = lines.slice(headerEnd).join("\n");
  const slots = (kind: "KEYS" | "ARGV"): Slot[] =>
    section(header, /^-- Input$/).flatMap((l) => {
      const m = /^--\s+(KEYS|ARGV)\[(\d+)(\.\.)?\]\s+(\w+):/.exec(l);
      return m && m[1] === kind ? [{ index: Number(m[2]), rest: m[3] !== undefined, name: m[4]! }] : [];
    });
  const outputs = new Map<number | string, string>();
  for (const l of section(header, /^-- Output$/)) {
    const m = /^--\s+('[^']*'|-?\d+)\s+(\w+):/.exec(l);
    if (m) outputs.set(code(m[1]!), m[2]!);
  }
  const headerErrors = section(header, /^-- Errors/).flatMap((l) => {
    const m = /^--\s+error '([^']*)'/.exec(l);
    return m ? [m[1]!] : [];
  });
  const constants = new Map<number | string, string>();
  for (const m of body.matchAll(/^local ([A-Z_]+) = ('[^']*'|-?\d+) -- reply$/gm))
    constants.set(code(m[2]!), m[1]!);
  return { keys: slots("KEYS"), argv: slots("ARGV"), outputs, headerErrors, constants, body };
}

/** The slots a named input list stands for: 1..n, then the tail at n + 1. */
function expectedSlots(names: readonly string[], rest: string | undefined): Slot[] {
  const slots = names.map((name, i) => ({ index: i + 1, rest: false, name }));
  return rest === undefined ? slots : [...slots, { index: names.length + 1, rest: true, name: rest }];
}

const scripts = Object.fromEntries(SCRIPT_NAMES.map((n) => [n, parse(LUA_SOURCES[n])])) as Record<
  ScriptName,
  ParsedScript
>;

describe("Lua scripts and their TypeScript callers agree (lua/*.lua headers)", () => {
  it("every file in lua/ is a known script, and every known script has its file", () => {
    const dir = fileURLToPath(new URL("./lua/", import.meta.url));
    const files = readdirSync(dir).filter((f) => f.endsWith(".lua"));
    expect(files.sort()).toEqual(SCRIPT_NAMES.map((n) => `${n}.lua`).sort());
    for (const n of SCRIPT_NAMES) expect(LUA_SOURCES[n]).toBe(readFileSync(scriptUrl(n), "utf8"));
  });

  describe.each(SCRIPT_NAMES)("%s.lua", (name) => {
    const s = scripts[name];
    const input: ScriptInput = SCRIPT_INPUTS[name];

    it("lists the KEYS and ARGV the TypeScript side names, in the same order", () => {
      expect(s.keys).toEqual(expectedSlots(input.keys, input.keysRest));
      expect(s.argv).toEqual(expectedSlots(input.argv, input.argvRest));
    });

    it("returns exactly the reply codes of REPLY_CODES, declared as `-- reply` constants and listed in Output", () => {
      const table = new Map(
        Object.entries(REPLY_CODES[name]).map(([n, c]) => [c.code as number | string, n]),
      );
      expect(table.size).toBeGreaterThan(0);
      expect(s.outputs).toEqual(table);
      expect(s.constants).toEqual(new Map([...table].map(([c, n]) => [c, upperSnake(n)])));
    });

    it("uses every reply constant, and returns no code as a bare literal", () => {
      for (const constant of s.constants.values()) {
        const uses = s.body.match(new RegExp(`\\b${constant}\\b`, "g")) ?? [];
        expect(uses.length, `${constant} is declared but never returned`).toBeGreaterThan(1);
      }
      expect(s.body).not.toMatch(/\breturn\s+\{?\s*(-?\d|')/);
      expect(s.body).not.toMatch(/\b(out\[[^\]]*\]|lost\[i\]|bad)\s*=\s*(-?\d|')/);
    });

    it("gives exactly the error replies of ERROR_REPLIES, and lists them in its header", () => {
      const table: ReadonlyArray<{ readonly prefix: string | null }> = ERROR_REPLIES[name];
      const literal = [...s.body.matchAll(/error_reply\('([^']*)'/g)].map((m) => m[1]!);
      const passedOn = (s.body.match(/error_reply\((?!')/g) ?? []).length;
      const prefixes = table.flatMap((e) => (e.prefix === null ? [] : [e.prefix]));
      expect(new Set(literal)).toEqual(new Set(prefixes));
      expect(new Set(s.headerErrors)).toEqual(new Set(prefixes));
      expect(passedOn).toBe(table.filter((e) => e.prefix === null).length);
    });
  });

  it("every script that is passed the positions, orders, sends or unknowns hash keeps the accounts' books (lua/lib/books.lua)", () => {
    const mirrored = new Set(["positions", "orders", "sends", "unknowns"]);
    const writers = SCRIPT_NAMES.filter((n) => SCRIPT_INPUTS[n].keys.some((k: string) => mirrored.has(k)));
    expect(writers.sort()).toEqual(["buildBooks", "commit", "finishSend", "reconcile", "updateOrders"]);
    for (const n of writers) {
      expect(SCRIPT_LIBRARIES[n], n).toContain("books");
      expect(scripts[n].body, n).toMatch(/\bBooks\.flush\(/);
    }
    for (const n of SCRIPT_NAMES) {
      const runs = scriptSource(n);
      expect(runs.endsWith(LUA_SOURCES[n]), n).toBe(true);
      expect(runs.includes("local Books = {}"), n).toBe(SCRIPT_LIBRARIES[n].includes("books"));
    }
  });

  it("commit.lua expires rate counters after the ledger contract's RATE_COUNTER_TTL_MS", () => {
    const ttl = /^local RATE_TTL_SECONDS = (\d+) --/m.exec(LUA_SOURCES.commit)?.[1];
    expect(Number(ttl) * 1000).toBe(RATE_COUNTER_TTL_MS);
  });

  it("commit.lua reads its variable-length tails where the header says they start", () => {
    const { body } = scripts.commit;
    const constant = (n: string) => Number(new RegExp(`^local ${n} = (\\d+)$`, "m").exec(body)?.[1]);
    expect(constant("REC")).toBe(SCRIPT_INPUTS.commit.argv.length + 1);
    expect(constant("RATE_KEYS")).toBe(SCRIPT_INPUTS.commit.keys.length + 1);
  });

  it("the commit call puts each named value in its slot, then the tails", () => {
    const keys = redisKeys("p:");
    const d: Decision = {
      lane: "manual",
      streamId: "5-1",
      result: {
        v: 1,
        action: "place",
        plan_id: "p1",
        stream_id: "5-1",
        lane: "manual",
        authenticated: true,
        source: "s",
        venue: "paper",
        account: "default",
        symbol: "X",
        side: "BUY",
        qty: "1",
        reduce_only: false,
        executed: true,
        decision: "EXECUTED",
        error: null,
        mode: "paper",
        client_order_id: null,
        order_id: null,
        fill_qty: "1",
        avg_price: "1",
        timestamp: 1,
      },
      checks: { rate: { source: "s", window: 7, limit: 3, allowed: true } },
      effects: { countRate: { source: "s", window: 7 } },
    };
    const call = buildCommitCall({ keys, decisions: [d], deployment: "dep-1", consumer: "c1" });
    const names = SCRIPT_INPUTS.commit;
    expect(call.keys.slice(0, names.keys.length)).toEqual(names.keys.map((k) => keys[k]));
    expect(call.keys.slice(names.keys.length)).toEqual([keys.rate("s", 7)]);
    const arg = (n: (typeof names.argv)[number]) => call.argv[names.argv.indexOf(n)];
    expect(arg("deployment")).toBe("dep-1");
    expect(arg("consumer")).toBe("c1");
    expect(arg("decisions")).toBe("1");
    expect(arg("manualLo")).toBe("5-1");
    expect(arg("mainLo")).toBe("");
    const records = Number(arg("recordsLength"));
    // the record: 18 header codes, stream id, result JSON, the rate check number
    expect(call.argv.slice(names.argv.length, names.argv.length + records)).toEqual([
      "x---a---=--------------",
      "5-1",
      JSON.stringify(d.result),
      "1",
    ]);
    // then the rate check as [KEYS index, limit]
    expect(call.argv.slice(names.argv.length + records)).toEqual([String(names.keys.length + 1), "3"]);
  });

  it("the commit call carries working-order checks and effects as header codes 13-16, then the keys once", () => {
    const keys = redisKeys("p:");
    const order = {
      key: "k1",
      plan_id: "p1",
      source: "s",
      lane: "main",
      stream_id: "5-1",
      venue: "paper",
      mode: "paper",
      account: "a",
      symbol: "X",
      side: "BUY",
      qty: "1",
      price: "2",
      reduce_only: false,
      client_order_id: "c",
      order_id: "o",
      fill_qty: "0",
      placed_at: 1,
    } as const;
    const event = { v: 1, plan_id: "p0", venue: "paper", account: "a", symbol: "X" } as never;
    const base = {
      lane: "main",
      streamId: "5-1",
      result: { v: 1 } as never,
    } as const;
    const d: Decision = {
      ...base,
      checks: {
        workingOrders: [
          { key: "k0", expected: '{"x":1}' },
          { key: "k1", expected: null },
        ],
      },
      effects: { openOrder: order, closeOrders: ["k0"], orderEvents: [event] },
    };
    const call = buildCommitCall({ keys, decisions: [d], deployment: "dep-1" });
    const names = SCRIPT_INPUTS.commit;
    expect(call.keys.slice(names.keys.indexOf("orders"), names.keys.indexOf("orderEvent") + 1)).toEqual([
      keys.orders,
      keys.orderEvent,
    ]);
    const arg = (n: (typeof names.argv)[number]) => call.argv[names.argv.indexOf(n)];
    expect(arg("orderKeys")).toBe("2");
    const records = Number(arg("recordsLength"));
    expect(call.argv.slice(names.argv.length, names.argv.length + records)).toEqual([
      "m-----------1111-------",
      "5-1",
      JSON.stringify(d.result),
      "2",
      "k0",
      "p",
      '{"x":1}',
      "k1",
      "a",
      "",
      "k1",
      encodeWorkingOrder(order),
      "1",
      "k0",
      "1",
      JSON.stringify(event),
    ]);
    // the keys named, each once, after the (empty) position fields
    expect(call.argv.slice(names.argv.length + records)).toEqual(["k0", "k1"]);
  });

  it("the commit call carries account caps as header codes 19-21, the daily fields after the working-order keys", () => {
    const keys = redisKeys("p:");
    const base = decisionFor({ lane: "main", id: "6-1" });
    const today = { account: "a", day: "2026-12-06" };
    const d1: Decision = {
      ...base,
      checks: {
        dailyNotional: { ...today, expected: "0" },
        openOrders: { account: "a", limit: 5, allowed: true },
      },
      effects: { setDailyNotional: { ...today, value: "12.5" } },
    };
    const d2: Decision = {
      ...base,
      streamId: "6-2",
      checks: { openOrders: { account: "b", limit: 1, allowed: false } },
      effects: { setDailyNotional: { account: "b", day: "2026-12-06", value: "1" } },
    };
    const call = buildCommitCall({ keys, decisions: [d1, d2], deployment: "dep-1" });
    const names = SCRIPT_INPUTS.commit;
    const arg = (n: (typeof names.argv)[number]) => call.argv[names.argv.indexOf(n)];
    expect(arg("dailyFields")).toBe("2");
    expect(arg("openOrders")).toBe("1");
    expect(call.keys[names.keys.indexOf("daily")]).toBe("p:daily");
    expect(call.keys[names.keys.indexOf("unknowns")]).toBe(keys.unknowns);
    const records = call.argv.slice(names.argv.length, names.argv.length + Number(arg("recordsLength")));
    expect(records).toEqual([
      "m-----------------1=a--",
      "6-1",
      JSON.stringify(d1.result),
      '["a","2026-12-06"]',
      "0",
      "12.5",
      "a",
      "5",
      "m------------------1d--",
      "6-2",
      JSON.stringify(d2.result),
      '["b","2026-12-06"]',
      "1",
      "b",
      "1",
    ]);
    expect(call.argv.slice(-2)).toEqual(['["a","2026-12-06"]', '["b","2026-12-06"]']);
    // no open-order check in the batch: nothing is counted
    const plain = buildCommitCall({ keys, decisions: [base], deployment: "dep-1" });
    expect(plain.argv[names.argv.indexOf("openOrders")]).toBe("");
    expect(() =>
      buildCommitCall({
        keys,
        decisions: [{ ...base, checks: { openOrders: { account: "a", limit: 0, allowed: false } } }],
        deployment: "dep-1",
      }),
    ).toThrow(RangeError);
  });

  it("the commit call carries duplicate-order checks and marks as header codes 17-18, the marks' keys after the rate counters", () => {
    const keys = redisKeys("p:");
    const base = decisionFor({ lane: "main", id: "5-1" });
    const key = '["s","a","BTCUSDT","BUY","1","",false]';
    const d1: Decision = {
      ...base,
      checks: {
        rate: { source: "s", window: 7, limit: 3, allowed: true },
        duplicate: { key, expected: null },
      },
      effects: { countRate: { source: "s", window: 7 }, markDuplicate: { key, at: 1000, ttlMs: 2000 } },
    };
    const d2: Decision = {
      ...base,
      streamId: "5-2",
      checks: { duplicate: { key, expected: "1000" } },
      effects: {},
    };
    const call = buildCommitCall({ keys, decisions: [d1, d2], deployment: "dep-1" });
    const names = SCRIPT_INPUTS.commit;
    expect(call.keys.slice(names.keys.length)).toEqual([keys.rate("s", 7), keys.duplicate(key)]);
    expect(keys.duplicate(key)).toBe(`p:dup:${key}`);
    const arg = (n: (typeof names.argv)[number]) => call.argv[names.argv.indexOf(n)];
    expect(arg("dupKeys")).toBe("1");
    const records = call.argv.slice(names.argv.length, names.argv.length + Number(arg("recordsLength")));
    expect(records).toEqual([
      "m---a---=-------11-----",
      "5-1",
      JSON.stringify(d1.result),
      "1",
      "1",
      "",
      "1",
      "1000",
      "2000",
      "m---------------1------",
      "5-2",
      JSON.stringify(d2.result),
      "1",
      "1000",
    ]);
    expect(() =>
      buildCommitCall({
        keys,
        decisions: [{ ...d1, effects: { markDuplicate: { key, at: 1, ttlMs: 0 } } }],
        deployment: "dep-1",
      }),
    ).toThrow(RangeError);
    // a later mark of the same time and window, on the key it checks, is `=`; another time is spelled out
    const key2 = '["s","a","BTCUSDT","SELL","1","",false]';
    const mark = (streamId: string, k: string, at: number): Decision => ({
      ...base,
      streamId,
      checks: { duplicate: { key: k, expected: null } },
      effects: { markDuplicate: { key: k, at, ttlMs: 2000 } },
    });
    const three = buildCommitCall({
      keys,
      decisions: [mark("6-1", key, 1000), mark("6-2", key2, 1000), mark("6-3", key2, 1001)],
      deployment: "dep-1",
    });
    const heads = three.argv.filter((a) => typeof a === "string" && /^m[-=a-z0-9*SAHR]{22}$/.test(a));
    expect(heads.map((h) => (h as string)[17])).toEqual(["1", "=", "1"]);
  });

  it("the updateOrders call has its fixed slots, then seven values per update", () => {
    const keys = redisKeys("p:");
    const event = { v: 1, plan_id: "p0" } as never;
    const call = buildUpdateOrdersCall(
      keys,
      [
        { key: "k1", expected: "old", next: null, event },
        {
          key: "k2",
          expected: "old2",
          next: null,
          event,
          position: { account: "a", symbol: "X", ...PAPER_BOOK, expected: "0", value: "1.5" },
        },
      ],
      "dep-1",
    );
    expect(call.keys).toEqual(scripts.updateOrders.keys.map((s) => keys[s.name as "orders"]));
    const fixed = SCRIPT_INPUTS.updateOrders.argv;
    expect(call.argv.slice(0, fixed.length)).toEqual(["dep-1", "2", "p:books:"]);
    expect(call.argv.slice(fixed.length)).toEqual([
      ...["k1", "old", "", JSON.stringify(event), "", "", ""],
      ...["k2", "old2", "", JSON.stringify(event), '["a","X"]', "0", "1.5"],
    ]);
  });

  it("the short scripts' calls have one value per header slot, in order", () => {
    for (const name of ["finishSend", "reconcile", "initDeployment"] as const) {
      const input: ScriptInput = SCRIPT_INPUTS[name];
      const call = scriptArgs(name, {
        keys: Object.fromEntries(input.keys.map((k) => [k, `key:${k}`])),
        argv: Object.fromEntries(input.argv.map((a) => [a, `arg:${a}`])),
      } as never);
      expect(call.keys).toEqual(scripts[name].keys.map((s) => `key:${s.name}`));
      expect(call.argv).toEqual(scripts[name].argv.map((s) => `arg:${s.name}`));
    }
  });
});
