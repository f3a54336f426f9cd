import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
import { openRedisBackend } from "../../src/adapters/redis/redisBackend.js";
import type { AccountExposure } from "../../src/core/exposure.js";
import { positionKey } from "../../src/core/facts.js";
import type { TradingState } from "../../src/core/plan.js";
import type { Reason } from "../../src/core/reasons.js";
import type { Backend } from "../../src/ports/backend.js";
import { CONSUMER_GROUP } from "../../src/ports/bus.js";
import { PAPER_BOOK } from "../support/coreFixtures.js";
import { readBooks } from "../support/redisBooks.js";
import { startRedisServer } from "../support/redisServer.js";
import { uniquePrefix } from "../support/uniquePrefix.js";
import {
  decisionFor,
  describeBackendConformance,
  planFields,
  workingOrderFor,
} from "./backendConformance.js";

const url = inject("redisUrl");

/** Every prefix a test used; their keys are deleted after the file, so a shared `REDIS_URL` stays clean. */
const usedPrefixes = new Set<string>();
const track = (prefix: string): string => {
  usedPrefixes.add(prefix);
  return prefix;
};

/** Deletes every key of a prefix: what a Redis restarted without persistence (or FLUSHALL) leaves of it. */
async function wipePrefix(prefix: string): Promise<void> {
  const c = new Redis(url);
  try {
    const pattern = `${prefix.replace(/[*?[\]\\]/g, "\\$&")}*`;
    let cursor = "0";
    do {
      const [next, keys] = await c.scan(cursor, "MATCH", pattern, "COUNT", 1000);
      if (keys.length > 0) await c.del(...keys);
      cursor = next;
    } while (cursor !== "0");
  } finally {
    await c.quit();
  }
}

afterAll(async () => {
  for (const prefix of usedPrefixes) await wipePrefix(prefix);
});

describeBackendConformance("redis", (prefix) => openRedisBackend({ url, prefix: track(prefix) }), {
  wipe: wipePrefix,
  // whatever a test wrote, through whichever script, each account's books mirror its entries exactly
  afterEachTest: async (prefix) => {
    const c = new Redis(url);
    try {
      const { kept, due } = await readBooks(c, prefix);
      expect(kept).toEqual(due);
    } finally {
      await c.quit();
    }
  },
});

/** What the Redis adapter writes, seen with a plain client: the layout other tools rely on. */
describe("Redis layout (wire-v1 §1, docs/architecture.md)", () => {
  let raw: Redis;
  let b: Backend;
  let p: string;

  beforeAll(() => {
    raw = new Redis(url);
  });
  afterAll(async () => {
    await raw.quit();
  });
  beforeEach(async () => {
    p = track(uniquePrefix("{igtest}"));
    b = await openRedisBackend({ url, prefix: p });
    await b.initDeployment({ state: "ACTIVE", who: "test" });
  });
  afterEach(async () => {
    await b.close();
  });

  it("creates the group on both plan streams at id 0", async () => {
    for (const s of ["stream:apply.plan", "stream:apply.plan.manual"]) {
      const groups = (await raw.call("XINFO", "GROUPS", `${p}${s}`)) as unknown[][];
      expect(groups).toHaveLength(1);
      const g = groups[0]!;
      expect(g[g.indexOf("name") + 1]).toBe("intentgate-executor");
      expect(g[g.indexOf("last-delivered-id") + 1]).toBe("0-0");
    }
  });

  it("publishes plans on the lane streams and writes the exact result text", async () => {
    const id = await b.publish("manual", planFields("p-raw"));
    expect(await raw.xlen(`${p}stream:apply.plan.manual`)).toBe(1);
    const [e] = await b.readNew("c1", 10, 0);
    const d = decisionFor(e!, {
      // Not a registered reason on purpose: the ledger must carry any text byte-exactly.
      result: { error: 'a/b "q" \u2028 é' as unknown as Reason, timestamp: 1_700_000_000_123_456 },
      checks: { planId: { id: "p-raw", claimed: false } },
      effects: {
        claimPlanId: "p-raw",
        consumePermit: "perm-raw",
        countRate: { source: "src", window: 123 },
        setPosition: { account: "acct", symbol: "BTC\ud800", ...PAPER_BOOK, value: "0.1" },
      },
    });
    const [o] = await b.commit([d]);
    expect(o!.status).toBe("committed");
    const entries = await raw.xrange(`${p}stream:apply.result`, "-", "+");
    expect(entries).toHaveLength(1);
    expect(entries[0]![1]).toEqual(["result", JSON.stringify(d.result)]);
    expect(await raw.hget(`${p}plan_ids`, "p-raw")).toBe(`manual:${id}`);
    expect(await raw.hget(`${p}permits`, "perm-raw")).toBe(`manual:${id}`);
    expect(await raw.get(`${p}rate:src:123`)).toBe("1");
    const ttl = await raw.ttl(`${p}rate:src:123`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(10);
    expect(
      await raw.hget(`${p}positions`, positionKey({ account: "acct", symbol: "BTC\ud800", ...PAPER_BOOK })),
    ).toBe("0.1");
    // a field no position key names, or a value that is not a decimal, is corrupt: listed loudly, never skipped
    expect(await b.positions()).toEqual([
      { account: "acct", symbol: "BTC\ud800", ...PAPER_BOOK, qty: "0.1" },
    ]);
    for (const [field, value] of [
      ['["acct","X","paper","paper"]', "1"],
      ["acct/X", "1"],
      [positionKey({ account: "acct", symbol: "Y", ...PAPER_BOOK }), "1e3"],
    ] as const) {
      await raw.hset(`${p}positions`, field, value);
      await expect(b.positions()).rejects.toThrow(
        `ledger holds a malformed position: field ${JSON.stringify(field)}`,
      );
      await raw.hdel(`${p}positions`, field);
    }
    expect(await b.positions()).toHaveLength(1);
    const pending = (await raw.call(
      "XPENDING",
      `${p}stream:apply.plan.manual`,
      "intentgate-executor",
    )) as unknown[];
    expect(pending[0]).toBe(0);
  });

  it("claims plan_ids set-if-absent and removes a position set to 0", async () => {
    const first = await b.publish("main", planFields("once"));
    const second = await b.publish("manual", planFields("once"));
    const got = await b.readNew("c1", 10, 0);
    expect(got).toHaveLength(2);
    const pos = { account: "a", symbol: "S", ...PAPER_BOOK };
    const byId = (lane: string, id: string) => got.find((e) => e.lane === lane && e.id === id)!;
    await b.commit([
      decisionFor(byId("main", first), {
        effects: { claimPlanId: "once", setPosition: { ...pos, value: "3" } },
      }),
    ]);
    expect(await raw.hexists(`${p}positions`, positionKey(pos))).toBe(1);
    await b.commit([
      decisionFor(byId("manual", second), {
        effects: { claimPlanId: "once", setPosition: { ...pos, value: "0" } },
      }),
    ]);
    expect(await raw.hget(`${p}plan_ids`, "once")).toBe(`main:${first}`);
    expect(await raw.hexists(`${p}positions`, positionKey(pos))).toBe(0);
  });

  it("copies a dead letter with its original fields plus lane, stream_id, deliveries, error", async () => {
    const bin = Buffer.from([0xff, 0xfe, 0x00]);
    const id = await b.publish("main", [
      ["plan", bin],
      ["auth", "x"],
      ["plan", "dup"],
    ]);
    const [e] = await b.readNew("c1", 10, 0);
    await b.commit([
      decisionFor(e!, {
        result: { decision: "FAILED", executed: false, error: "internal_error:delivery_limit" },
        effects: { deadLetter: { fields: e!.fields, deliveries: 10 } },
      }),
    ]);
    const entries = await raw.xrangeBuffer(`${p}stream:apply.dlq`, "-", "+");
    expect(entries).toHaveLength(1);
    const flat = entries[0]![1];
    expect(flat.map((x, i) => (i === 1 ? x.toString("hex") : x.toString("utf8")))).toEqual([
      "plan",
      bin.toString("hex"),
      "auth",
      "x",
      "plan",
      "dup",
      "lane",
      "main",
      "stream_id",
      id,
      "deliveries",
      "10",
      "error",
      "internal_error:delivery_limit",
    ]);
  });

  it("logs trading state changes as state, who, at", async () => {
    await b.setTradingState("HALTED", "ops");
    expect(await raw.get(`${p}state`)).toBe("HALTED");
    const [init, entry] = await raw.xrange(`${p}state:log`, "-", "+");
    expect(init![1].slice(0, 4)).toEqual(["state", "ACTIVE", "who", "test"]);
    const f = entry![1];
    expect(f.slice(0, 4)).toEqual(["state", "HALTED", "who", "ops"]);
    expect(f[4]).toBe("at");
    expect(Number(f[5])).toBeGreaterThan(1_600_000_000_000);
  });

  it("init writes the deployment marker at <prefix>deployment and the group on both plan streams", async () => {
    expect(await raw.get(`${p}deployment`)).toBe(await b.readDeployment());
    for (const stream of ["stream:apply.plan", "stream:apply.plan.manual"]) {
      const groups = (await raw.call("XINFO", "GROUPS", `${p}${stream}`)) as unknown[][];
      expect(groups.map((g) => g[1])).toEqual(["intentgate-executor"]);
    }
  });

  it("init refuses, writing nothing, when a plan key is not a stream", async () => {
    const q = track(uniquePrefix("{igtest}"));
    await raw.set(`${q}stream:apply.plan.manual`, "not a stream");
    const c = await openRedisBackend({ url, prefix: q });
    try {
      await expect(c.initDeployment({ state: "ACTIVE", who: "t" })).rejects.toThrow(/not a stream/);
      expect(await raw.exists(`${q}deployment`, `${q}state`, `${q}stream:apply.plan`)).toBe(0);
    } finally {
      await c.close();
    }
  });

  it("publishes alerts as one JSON field", async () => {
    await b.publishAlert({ kind: "deny_burst", source: "s", n: 12 });
    const [entry] = await raw.xrange(`${p}stream:exit.alert`, "-", "+");
    expect(entry![1][0]).toBe("alert");
    expect(JSON.parse(entry![1][1]!)).toEqual({ kind: "deny_burst", source: "s", n: 12 });
  });

  it("fails closed on an unknown stored trading state", async () => {
    await raw.set(`${p}state`, "PAUSED");
    await expect(b.getTradingState()).rejects.toThrow(/PAUSED/);
  });

  it("commits a large batch in one script call", async () => {
    const n = 500;
    for (let i = 0; i < n; i++) await b.publish(i % 2 === 0 ? "main" : "manual", planFields(`big-${i}`));
    const got = await b.readNew("c1", n, 0);
    expect(got).toHaveLength(n);
    const rate = { source: "big", window: 1 };
    const out = await b.commit(
      got.map((e, i) =>
        decisionFor(e, {
          checks: {
            planId: { id: `big-${i}`, claimed: false },
            rate: { ...rate, limit: 1000, allowed: true },
          },
          effects: { claimPlanId: `big-${i}`, countRate: rate },
        }),
      ),
    );
    expect(out.every((o) => o.status === "committed")).toBe(true);
    expect(await raw.get(`${p}rate:big:1`)).toBe(String(n));
    expect(await b.pendingCount()).toBe(0);
  });

  it("commits a batch that spans more than the script's chunk size (1000) in one call", async () => {
    const n = 1200;
    const p0 = raw.pipeline();
    for (let i = 0; i < n; i++) p0.xadd(`${p}stream:apply.plan`, "*", "plan", `x${i}`);
    await p0.exec();
    const got = await b.readNew("c1", n, 0);
    expect(got).toHaveLength(n);
    const ds = got.map((e, i) =>
      decisionFor(e, {
        checks: {
          planId: { id: `chunk-${i}`, claimed: false },
          permit: { id: `pm-${i}`, used: false },
          position: { account: "a", symbol: `S${i}`, ...PAPER_BOOK, expected: "0" },
        },
        effects: {
          claimPlanId: `chunk-${i}`,
          consumePermit: `pm-${i}`,
          setPosition: { account: "a", symbol: `S${i}`, ...PAPER_BOOK, value: i % 2 === 0 ? "1" : "0" },
        },
      }),
    );
    const out = await b.commit(ds);
    expect(out.every((o) => o.status === "committed")).toBe(true);
    expect(await raw.hlen(`${p}plan_ids`)).toBe(n);
    expect(await raw.hlen(`${p}permits`)).toBe(n);
    expect(await raw.hlen(`${p}positions`)).toBe(n / 2);
    expect(await raw.xlen(`${p}stream:apply.result`)).toBe(n);
    expect(await b.pendingCount()).toBe(0);
    expect((await b.commit(ds)).every((o) => o.status === "duplicate")).toBe(true);
  });

  it("finds pending entries outside the consumer's range reply, and entries held by another consumer", async () => {
    const n = 200;
    const p0 = raw.pipeline();
    for (let i = 0; i < n; i++) p0.xadd(`${p}stream:apply.plan`, "*", "plan", `r${i}`);
    await p0.exec();
    const mine = await b.readNew("c1", n, 0);
    // every 10th entry, in reverse order: the consumer holds many more entries in the batch's id range than asked for
    const picked = mine.filter((_, i) => i % 10 === 0).reverse();
    const out = await b.commit(picked.map((e) => decisionFor(e)));
    expect(out.every((o) => o.status === "committed")).toBe(true);
    expect(await b.pendingCount()).toBe(n - picked.length);
    // entries read by another consumer on another connection, committed through this backend (hint "c1")
    const other = await openRedisBackend({ url, prefix: p });
    try {
      await raw.xadd(`${p}stream:apply.plan.manual`, "*", "plan", "o");
      const [e] = await other.readNew("c2", 10, 0);
      await b.readNew("c1", 1, 0);
      expect(await b.commit([decisionFor(e!), decisionFor(e!)])).toEqual([
        { status: "committed", resultId: expect.any(String) },
        { status: "duplicate" },
      ]);
    } finally {
      await other.close();
    }
  });

  it("applies effects that name other ids than the checks, in order within the batch", async () => {
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push(await b.publish("main", planFields(`fx-${i}`)));
    const got = await b.readNew("c1", 10, 0);
    const [e0, e1, e2] = got;
    const out = await b.commit([
      decisionFor(e0!, {
        checks: {
          planId: { id: "chk", claimed: false },
          rate: { source: "s", window: 1, limit: 1, allowed: true },
          position: { account: "a", symbol: "X", ...PAPER_BOOK, expected: "0" },
        },
        effects: {
          claimPlanId: "other",
          consumePermit: "pm",
          countRate: { source: "s", window: 2 },
          setPosition: { account: "a", symbol: "Y", ...PAPER_BOOK, value: "2" },
        },
      }),
      decisionFor(e1!, {
        checks: {
          planId: { id: "other", claimed: true },
          permit: { id: "pm", used: true },
          rate: { source: "s", window: 2, limit: 1, allowed: false },
          position: { account: "a", symbol: "Y", ...PAPER_BOOK, expected: "2" },
        },
        effects: {
          claimPlanId: "other",
          consumePermit: "pm",
          setPosition: { account: "a", symbol: "Y", ...PAPER_BOOK, value: "0" },
        },
      }),
      decisionFor(e2!, { checks: { position: { account: "a", symbol: "Y", ...PAPER_BOOK, expected: "2" } } }),
    ]);
    expect(out.map((o) => (o.status === "conflict" ? `conflict:${o.on}` : o.status))).toEqual([
      "committed",
      "committed",
      "conflict:position",
    ]);
    expect(await raw.hget(`${p}plan_ids`, "other")).toBe(`main:${ids[0]}`);
    expect(await raw.hexists(`${p}plan_ids`, "chk")).toBe(0);
    // a consume overwrites: the last committed consumer is recorded
    expect(await raw.hget(`${p}permits`, "pm")).toBe(`main:${ids[1]}`);
    expect(await raw.get(`${p}rate:s:1`)).toBeNull();
    expect(await raw.get(`${p}rate:s:2`)).toBe("1");
    expect(await raw.hlen(`${p}positions`)).toBe(0);
  });

  it("compares a trading state it has no code for as text", async () => {
    await raw.set(`${p}state`, "PAUSED");
    await b.publish("main", planFields("ts-1"));
    await b.publish("main", planFields("ts-2"));
    const [e1, e2] = await b.readNew("c1", 10, 0);
    const out = await b.commit([
      decisionFor(e1!, { checks: { tradingState: "ACTIVE" } }),
      decisionFor(e2!, { checks: { tradingState: "PAUSED" as TradingState } }),
    ]);
    expect(out.map((o) => o.status)).toEqual(["conflict", "committed"]);
  });

  it("a key of the wrong type or a corrupt rate counter fails the whole call and writes nothing", async () => {
    await b.publish("main", planFields("bad-1"));
    await b.publish("main", planFields("bad-2"));
    const [e1, e2] = await b.readNew("c1", 10, 0);
    const d1 = decisionFor(e1!, { effects: { claimPlanId: "bad-1" } });
    const d2 = decisionFor(e2!, { effects: { countRate: { source: "s", window: 1 } } });
    await raw.set(`${p}rate:s:1`, "many");
    await expect(b.commit([d1, d2])).rejects.toThrow(/not an integer/);
    await raw.del(`${p}rate:s:1`);
    await raw.set(`${p}positions`, "not a hash");
    await expect(
      b.commit([
        d1,
        decisionFor(e2!, {
          effects: { setPosition: { account: "a", symbol: "S", ...PAPER_BOOK, value: "1" } },
        }),
      ]),
    ).rejects.toThrow(/WRONGTYPE/);
    expect(await raw.xlen(`${p}stream:apply.result`)).toBe(0);
    expect(await raw.exists(`${p}plan_ids`)).toBe(0);
    expect(await b.pendingCount()).toBe(2);
    await raw.del(`${p}positions`);
    expect((await b.commit([d1, d2])).map((o) => o.status)).toEqual(["committed", "committed"]);
  });

  it("survives a killed connection and a close during a blocked read", async () => {
    // own server: killing clients must not disturb other test files sharing the run's server
    const server = await startRedisServer();
    const own = new Redis(server.url);
    const ob = await openRedisBackend({ url: server.url, prefix: p });
    try {
      await ob.ensureGroups();
      expect((await own.call("CLIENT", "LIST")) as string).toContain("name=intentgate");
      await own.call("CLIENT", "KILL", "SKIPME", "yes", "TYPE", "normal");
      // the main connection reconnects by itself, without an unhandled 'error'
      expect(await ob.getTradingState()).toBe("ACTIVE");
      const blocked = ob.readNew("c1", 10, 10_000).then(
        () => "resolved",
        () => "rejected",
      );
      await new Promise((r) => setTimeout(r, 50));
      const t0 = Date.now();
      await ob.close();
      expect(await blocked).toBe("rejected");
      expect(Date.now() - t0).toBeLessThan(2_000);
    } finally {
      await ob.close();
      own.disconnect();
      await server.stop();
    }
  });

  it("rejects an unreachable URL at open", async () => {
    await expect(openRedisBackend({ url: "redis://127.0.0.1:1", prefix: p })).rejects.toThrow(
      /cannot connect/,
    );
  });

  /** Each account's books (lua/lib/books.lua): what the exposure and open-order caps read on Redis. */
  describe("account books", () => {
    const emptyQuery = { planIds: [], permitIds: [], rates: [], positions: [] };
    const book = { account: "acct-1", symbol: "BTCUSDT", ...PAPER_BOOK };

    async function take(planId: string) {
      const id = await b.publish("main", planFields(planId));
      const got = await b.readNew("c1", 100, 0);
      return got.find((x) => x.id === id)!;
    }

    /** Every books key and the built marker gone: a deployment older than the books, or a partial restore. */
    async function dropBooks(): Promise<void> {
      const { kept } = await readBooks(raw, p);
      for (const account of Object.keys(kept)) await raw.del(`${p}books:${account}`);
      await raw.del(`${p}books.ready`);
    }

    const read = (account: string) =>
      b.readFacts({ ...emptyQuery, exposureAccounts: [account], openOrderAccounts: [account] });

    it("entries written before the books existed are counted: the first read for a cap builds every account's books", async () => {
      await b.commit([
        decisionFor(await take("bk-1"), { effects: { setPosition: { ...book, value: "2" } } }),
      ]);
      await b.commit([decisionFor(await take("bk-2"), { effects: { openOrder: workingOrderFor("bk-w1") } })]);
      await b.commit([
        decisionFor(await take("bk-3"), {
          effects: { setPosition: { ...book, account: "acct-2", value: "-1" } },
        }),
      ]);
      await dropBooks();
      // books an older state left behind (an account that holds nothing now) must not survive the build
      await raw.hset(`${p}books:ghost`, `p:${positionKey({ ...book, account: "ghost" })}`, "5");
      expect(await raw.exists(`${p}books.ready`)).toBe(0);

      const f = await read("acct-1");
      expect([...f.exposure.get("acct-1")!.snapshot.keys()].sort()).toEqual(
        [`p:${positionKey(book)}`, "w:bk-w1"].sort(),
      );
      expect(f.openOrders.get("acct-1")).toBe(1);
      expect(await raw.get(`${p}books.ready`)).toBe("1");
      const { kept, due } = await readBooks(raw, p);
      expect(kept).toEqual(due);
      expect(Object.keys(kept).sort()).toEqual(["acct-1", "acct-2"]);
    });

    /** The ids still pending in the main lane's group (a refused commit leaves its entry there). */
    async function pendingIds(): Promise<string[]> {
      const rows = (await raw.xpending(`${p}stream:apply.plan`, CONSUMER_GROUP, "-", "+", 100)) as string[][];
      return rows.map((row) => row[0] as string);
    }

    /**
     * The same books read at two versions (`older`, then `newer`): a decision
     * checked against the older conflicts on exposure, the same against the
     * newer commits.
     */
    async function onlyTheNewerVersionCommits(
      older: AccountExposure,
      newer: AccountExposure,
      planId: string,
    ) {
      expect(newer.snapshot).toEqual(older.snapshot);
      expect(Number(newer.version)).toBeGreaterThan(Number(older.version));
      const e = await take(planId);
      expect(await b.commit([decisionFor(e, { checks: { exposure: { ...older, touched: 0 } } })])).toEqual([
        { status: "conflict", on: "exposure" },
      ]);
      const [done] = await b.commit([decisionFor(e, { checks: { exposure: { ...newer, touched: 0 } } })]);
      expect(done!.status).toBe("committed");
    }

    it("the commit re-checks exposure by the books' version: every write makes a new one, so books changed and changed back still conflict", async () => {
      await b.commit([
        decisionFor(await take("bv-1"), { effects: { setPosition: { ...book, value: "2" } } }),
      ]);
      const r1 = (await read("acct-1")).exposure.get("acct-1")!;
      expect(r1.version).toMatch(/^[1-9][0-9]*$/);
      // the commit carries the account and its version, never the books themselves
      await b.commit([
        decisionFor(await take("bv-2"), { effects: { setPosition: { ...book, value: "3" } } }),
      ]);
      await b.commit([
        decisionFor(await take("bv-3"), { effects: { setPosition: { ...book, value: "2" } } }),
      ]);
      await onlyTheNewerVersionCommits(r1, (await read("acct-1")).exposure.get("acct-1")!, "bv-4");
    });

    it("a rebuild gives the books new versions: nothing decided before it commits after it", async () => {
      await b.commit([
        decisionFor(await take("rb-1"), { effects: { setPosition: { ...book, value: "2" } } }),
      ]);
      const before = (await read("acct-1")).exposure.get("acct-1")!;
      await dropBooks();
      await onlyTheNewerVersionCommits(before, (await read("acct-1")).exposure.get("acct-1")!, "rb-2");
    });

    it("books an older executor built (entries, no version) are built again by the first read, not checked without one", async () => {
      await b.commit([
        decisionFor(await take("ov-1"), { effects: { setPosition: { ...book, value: "2" } } }),
      ]);
      await read("acct-1");
      await raw.hdel(`${p}books:acct-1`, "v");
      expect(await raw.get(`${p}books.ready`)).toBe("1");
      const f = (await read("acct-1")).exposure.get("acct-1")!;
      expect(f.version).toMatch(/^[1-9][0-9]*$/);
      const { kept, due } = await readBooks(raw, p);
      expect(kept).toEqual(due);
    });

    it("a books sequence that is not a count refuses the commit before its first write", async () => {
      await b.commit([
        decisionFor(await take("sq-1"), { effects: { setPosition: { ...book, value: "2" } } }),
      ]);
      await raw.set(`${p}books.seq`, "not-a-count");
      const e = await take("sq-2");
      await expect(
        b.commit([decisionFor(e, { effects: { setPosition: { ...book, value: "5" } } })]),
      ).rejects.toThrow(/ERR intentgate commit: books: .*books\.seq is not a count/);
      // nothing written: the position as it was, the entry still pending, no result
      expect(await raw.hget(`${p}positions`, positionKey(book))).toBe("2");
      expect(await pendingIds()).toContain(e.id);
      expect(await raw.xlen(`${p}stream:apply.result`)).toBe(1);
      await raw.set(`${p}books.seq`, "41");
      expect(
        (await b.commit([decisionFor(e, { effects: { setPosition: { ...book, value: "5" } } })]))[0]!.status,
      ).toBe("committed");
      expect(await raw.hget(`${p}books:acct-1`, "v")).toBe("42");
    });

    it("the open-order count is a field of the books: a count-only read takes it, a whole read checks it, a wrong or corrupt one is built again", async () => {
      await b.commit([decisionFor(await take("oc-1"), { effects: { openOrder: workingOrderFor("oc-w1") } })]);
      await b.commit([decisionFor(await take("oc-2"), { effects: { openOrder: workingOrderFor("oc-w2") } })]);
      const counted = () => b.readFacts({ ...emptyQuery, openOrderAccounts: ["acct-1"] });
      expect((await counted()).openOrders.get("acct-1")).toBe(2);
      expect(await raw.hget(`${p}books:acct-1`, "n")).toBe("2");
      await b.commit([decisionFor(await take("oc-3"), { effects: { closeOrders: ["oc-w1"] } })]);
      expect((await counted()).openOrders.get("acct-1")).toBe(1);
      // a count that disagrees with the orders the books hold (an older executor's write): the whole read builds them again
      await raw.hset(`${p}books:acct-1`, "n", "7");
      expect((await read("acct-1")).openOrders.get("acct-1")).toBe(1);
      expect(await raw.hget(`${p}books:acct-1`, "n")).toBe("1");
      // a count that is not one: the count-only read builds them again too
      await raw.hset(`${p}books:acct-1`, "n", "x");
      expect((await counted()).openOrders.get("acct-1")).toBe(1);
      // books without a version (built before versions): the count-only read builds them again
      await raw.hdel(`${p}books:acct-1`, "v");
      expect((await counted()).openOrders.get("acct-1")).toBe(1);
      const { kept, due } = await readBooks(raw, p);
      expect(kept).toEqual(due);
    });

    it("an open-order count that is not a count refuses the commit that reads or writes it, before its first write", async () => {
      await b.commit([decisionFor(await take("cc-1"), { effects: { openOrder: workingOrderFor("cc-w1") } })]);
      await read("acct-1");
      await raw.hset(`${p}books:acct-1`, "n", "-1");
      const e = await take("cc-2");
      const open = { openOrders: { account: "acct-1", limit: 5, allowed: true } };
      await expect(b.commit([decisionFor(e, { checks: open })])).rejects.toThrow(
        /ERR intentgate commit: books: .*books:acct-1 open-order count is not a count/,
      );
      await expect(
        b.commit([decisionFor(e, { effects: { openOrder: workingOrderFor("cc-w2") } })]),
      ).rejects.toThrow(/open-order count is not a count/);
      expect(await raw.hget(`${p}orders`, "cc-w2")).toBeNull();
      expect(await pendingIds()).toContain(e.id);
    });

    it("a commit checking exposure or open orders while the books are not built conflicts: never decided on books that are not there", async () => {
      await b.commit([
        decisionFor(await take("nb-1"), { effects: { setPosition: { ...book, value: "2" } } }),
      ]);
      await b.commit([decisionFor(await take("nb-2"), { effects: { openOrder: workingOrderFor("nb-w1") } })]);
      const before = await read("acct-1");
      await dropBooks();
      // decided on what empty books would say: nothing held, no open order
      const empty = {
        exposure: { account: "acct-1", snapshot: new Map<string, string>(), version: "", touched: 0 },
      };
      const open = { openOrders: { account: "acct-1", limit: 1, allowed: true } };
      const e = await take("nb-3");
      expect(await b.commit([decisionFor(e, { checks: empty })])).toEqual([
        { status: "conflict", on: "exposure" },
      ]);
      expect(await b.commit([decisionFor(e, { checks: open })])).toEqual([
        { status: "conflict", on: "openOrders" },
      ]);
      // even the snapshot that was true: nothing is re-checked against books that are not built
      const held = {
        exposure: { ...before.exposure.get("acct-1")!, touched: 0 },
      };
      expect(await b.commit([decisionFor(e, { checks: held })])).toEqual([
        { status: "conflict", on: "exposure" },
      ]);
      // the next read builds them: decided on it, the check commits
      const again = await read("acct-1");
      expect(again.openOrders.get("acct-1")).toBe(1);
      const now = {
        exposure: { ...again.exposure.get("acct-1")!, touched: 0 },
      };
      expect((await b.commit([decisionFor(e, { checks: now })]))[0]!.status).toBe("committed");
    });

    it("an entry that names no account fails the build, and the read, writing nothing", async () => {
      await b.commit([
        decisionFor(await take("cb-1"), { effects: { setPosition: { ...book, value: "2" } } }),
      ]);
      await dropBooks();
      await raw.hset(`${p}orders`, "junk", "{not json");
      await expect(read("acct-1")).rejects.toThrow(
        /ERR intentgate buildBooks: entry w:junk names no account/,
      );
      expect(await raw.exists(`${p}books.ready`)).toBe(0);
      expect((await readBooks(raw, p).catch(() => undefined))?.kept ?? {}).toEqual({});
      await raw.hdel(`${p}orders`, "junk");
      expect((await read("acct-1")).exposure.get("acct-1")!.snapshot.size).toBe(1);
    });

    it("an account whose name holds a lone surrogate (a JSON escape Lua's cjson refuses) is kept and read under the key Node names", async () => {
      const odd = "x\ud800";
      const oddBook = { ...book, account: odd };
      await b.commit([
        decisionFor(await take("ls-1"), { effects: { setPosition: { ...oddBook, value: "2" } } }),
      ]);
      await b.commit([
        decisionFor(await take("ls-2"), {
          effects: { openOrder: workingOrderFor("ls-w1", { account: odd }) },
        }),
      ]);
      const f = await read(odd);
      expect([...f.exposure.get(odd)!.snapshot.keys()].sort()).toEqual(
        [`p:${positionKey(oddBook)}`, "w:ls-w1"].sort(),
      );
      expect(f.openOrders.get(odd)).toBe(1);
      // one key, named as ioredis writes the account (U+FFFD for the lone surrogate)
      // two entries, the version and the open-order count
      expect(await raw.hlen(Buffer.from(`${p}books:x\ufffd`, "utf8"))).toBe(4);
      // checked against those books: holds, then conflicts once the position moved
      const x = { exposure: { ...f.exposure.get(odd)!, touched: 0 } };
      const e = await take("ls-3");
      expect((await b.commit([decisionFor(e, { checks: x })]))[0]!.status).toBe("committed");
      await b.commit([
        decisionFor(await take("ls-4"), { effects: { setPosition: { ...oddBook, value: "3" } } }),
      ]);
      expect(await b.commit([decisionFor(await take("ls-5"), { checks: x })])).toEqual([
        { status: "conflict", on: "exposure" },
      ]);
    });

    it("a write whose entry names no account is refused before its first write", async () => {
      const e = await take("wr-1");
      const bad = { ...decisionFor(e), sendRecord: JSON.parse('{"ref":{}}') };
      await expect(b.commit([bad])).rejects.toThrow(
        /ERR intentgate commit: books: entry s:main:.* names no account/,
      );
      expect(await raw.hlen(`${p}sends`)).toBe(0);
      expect(await b.pendingCount()).toBe(1);
    });
  });
});
