/**
 * One behavioural suite every {@link Backend} must pass (Redis Streams and
 * SQLite). It drives the backend only through the ports, so it pins down the
 * contract written in src/ports/*.ts and src/core/decision.ts:
 *
 * - the group exists from id 0 (entries published before `ensureGroups` are read);
 * - fields come back as raw bytes, in order, repeated names kept;
 * - `deliveries` counts hand-outs (1, then 2, 3 … on reclaims);
 * - a commit per decision: duplicate (not pending) → write nothing; first
 *   failing check (declaration order: tradingState, planId, permit, rate,
 *   position, workingOrders) → conflict, write nothing; else effects +
 *   result + ACK; later decisions in one array see earlier ones' writes.
 *
 * - the deployment marker (wire-v1 §7b): only `initDeployment` creates it (and
 *   the group and state); a bound handle writes only while the marker is its
 *   own; after the store loses its data nothing is recreated silently;
 * - claims are opaque keys: an unsigned entry's namespaced claim never equals
 *   a signed plan's;
 * - working orders (wire-v1 §4a): stored as their exact `encodeWorkingOrder`
 *   text, checked after position (conflict `workingOrders`), opened, closed
 *   and their events appended in the commit's atomic step; `updateOrders`
 *   applies each update once, under the bound marker only.
 *
 * Usage: `describeBackendConformance("redis", (prefix) => openRedisBackend({ url, prefix }), { wipe })`.
 * `open` is called once per test with a fresh prefix; the backend it returns
 * must start empty for that prefix (the suite creates its deployment). The
 * suite closes it after the test. `wipe(prefix)` makes the store lose
 * everything of that prefix as a data loss would (a Redis restarted without
 * persistence; a deleted bus file).
 *
 * Longer than the ~400-line rule on purpose: one suite whose sections follow
 * the Backend contract in order; a backend author reads it top to bottom.
 */

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { claimKey } from "../../src/core/claimKey.js";
import type { Decision, DecisionChecks, DecisionEffects } from "../../src/core/decision.js";
import type { AccountExposure } from "../../src/core/exposure.js";
import { positionKey, rateKey } from "../../src/core/facts.js";
import type { CancelRecord } from "../../src/core/liveCancel.js";
import { type OrderEvent, orderEventOf } from "../../src/core/orderEvent.js";
import type { Lane } from "../../src/core/plan.js";
import type { Reason } from "../../src/core/reasons.js";
import type { PlanResult } from "../../src/core/result.js";
import { encodeWorkingOrder, type WorkingOrder } from "../../src/core/workingOrder.js";
import { OrderFollower } from "../../src/executor/orderFollower.js";
import type { Backend } from "../../src/ports/backend.js";
import type { BusEntry } from "../../src/ports/bus.js";
import { DeploymentExistsError, DeploymentMismatchError } from "../../src/ports/deployment.js";
import { dec, makePolicy, PAPER_BOOK } from "../support/coreFixtures.js";
import { uniquePrefix } from "../support/uniquePrefix.js";

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Plan entry fields as a producer would publish them (content is opaque to the backend). */
export function planFields(planId: string): Array<[string, string | Buffer]> {
  return [
    ["plan", JSON.stringify({ v: 1, plan_id: planId, source: "src_a", symbol: "BTCUSDT" })],
    ["auth", `hmac-sha256:k1:sig-${planId}`],
  ];
}

/** A complete result for an entry; numbers, unicode and escapes chosen to catch re-encoding. */
export function resultFor(entry: { lane: Lane; id: string }, over: Partial<PlanResult> = {}): PlanResult {
  return {
    v: 1,
    plan_id: "p-1",
    stream_id: entry.id,
    lane: entry.lane,
    authenticated: true,
    action: "place",
    source: "src_a",
    venue: "paper",
    account: "default",
    symbol: "BTCUSDT",
    side: "BUY",
    qty: "0.000000000000000001",
    reduce_only: false,
    executed: true,
    decision: "EXECUTED",
    error: null,
    mode: "paper",
    client_order_id: "ig-p-1",
    order_id: "paper-1",
    fill_qty: "0.000000000000000001",
    avg_price: "65000.123456789012345678",
    timestamp: 1_700_000_000_123,
    ...over,
  };
}

/** A send record (stage 1 of a live order) for an entry. */
export function sendRecordFor(
  e: { lane: Lane; id: string },
  venue: "binance-usdm" | "polymarket" = "binance-usdm",
) {
  return {
    lane: e.lane,
    streamId: e.id,
    ref: { venue, account: "acct-1", symbol: "BTCUSDT", clientOrderId: "ig-p-1", venueRef: "ig-p-1" },
    startedAt: 1_700_000_000_000,
    result: resultFor(e, { mode: "live", venue, order_id: null, fill_qty: null, avg_price: null }),
  } as const;
}

/** A working order (a paper LIMIT order resting on the book); texts chosen to catch re-encoding. */
export function workingOrderFor(key: string, over: Partial<WorkingOrder> = {}): WorkingOrder {
  return {
    key,
    plan_id: `plan-${key}`,
    source: "src_a",
    lane: "main",
    stream_id: "1-0",
    venue: "paper",
    mode: "paper",
    account: "acct-1",
    symbol: "BTCUSDT",
    side: "BUY",
    qty: "0.000000000000000003",
    price: '65000.1 "é\u2028🚀',
    reduce_only: false,
    client_order_id: `ig-${key}`,
    order_id: `paper-${key}`,
    fill_qty: "0",
    placed_at: 1_700_000_000_000,
    ...over,
  };
}

/** An order event for a working order. */
export function orderEventFor(
  order: WorkingOrder,
  kind: OrderEvent["event"] = "CANCELED",
  fillQty = order.fill_qty,
): OrderEvent {
  return orderEventOf(order, {
    kind,
    fillQty,
    avgPrice: fillQty === "0" ? null : order.price,
    cause: kind === "FILL" ? null : "plan:cancel-1",
    now: 1_700_000_000_456,
  });
}

/** Builds a Decision for an entry. */
export function decisionFor(
  entry: { lane: Lane; id: string },
  opts: { result?: Partial<PlanResult>; checks?: DecisionChecks; effects?: DecisionEffects } = {},
): Decision {
  return {
    lane: entry.lane,
    streamId: entry.id,
    result: resultFor(entry, opts.result ?? {}),
    checks: opts.checks ?? {},
    effects: opts.effects ?? {},
  };
}

export function describeBackendConformance(
  name: string,
  open: (prefix: string) => Promise<Backend>,
  hooks: {
    readonly wipe: (prefix: string) => Promise<void>;
    /** Checks, after every test, what the store keeps beside the contract (Redis: each account's books). */
    readonly afterEachTest?: (prefix: string) => Promise<void>;
  },
): void {
  describe(`Backend conformance: ${name}`, () => {
    let b: Backend;
    let prefix: string;
    let opened: Backend[] = [];

    beforeEach(async () => {
      opened = [];
      prefix = uniquePrefix();
      b = await open(prefix);
      opened.push(b);
      await b.initDeployment({ state: "ACTIVE", who: "conformance" });
    });

    afterEach(async () => {
      try {
        await hooks.afterEachTest?.(prefix);
      } finally {
        for (const x of opened) await x.close();
      }
    });

    /** Publishes one plan and hands it out to `consumer`. */
    async function take(lane: Lane, planId: string, consumer = "c1"): Promise<BusEntry> {
      const id = await b.publish(lane, planFields(planId));
      const got = await b.readNew(consumer, 100, 0);
      const e = got.find((x) => x.id === id && x.lane === lane);
      expect(e, `entry ${lane}/${id} handed out`).toBeDefined();
      return e!;
    }

    async function allResults(): Promise<PlanResult[]> {
      return (await b.readResults("0", 10_000)).map((r) => r.result);
    }

    const emptyQuery = { planIds: [], permitIds: [], rates: [], positions: [] };

    describe("groups and reading", () => {
      it("ensureGroups is idempotent and the group starts at id 0", async () => {
        const early = await b.publish("main", planFields("early"));
        const earlyManual = await b.publish("manual", planFields("early-m"));
        await b.ensureGroups();
        await b.ensureGroups();
        const got = await b.readNew("c1", 10, 0);
        expect(got.map((e) => `${e.lane}/${e.id}`).sort()).toEqual(
          [`main/${early}`, `manual/${earlyManual}`].sort(),
        );
        expect(await b.pendingCount()).toBe(2);
      });

      it("pendingCount and dlqLength are 0 on an empty backend (groups may not exist yet)", async () => {
        expect(await b.pendingCount()).toBe(0);
        expect(await b.dlqLength()).toBe(0);
        await b.ensureGroups();
        expect(await b.pendingCount()).toBe(0);
      });

      it("keeps raw bytes, field order, repeated names and non-UTF-8 bytes", async () => {
        await b.ensureGroups();
        const binary = Buffer.from([0xff, 0x00, 0xc3, 0x28, 0x80, 0x0a, 0x22]);
        const fields: Array<[string, string | Buffer]> = [
          ["plan", '{"v":1,  "plan_id":"x", "z":"é\\u00e9"}'],
          ["auth", binary],
          ["plan", "second"],
          ["empty", ""],
        ];
        const id = await b.publish("main", fields);
        const [e] = await b.readNew("c1", 10, 0);
        expect(e).toBeDefined();
        expect(e!.id).toBe(id);
        expect(e!.lane).toBe("main");
        expect(e!.deliveries).toBe(1);
        expect(e!.fields.map(([n]) => n)).toEqual(["plan", "auth", "plan", "empty"]);
        for (const [, v] of e!.fields) expect(Buffer.isBuffer(v)).toBe(true);
        expect(e!.fields[0]![1].equals(Buffer.from('{"v":1,  "plan_id":"x", "z":"é\\u00e9"}', "utf8"))).toBe(
          true,
        );
        expect(e!.fields[1]![1].equals(binary)).toBe(true);
        expect(e!.fields[2]![1].toString("utf8")).toBe("second");
        expect(e!.fields[3]![1].length).toBe(0);
      });

      it("reads both lanes, each entry once, with deliveries = 1", async () => {
        await b.ensureGroups();
        const m1 = await b.publish("main", planFields("m1"));
        const x1 = await b.publish("manual", planFields("x1"));
        const m2 = await b.publish("main", planFields("m2"));
        const got = await b.readNew("c1", 10, 0);
        expect(got.map((e) => `${e.lane}/${e.id}`).sort()).toEqual(
          [`main/${m1}`, `main/${m2}`, `manual/${x1}`].sort(),
        );
        for (const e of got) expect(e.deliveries).toBe(1);
        const mains = got.filter((e) => e.lane === "main").map((e) => e.id);
        expect(mains).toEqual([m1, m2]);
        expect(await b.readNew("c2", 10, 0)).toEqual([]);
        expect(await b.pendingCount()).toBe(3);
      });

      it("honours count on one lane and hands out the rest later", async () => {
        await b.ensureGroups();
        const ids: string[] = [];
        for (let i = 0; i < 5; i++) ids.push(await b.publish("main", planFields(`p${i}`)));
        const first = await b.readNew("c1", 2, 0);
        expect(first.map((e) => e.id)).toEqual(ids.slice(0, 2));
        const rest = await b.readNew("c2", 10, 0);
        expect(rest.map((e) => e.id)).toEqual(ids.slice(2));
      });

      it("readNew with blockMs waits and returns [] when nothing arrives", async () => {
        await b.ensureGroups();
        const t0 = Date.now();
        expect(await b.readNew("c1", 10, 150)).toEqual([]);
        expect(Date.now() - t0).toBeGreaterThanOrEqual(100);
        const t1 = Date.now();
        expect(await b.readNew("c1", 10, 0)).toEqual([]);
        expect(Date.now() - t1).toBeLessThan(1000);
      });

      it("a blocked readNew wakes when an entry is published", async () => {
        await b.ensureGroups();
        const t0 = Date.now();
        const pending = b.readNew("c1", 10, 5_000);
        await sleep(50);
        const id = await b.publish("manual", planFields("late"));
        const got = await pending;
        expect(got.map((e) => `${e.lane}/${e.id}`)).toEqual([`manual/${id}`]);
        expect(Date.now() - t0).toBeLessThan(4_000);
      });

      it("a blocked readNew does not delay commits or other calls", async () => {
        await b.ensureGroups();
        const e = await take("main", "p-nb");
        const blocked = b.readNew("c2", 10, 1_500);
        await sleep(20);
        const t0 = Date.now();
        const [o] = await b.commit([decisionFor(e)]);
        await b.getTradingState();
        expect(o!.status).toBe("committed");
        expect(Date.now() - t0).toBeLessThan(1_000);
        expect(await blocked).toEqual([]);
      });
    });

    describe("commit", () => {
      beforeEach(async () => {
        await b.ensureGroups();
      });

      it("writes the result, acknowledges the entry and applies every effect", async () => {
        const e = await take("main", "p-1");
        expect(await b.pendingCount()).toBe(1);
        const d = decisionFor(e, {
          // Not a registered reason on purpose: the ledger must carry any text byte-exactly.
          result: { error: 'quote " back\\slash / \u2028 é 🚀 \u0000' as unknown as Reason, plan_id: "p-1" },
          checks: {
            tradingState: "ACTIVE",
            planId: { id: "p-1", claimed: false },
            permit: { id: "permit-1", used: false },
            rate: { source: "src_a", window: 1_700_000_000, limit: 3, allowed: true },
            position: { account: "acct", symbol: "BTCUSDT", ...PAPER_BOOK, expected: "0" },
          },
          effects: {
            claimPlanId: "p-1",
            consumePermit: "permit-1",
            countRate: { source: "src_a", window: 1_700_000_000 },
            setPosition: { account: "acct", symbol: "BTCUSDT", ...PAPER_BOOK, value: "-1.25" },
          },
        });
        const outcomes = await b.commit([d]);
        expect(outcomes).toHaveLength(1);
        expect(outcomes[0]!.status).toBe("committed");
        const rs = await b.readResults("0", 100);
        expect(rs).toHaveLength(1);
        expect(rs[0]!.id).toBe((outcomes[0] as { resultId: string }).resultId);
        expect(rs[0]!.result).toEqual(d.result);
        expect(await b.pendingCount()).toBe(0);

        const rate = { source: "src_a", window: 1_700_000_000 };
        const pos = { account: "acct", symbol: "BTCUSDT", ...PAPER_BOOK };
        const f = await b.readFacts({
          planIds: ["p-1", "p-other"],
          permitIds: ["permit-1", "permit-other"],
          rates: [rate, { source: "src_a", window: 1 }],
          positions: [pos, { account: "acct", symbol: "ETHUSDT", ...PAPER_BOOK }],
        });
        expect(f.tradingState).toBe("ACTIVE");
        expect([...f.claimedPlanIds]).toEqual(["p-1"]);
        expect([...f.usedPermitIds]).toEqual(["permit-1"]);
        expect(f.rateCounts.get(rateKey(rate))).toBe(1);
        expect(f.rateCounts.get(rateKey({ source: "src_a", window: 1 })) ?? 0).toBe(0);
        expect(f.positions.get(positionKey(pos))).toBe("-1.25");
        expect(
          f.positions.get(positionKey({ account: "acct", symbol: "ETHUSDT", ...PAPER_BOOK })) ?? "0",
        ).toBe("0");
        expect(await b.positions()).toEqual([
          { account: "acct", symbol: "BTCUSDT", ...PAPER_BOOK, qty: "-1.25" },
        ]);
      });

      it("positions: each book (venue and mode) apart, checked and set on its own, listed with its book", async () => {
        const books = [
          PAPER_BOOK,
          { venue: "binance-usdm", mode: "paper" },
          { venue: "binance-usdm", mode: "live" },
          { venue: "polymarket", mode: "live" },
        ] as const;
        const refs = books.map((book) => ({ account: "acct-b", symbol: "BTCUSDT", ...book }));
        const entries: BusEntry[] = [];
        for (let i = 0; i < refs.length; i++) entries.push(await take("main", `book-${i}`));
        // one batch, every book read as flat: each set is checked against its own book only
        const out = await b.commit(
          refs.map((ref, i) =>
            decisionFor(entries[i]!, {
              checks: { position: { ...ref, expected: "0" } },
              effects: { setPosition: { ...ref, value: String(i + 1) } },
            }),
          ),
        );
        expect(out.map((o) => o.status)).toEqual(["committed", "committed", "committed", "committed"]);
        const f = await b.readFacts({ ...emptyQuery, positions: refs });
        expect(refs.map((r) => f.positions.get(positionKey(r)))).toEqual(["1", "2", "3", "4"]);
        const listed = (await b.positions()).filter((p) => p.account === "acct-b");
        expect(listed.map((p) => [p.venue, p.mode, p.qty]).sort()).toEqual([
          ["binance-usdm", "live", "3"],
          ["binance-usdm", "paper", "2"],
          ["paper", "paper", "1"],
          ["polymarket", "live", "4"],
        ]);
        // the live book moving leaves the others as they were
        const e = await take("main", "book-x");
        const live = refs[2]!;
        const moved = await b.commit([
          decisionFor(e, {
            checks: { position: { ...live, expected: "3" } },
            effects: { setPosition: { ...live, value: "0" } },
          }),
        ]);
        expect(moved[0]!.status).toBe("committed");
        const after = await b.readFacts({ ...emptyQuery, positions: refs });
        expect(refs.map((r) => after.positions.get(positionKey(r)))).toEqual(["1", "2", undefined, "4"]);
      });

      it("keeps result JSON exact: large integers, decimals as text, optional reconciled", async () => {
        const e = await take("manual", "p-j");
        const d = decisionFor(e, {
          result: {
            timestamp: 8_640_000_000_000_000 - 1,
            reconciled: true,
            plan_id: "a:b.c-d_e",
            decision: "UNKNOWN",
            executed: false,
            mode: "live",
          },
        });
        const [o] = await b.commit([d]);
        expect(o!.status).toBe("committed");
        const [r] = await b.readResults("0", 10);
        expect(r!.result).toEqual(d.result);
        expect(r!.result.lane).toBe("manual");
      });

      it("counts rate across commits and applies position 0 as removal", async () => {
        const rate = { source: "s", window: 42 };
        const pos = { account: "a", symbol: "S", ...PAPER_BOOK };
        const e1 = await take("main", "r1");
        const e2 = await take("main", "r2");
        const e3 = await take("main", "r3");
        const out = await b.commit([
          decisionFor(e1, { effects: { countRate: rate, setPosition: { ...pos, value: "2" } } }),
          decisionFor(e2, {
            checks: { rate: { ...rate, limit: 2, allowed: true }, position: { ...pos, expected: "2" } },
            effects: { countRate: rate, setPosition: { ...pos, value: "0" } },
          }),
          decisionFor(e3, {
            checks: { rate: { ...rate, limit: 2, allowed: false }, position: { ...pos, expected: "0" } },
            effects: { countRate: rate },
          }),
        ]);
        expect(out.map((o) => o.status)).toEqual(["committed", "committed", "committed"]);
        const f = await b.readFacts({ ...emptyQuery, rates: [rate], positions: [pos] });
        expect(f.rateCounts.get(rateKey(rate))).toBe(3);
        expect(f.positions.get(positionKey(pos)) ?? "0").toBe("0");
        expect(await b.positions()).toEqual([]);
      });

      it("duplicate-order marks: checked absent or as stored, set with a time to live, conflicts within a batch and across calls", async () => {
        const key = '["src_a","default","BTCUSDT","BUY","1","",false]';
        const other = '["src_a","default","BTCUSDT","BUY","2","",false]';
        const read = async (k = key) =>
          (await b.readFacts({ ...emptyQuery, duplicates: [k] })).duplicates.get(k);
        expect(await read()).toBeUndefined();
        const [e1, e2, e3] = [
          await take("main", "dup-1"),
          await take("main", "dup-2"),
          await take("main", "dup-3"),
        ];
        const at = Date.now();
        const mark = (e: BusEntry, expected: string | null, ttlMs = 60_000) =>
          decisionFor(e, {
            checks: { duplicate: { key, expected } },
            effects: { markDuplicate: { key, at, ttlMs } },
          });
        // two decisions of one batch both read "absent": the first marks, the second conflicts
        const out = await b.commit([mark(e1, null), mark(e2, null)]);
        expect(out.map((o) => o.status)).toEqual(["committed", "conflict"]);
        expect(out[1]).toEqual({ status: "conflict", on: "duplicate" });
        expect(await read()).toBe(String(at));
        expect(await read(other)).toBeUndefined();
        // decided again against the mark as stored: commits (a denial re-checks what it read)
        expect(
          (await b.commit([decisionFor(e2, { checks: { duplicate: { key, expected: String(at) } } })]))[0],
        ).toMatchObject({
          status: "committed",
        });
        expect((await b.commit([mark(e3, "1")]))[0]).toEqual({ status: "conflict", on: "duplicate" });
        // two executors both read "absent" and commit one after the other: the second conflicts
        expect((await b.commit([mark(e3, null)]))[0]).toEqual({ status: "conflict", on: "duplicate" });
        // a mark lives ttlMs, then reads as absent
        const [e4, e5] = [await take("main", "dup-4"), await take("main", "dup-5")];
        const short = decisionFor(e4, {
          checks: { duplicate: { key: other, expected: null } },
          effects: { markDuplicate: { key: other, at, ttlMs: 300 } },
        });
        expect((await b.commit([short]))[0]!.status).toBe("committed");
        expect(await read(other)).toBe(String(at));
        await new Promise((r) => setTimeout(r, 450));
        expect(await read(other)).toBeUndefined();
        expect(
          (await b.commit([decisionFor(e5, { checks: { duplicate: { key: other, expected: null } } })]))[0]!
            .status,
        ).toBe("committed");
      });

      it('daily notional: checked as stored ("0" when none), set per account and UTC day, conflicts within a batch and across calls', async () => {
        const day = { account: "acct-1", day: "2026-12-06" };
        const read = async (ref = day) =>
          (await b.readFacts({ ...emptyQuery, dailyNotional: [ref] })).dailyNotional.get(
            JSON.stringify([ref.account, ref.day]),
          );
        expect(await read()).toBeUndefined();
        const [e1, e2, e3] = [
          await take("main", "day-1"),
          await take("main", "day-2"),
          await take("main", "day-3"),
        ];
        const spend = (e: BusEntry, expected: string, value: string, ref = day) =>
          decisionFor(e, {
            checks: { dailyNotional: { ...ref, expected } },
            effects: { setDailyNotional: { ...ref, value } },
          });
        // two decisions of one batch both read "0": the first adds, the second conflicts
        const out = await b.commit([spend(e1, "0", "100.5"), spend(e2, "0", "70")]);
        expect(out.map((o) => o.status)).toEqual(["committed", "conflict"]);
        expect(out[1]).toEqual({ status: "conflict", on: "dailyNotional" });
        expect(await read()).toBe("100.5");
        // decided again against the stored total: commits
        expect((await b.commit([spend(e2, "100.5", "170.5")]))[0]!.status).toBe("committed");
        expect(await read()).toBe("170.5");
        // another day and another account are other totals
        const nextDay = { account: "acct-1", day: "2026-12-07" };
        expect(await read(nextDay)).toBeUndefined();
        expect((await b.commit([spend(e3, "0", "5", nextDay)]))[0]!.status).toBe("committed");
        expect(await read(nextDay)).toBe("5");
        expect(await read({ account: "acct-2", day: day.day })).toBeUndefined();
        expect(await read()).toBe("170.5");
        // a refusal decided on an earlier order of its batch (the overlay's 270.5) conflicts when that
        // order does: it was refused for an order never placed, and is decided again
        const [e4, e5] = [await take("main", "day-4"), await take("main", "day-5")];
        const refusal = (e: BusEntry, expected: string) =>
          decisionFor(e, { checks: { dailyNotional: { ...day, expected } } });
        const stale = await b.commit([spend(e4, "70", "170"), refusal(e5, "170")]);
        expect(stale).toEqual([
          { status: "conflict", on: "dailyNotional" },
          { status: "conflict", on: "dailyNotional" },
        ]);
        expect((await b.commit([refusal(e5, "170.5")]))[0]!.status).toBe("committed");
        expect(await read()).toBe("170.5");
      });

      it("open orders: counted per account (working, being sent, open UNKNOWN), re-checked against the live count", async () => {
        await b.ensureGroups();
        const count = async (account = "acct-1") =>
          (await b.readFacts({ ...emptyQuery, openOrderAccounts: [account] })).openOrders.get(account);
        expect(await count()).toBe(0);
        const entries = [];
        for (let i = 1; i <= 7; i++) entries.push(await take("main", `oo-${i}`));
        const [e1, e2, e3, e4, e5, e6, e7] = entries as [
          BusEntry,
          BusEntry,
          BusEntry,
          BusEntry,
          BusEntry,
          BusEntry,
          BusEntry,
        ];
        const check = (allowed: boolean, limit: number, account = "acct-1") => ({
          openOrders: { account, limit, allowed },
        });
        // a working order and a live send of acct-1, a working order of acct-2
        await b.commit([decisionFor(e1, { effects: { openOrder: workingOrderFor("oo-w1") } })]);
        await b.commit([{ ...decisionFor(e2), sendRecord: sendRecordFor(e2) }]);
        await b.commit([
          decisionFor(e3, { effects: { openOrder: workingOrderFor("oo-w2", { account: "acct-2" }) } }),
        ]);
        expect(await count()).toBe(2);
        expect(await count("acct-2")).toBe(1);
        expect(await count("acct-3")).toBe(0);
        // allowed at limit 2 no longer holds (2 + 1 > 2); a denial at limit 2 does
        expect((await b.commit([decisionFor(e4, { checks: check(true, 2) })]))[0]).toEqual({
          status: "conflict",
          on: "openOrders",
        });
        // two orders of one batch, both allowed at limit 3: the first opens the third, the second conflicts
        const out = await b.commit([
          decisionFor(e4, { checks: check(true, 3), effects: { openOrder: workingOrderFor("oo-w3") } }),
          decisionFor(e5, { checks: check(true, 3), effects: { openOrder: workingOrderFor("oo-w4") } }),
        ]);
        expect(out.map((o) => o.status)).toEqual(["committed", "conflict"]);
        expect(out[1]).toEqual({ status: "conflict", on: "openOrders" });
        expect(await count()).toBe(3);
        // a denial re-checked: holds while full, conflicts once an order closed
        expect((await b.commit([decisionFor(e5, { checks: check(false, 3) })]))[0]!.status).toBe("committed");
        await b.commit([decisionFor(e6, { effects: { closeOrders: ["oo-w1"] } })]);
        expect(await count()).toBe(2);
        expect((await b.commit([decisionFor(e7, { checks: check(false, 3) })]))[0]).toEqual({
          status: "conflict",
          on: "openOrders",
        });
        expect((await b.commit([decisionFor(e7, { checks: check(true, 3) })]))[0]!.status).toBe("committed");
        // a closed order and an opened one in one batch are both counted before the next check
        const [e8, e9] = [await take("main", "oo-8"), await take("main", "oo-9")];
        const both = await b.commit([
          decisionFor(e8, { effects: { closeOrders: ["oo-w3"] } }),
          decisionFor(e9, { checks: check(true, 2), effects: { openOrder: workingOrderFor("oo-w5") } }),
        ]);
        expect(both.map((o) => o.status)).toEqual(["committed", "committed"]);
        expect(await count()).toBe(2);
      });

      it("exposure: an account's positions and open orders read whole, compared whole at commit, its batch's earlier touches counted", async () => {
        await b.ensureGroups();
        const read = async (account = "acct-1") => {
          const x = (await b.readFacts({ ...emptyQuery, exposureAccounts: [account] })).exposure.get(account);
          expect(x, `exposure of ${account} read`).toBeDefined();
          return x!;
        };
        expect((await read()).snapshot.size).toBe(0);
        const e: BusEntry[] = [];
        for (let i = 1; i <= 12; i++) e.push(await take("main", `ex-${i}`));
        const at = (i: number) => e[i - 1]!;
        const book = { account: "acct-1", symbol: "BTCUSDT", ...PAPER_BOOK };
        const live = { ...book, venue: "binance-usdm", mode: "live" } as const;
        const setPos = (value: string, ref: typeof book | typeof live = book) => ({
          setPosition: { ...ref, value },
        });
        // two positions (two books), a working order and a live send of acct-1; a position of acct-2
        await b.commit([decisionFor(at(1), { effects: setPos("2") })]);
        await b.commit([decisionFor(at(2), { effects: setPos("-1.5", live) })]);
        await b.commit([decisionFor(at(3), { effects: { openOrder: workingOrderFor("ex-w1") } })]);
        await b.commit([{ ...decisionFor(at(4)), sendRecord: sendRecordFor(at(4)) }]);
        await b.commit([
          decisionFor(at(5), { effects: setPos("9", { ...book, account: "acct-2" } as typeof book) }),
        ]);
        const x = await read();
        expect([...x.snapshot.keys()].sort()).toEqual(
          [`p:${positionKey(book)}`, `p:${positionKey(live)}`, `s:main:${at(4).id}`, "w:ex-w1"].sort(),
        );
        expect(x.positions.get(positionKey(live))?.qty).toBe(dec("-1.5"));
        expect([...x.orders.values()].map((o) => [o.mode, o.side, String(o.remaining)]).sort()).toEqual([
          ["live", "BUY", "1"],
          ["paper", "BUY", "3"],
        ]);
        expect((await read("acct-2")).snapshot.size).toBe(1);
        // decided on what `r` read: its snapshot, and its books' version where the ledger keeps one
        const check = (r: AccountExposure, touched = 0) => ({
          exposure: { account: "acct-1", snapshot: r.snapshot, version: r.version, touched },
        });
        // unchanged: commits (another account's position moved meanwhile: not this one's exposure)
        await b.commit([
          decisionFor(at(6), { effects: setPos("10", { ...book, account: "acct-2" } as typeof book) }),
        ]);
        expect((await b.commit([decisionFor(at(7), { checks: check(x) })]))[0]!.status).toBe("committed");
        // a position, a working order, a send: each change of acct-1 is a conflict
        await b.commit([decisionFor(at(8), { effects: setPos("2.5") })]);
        expect((await b.commit([decisionFor(at(9), { checks: check(x) })]))[0]).toEqual({
          status: "conflict",
          on: "exposure",
        });
        const y = await read();
        await b.commit([decisionFor(at(9), { effects: { closeOrders: ["ex-w1"] } })]);
        expect((await b.commit([decisionFor(at(10), { checks: check(y) })]))[0]).toEqual({
          status: "conflict",
          on: "exposure",
        });
        // one batch: a decision that touches acct-1 (checking nothing), then one decided after it
        // (touched 1): both commit; one decided as if nothing came before it (touched 0) conflicts
        const z = await read();
        const batch = await b.commit([
          decisionFor(at(10), { effects: setPos("3") }),
          decisionFor(at(11), { checks: check(z, 1) }),
          decisionFor(at(12), { checks: check(z, 0) }),
        ]);
        expect(batch.map((o) => (o.status === "conflict" ? o.on : o.status))).toEqual([
          "committed",
          "committed",
          "exposure",
        ]);
        // the earlier decision conflicts: the one decided on its writes conflicts too
        const w = await read();
        const [f1, f2] = [await take("main", "ex-13"), await take("main", "ex-14")];
        const after = await b.commit([
          decisionFor(f1, { checks: { tradingState: "HALTED", ...check(w) }, effects: setPos("4") }),
          decisionFor(f2, { checks: check(w, 1) }),
        ]);
        expect(after.map((o) => (o.status === "conflict" ? o.on : o.status))).toEqual([
          "tradingState",
          "exposure",
        ]);
        expect((await read()).positions.get(positionKey(book))?.qty).toBe(dec("3"));
        // with the open-order count in the same commit (one read of the orders for both): each holds apart
        const [h1, h2] = [await take("main", "ex-13b"), await take("main", "ex-14b")];
        const both = (r: AccountExposure, allowed: boolean) => ({
          ...check(r),
          openOrders: { account: "acct-1", limit: 1, allowed },
        });
        expect(await b.commit([decisionFor(h1, { checks: both(x, false) })])).toEqual([
          { status: "conflict", on: "exposure" },
        ]);
        const v = await read();
        expect(await b.commit([decisionFor(h1, { checks: both(v, true) })])).toEqual([
          { status: "conflict", on: "openOrders" },
        ]);
        expect((await b.commit([decisionFor(h2, { checks: both(v, false) })]))[0]!.status).toBe("committed");
        // an account whose name needs JSON escapes is matched exactly, and apart from its prefixes' look-alikes
        const odd = 'a"\\/é🚀,';
        const [g1, g2, g3, g4] = [
          await take("main", "ex-15"),
          await take("main", "ex-16"),
          await take("main", "ex-17"),
          await take("main", "ex-18"),
        ];
        const oddBook = { ...book, account: odd };
        await b.commit([decisionFor(g1, { effects: { setPosition: { ...oddBook, value: "1" } } })]);
        await b.commit([
          decisionFor(g2, { effects: { setPosition: { ...oddBook, account: 'a"', value: "7" } } }),
        ]);
        const o = (await b.readFacts({ ...emptyQuery, exposureAccounts: [odd] })).exposure.get(odd)!;
        expect([...o.snapshot.keys()]).toEqual([`p:${positionKey(oddBook)}`]);
        const oddCheck = { exposure: { ...o, touched: 0 } };
        expect((await b.commit([decisionFor(g3, { checks: oddCheck })]))[0]!.status).toBe("committed");
        await b.commit([decisionFor(g4, { effects: { setPosition: { ...oddBook, value: "2" } } })]);
        const g5 = await take("main", "ex-19");
        expect((await b.commit([decisionFor(g5, { checks: oddCheck })]))[0]).toEqual({
          status: "conflict",
          on: "exposure",
        });
      });

      it("committing the same decision again is a duplicate and writes nothing", async () => {
        const e = await take("main", "p-dup");
        const d = decisionFor(e, { effects: { countRate: { source: "s", window: 7 } } });
        expect((await b.commit([d]))[0]!.status).toBe("committed");
        expect(await b.commit([d])).toEqual([{ status: "duplicate" }]);
        // duplicate is decided before checks: a failing check still reports duplicate
        expect(await b.commit([decisionFor(e, { checks: { tradingState: "HALTED" } })])).toEqual([
          { status: "duplicate" },
        ]);
        // the same entry twice in one array
        const e2 = await take("manual", "p-dup2");
        const out = await b.commit([decisionFor(e2), decisionFor(e2)]);
        expect(out.map((o) => o.status)).toEqual(["committed", "duplicate"]);
        expect(await allResults()).toHaveLength(2);
        const f = await b.readFacts({ ...emptyQuery, rates: [{ source: "s", window: 7 }] });
        expect(f.rateCounts.get(rateKey({ source: "s", window: 7 }))).toBe(1);
      });

      it("an entry that was never handed out is not pending: duplicate", async () => {
        const id = await b.publish("main", planFields("never-read"));
        expect(await b.commit([decisionFor({ lane: "main", id })])).toEqual([{ status: "duplicate" }]);
        // the same id on the other lane is a different entry
        await b.readNew("c1", 10, 0);
        expect(await b.commit([decisionFor({ lane: "manual", id })])).toEqual([{ status: "duplicate" }]);
        expect(await b.commit([decisionFor({ lane: "main", id })])).toEqual([
          { status: "committed", resultId: expect.any(String) },
        ]);
      });

      describe("conflicts write nothing and leave the entry pending", () => {
        const rate = { source: "s", window: 99 };
        const pos = { account: "a", symbol: "S", ...PAPER_BOOK };
        const spyEffects: DecisionEffects = {
          claimPlanId: "spy-plan",
          consumePermit: "spy-permit",
          countRate: { source: "spy", window: 1 },
          setPosition: { account: "spy", symbol: "SPY", ...PAPER_BOOK, value: "5" },
        };

        /** Sets up shared state: plan_id "taken" claimed, permit "used" consumed, rate 1 in window 99, position a/S = "1.5". */
        async function seed(): Promise<void> {
          const e = await take("main", "seed");
          const out = await b.commit([
            decisionFor(e, {
              effects: {
                claimPlanId: "taken",
                consumePermit: "used",
                countRate: rate,
                setPosition: { ...pos, value: "1.5" },
              },
            }),
          ]);
          expect(out[0]!.status).toBe("committed");
        }

        async function expectConflict(checks: DecisionChecks, on: keyof DecisionChecks): Promise<void> {
          const e = await take("manual", "victim");
          const resultsBefore = (await allResults()).length;
          const pendingBefore = await b.pendingCount();
          const out = await b.commit([decisionFor(e, { checks, effects: spyEffects })]);
          expect(out).toEqual([{ status: "conflict", on }]);
          expect((await allResults()).length).toBe(resultsBefore);
          expect(await b.pendingCount()).toBe(pendingBefore);
          expect(await b.dlqLength()).toBe(0);
          const f = await b.readFacts({
            planIds: ["spy-plan"],
            permitIds: ["spy-permit"],
            rates: [{ source: "spy", window: 1 }],
            positions: [{ account: "spy", symbol: "SPY", ...PAPER_BOOK }],
          });
          expect(f.claimedPlanIds.size).toBe(0);
          expect(f.usedPermitIds.size).toBe(0);
          expect(f.rateCounts.get(rateKey({ source: "spy", window: 1 })) ?? 0).toBe(0);
          expect(f.positions.get(positionKey({ account: "spy", symbol: "SPY", ...PAPER_BOOK })) ?? "0").toBe(
            "0",
          );
          // it can still be committed once the checks hold
          const again = await b.commit([decisionFor(e)]);
          expect(again[0]!.status).toBe("committed");
        }

        beforeEach(seed);

        it("tradingState", async () => {
          await b.setTradingState("REDUCING", "test");
          await expectConflict({ tradingState: "ACTIVE" }, "tradingState");
        });
        it("tradingState (never set means ACTIVE)", async () => {
          await expectConflict({ tradingState: "HALTED" }, "tradingState");
        });
        it("planId expected unclaimed but claimed", async () => {
          await expectConflict({ planId: { id: "taken", claimed: false } }, "planId");
        });
        it("planId expected claimed but unclaimed", async () => {
          await expectConflict({ planId: { id: "free", claimed: true } }, "planId");
        });
        it("permit expected unused but used", async () => {
          await expectConflict({ permit: { id: "used", used: false } }, "permit");
        });
        it("permit expected used but unused", async () => {
          await expectConflict({ permit: { id: "fresh", used: true } }, "permit");
        });
        it("rate allowed but counter reached the limit", async () => {
          await expectConflict({ rate: { ...rate, limit: 1, allowed: true } }, "rate");
        });
        it("rate denied but counter is below the limit", async () => {
          await expectConflict({ rate: { ...rate, limit: 2, allowed: false } }, "rate");
        });
        it("rate allowed on an absent counter with limit 0", async () => {
          await expectConflict({ rate: { source: "none", window: 1, limit: 0, allowed: true } }, "rate");
        });
        it("position changed", async () => {
          await expectConflict({ position: { ...pos, expected: "0" } }, "position");
        });
        it("position expected non-zero but absent", async () => {
          await expectConflict(
            { position: { account: "a", symbol: "OTHER", ...PAPER_BOOK, expected: "1" } },
            "position",
          );
        });
        it("position compares canonical text exactly", async () => {
          await expectConflict({ position: { ...pos, expected: "1.50" } }, "position");
        });
        it("the first failing check in declaration order is reported", async () => {
          await b.setTradingState("HALTED", "test");
          await expectConflict(
            {
              tradingState: "ACTIVE",
              planId: { id: "taken", claimed: false },
              permit: { id: "used", used: false },
              rate: { ...rate, limit: 1, allowed: true },
              position: { ...pos, expected: "0" },
            },
            "tradingState",
          );
        });
        it("later checks are reached when earlier ones hold", async () => {
          await expectConflict(
            {
              tradingState: "ACTIVE",
              planId: { id: "taken", claimed: true },
              permit: { id: "used", used: true },
              rate: { ...rate, limit: 2, allowed: true },
              position: { ...pos, expected: "-1.5" },
            },
            "position",
          );
        });
        it("passing checks commit", async () => {
          const e = await take("main", "ok");
          const out = await b.commit([
            decisionFor(e, {
              checks: {
                tradingState: "ACTIVE",
                planId: { id: "taken", claimed: true },
                permit: { id: "used", used: true },
                rate: { ...rate, limit: 1, allowed: false },
                position: { ...pos, expected: "1.5" },
              },
            }),
          ]);
          expect(out[0]!.status).toBe("committed");
        });
      });

      it("a later decision in the same commit sees the earlier ones' writes", async () => {
        const e1 = await take("main", "same");
        const e2 = await take("manual", "same");
        const e3 = await take("main", "p3");
        const e4 = await take("main", "p4");
        const claim = (e: BusEntry) =>
          decisionFor(e, {
            checks: { planId: { id: "same", claimed: false }, permit: { id: "pm", used: false } },
            effects: { claimPlanId: "same", consumePermit: "pm" },
          });
        const rate = { source: "s", window: 5 };
        const rated = (e: BusEntry) =>
          decisionFor(e, {
            checks: { rate: { ...rate, limit: 1, allowed: true } },
            effects: { countRate: rate },
          });
        const out = await b.commit([claim(e1), claim(e2), rated(e3), rated(e4)]);
        expect(out.map((o) => (o.status === "conflict" ? `conflict:${o.on}` : o.status))).toEqual([
          "committed",
          "conflict:planId",
          "committed",
          "conflict:rate",
        ]);
        expect(await b.pendingCount()).toBe(2);
        const rs = await allResults();
        expect(rs.map((r) => `${r.lane}/${r.stream_id}`)).toEqual([`main/${e1.id}`, `main/${e3.id}`]);
      });

      it("an empty commit returns []", async () => {
        expect(await b.commit([])).toEqual([]);
      });

      it("deadLetter copies the entry to the DLQ with the result", async () => {
        await b.publish("manual", [
          ["plan", Buffer.from([0xfe, 0x01])],
          ["plan", "again"],
        ]);
        const [e] = await b.readNew("c1", 10, 0);
        const d = decisionFor(e!, {
          result: {
            plan_id: null,
            authenticated: false,
            decision: "FAILED",
            executed: false,
            error: "internal_error:delivery_limit",
          },
          effects: { deadLetter: { fields: e!.fields, deliveries: 10 } },
        });
        const out = await b.commit([d]);
        expect(out[0]!.status).toBe("committed");
        expect(await b.dlqLength()).toBe(1);
        expect(await b.pendingCount()).toBe(0);
        const [r] = await b.readResults("0", 10);
        expect(r!.result).toEqual(d.result);
        expect(await b.commit([d])).toEqual([{ status: "duplicate" }]);
        expect(await b.dlqLength()).toBe(1);
      });
    });

    describe("reclaim", () => {
      beforeEach(async () => {
        await b.ensureGroups();
      });

      it("takes over only entries idle longer than minIdleMs, counting deliveries", async () => {
        const e = await take("main", "slow", "A");
        expect(await b.reclaim("B", 60_000, 10)).toEqual([]);
        await sleep(150);
        const r1 = await b.reclaim("B", 100, 10);
        expect(r1).toHaveLength(1);
        expect(r1[0]!.id).toBe(e.id);
        expect(r1[0]!.lane).toBe("main");
        expect(r1[0]!.deliveries).toBe(2);
        expect(r1[0]!.fields.map(([n, v]) => [n, v.toString("utf8")])).toEqual(
          e.fields.map(([n, v]) => [n, v.toString("utf8")]),
        );
        // just reclaimed: not idle any more
        expect(await b.reclaim("C", 100, 10)).toEqual([]);
        await sleep(150);
        const r2 = await b.reclaim("C", 100, 10);
        expect(r2.map((x) => [x.id, x.deliveries])).toEqual([[e.id, 3]]);
        expect(await b.pendingCount()).toBe(1);
        // never handed out as new again
        expect(await b.readNew("D", 10, 0)).toEqual([]);
      });

      it("reclaims across both lanes and honours count", async () => {
        await take("main", "a", "A");
        await take("manual", "b", "A");
        await take("main", "c", "A");
        await sleep(150);
        const r1 = await b.reclaim("B", 100, 2);
        expect(r1).toHaveLength(2);
        const r2 = await b.reclaim("B", 100, 10);
        expect(r2).toHaveLength(1);
        expect(new Set([...r1, ...r2].map((x) => x.lane))).toEqual(new Set(["main", "manual"]));
        for (const x of [...r1, ...r2]) expect(x.deliveries).toBe(2);
      });

      it("committed entries are not reclaimed", async () => {
        const e = await take("main", "done", "A");
        await b.commit([decisionFor(e)]);
        await sleep(150);
        expect(await b.reclaim("B", 100, 10)).toEqual([]);
      });

      it("after a reclaim, the first commit wins and the other is a duplicate", async () => {
        const e = await take("main", "race", "A");
        await sleep(150);
        const [r] = await b.reclaim("B", 100, 10);
        expect(r!.id).toBe(e.id);
        // B (the new owner) commits first
        expect((await b.commit([decisionFor(r!, { result: { order_id: "B" } })]))[0]!.status).toBe(
          "committed",
        );
        // A (the old owner) finishes late
        expect(await b.commit([decisionFor(e, { result: { order_id: "A" } })])).toEqual([
          { status: "duplicate" },
        ]);
        const rs = await allResults();
        expect(rs).toHaveLength(1);
        expect(rs[0]!.order_id).toBe("B");
        expect(await b.pendingCount()).toBe(0);
      });

      it("the old owner may commit first; the reclaimer then gets a duplicate", async () => {
        const e = await take("manual", "race2", "A");
        await sleep(150);
        const [r] = await b.reclaim("B", 100, 10);
        expect(r!.deliveries).toBe(2);
        expect((await b.commit([decisionFor(e, { result: { order_id: "A" } })]))[0]!.status).toBe(
          "committed",
        );
        expect(await b.commit([decisionFor(r!, { result: { order_id: "B" } })])).toEqual([
          { status: "duplicate" },
        ]);
        const rs = await allResults();
        expect(rs.map((x) => x.order_id)).toEqual(["A"]);
      });
    });

    describe("live orders: send records, finishSend, reconcile", () => {
      beforeEach(async () => {
        await b.ensureGroups();
      });

      const recordFor = sendRecordFor;
      const live = (e: BusEntry, effects: DecisionEffects = {}, checks: DecisionChecks = {}): Decision => ({
        ...decisionFor(e, { effects, checks }),
        sendRecord: recordFor(e),
      });

      it("stage 1 applies the effects and records the send, but writes no result and keeps the entry pending", async () => {
        const e = await take("main", "live-1");
        const out = await b.commit([
          live(e, { claimPlanId: "live-1" }, { planId: { id: "live-1", claimed: false } }),
        ]);
        expect(out).toEqual([{ status: "committed", resultId: "" }]);
        expect(await allResults()).toEqual([]);
        expect(await b.pendingCount()).toBe(1);
        const facts = await b.readFacts({
          ...emptyQuery,
          planIds: ["live-1"],
          sendRecords: [{ lane: "main", streamId: e.id }],
        });
        expect([...facts.claimedPlanIds]).toEqual(["live-1"]);
        expect(facts.sendRecords.get(`main:${e.id}`)).toEqual(recordFor(e));
      });

      it("a first-delivery query without sendRecords reads none", async () => {
        const facts = await b.readFacts(emptyQuery);
        expect(facts.sendRecords.size).toBe(0);
      });

      it("any decision for an entry with a send record conflicts on sendRecord, and writes nothing", async () => {
        const e = await take("manual", "live-2");
        await b.commit([live(e)]);
        expect(await b.commit([decisionFor(e, { effects: { claimPlanId: "x" } })])).toEqual([
          { status: "conflict", on: "sendRecord" },
        ]);
        expect(await b.commit([live(e)])).toEqual([{ status: "conflict", on: "sendRecord" }]);
        const facts = await b.readFacts({ ...emptyQuery, planIds: ["x"] });
        expect(facts.claimedPlanIds.size).toBe(0);
        expect(await allResults()).toEqual([]);
      });

      it("two stage-1 decisions for one entry in one batch: the second conflicts", async () => {
        const e = await take("main", "live-3");
        expect(await b.commit([live(e), live(e)])).toEqual([
          { status: "committed", resultId: "" },
          { status: "conflict", on: "sendRecord" },
        ]);
      });

      it("finishSend writes the result, acknowledges and drops the record; a second finish is a duplicate", async () => {
        const e = await take("main", "live-4");
        expect(await b.sendsInFlight()).toEqual([]);
        await b.commit([live(e)]);
        expect(await b.sendsInFlight()).toEqual([recordFor(e)]);
        const done = resultFor(e, { mode: "live", order_id: "123", venue: "binance-usdm" });
        expect(await b.finishSend(recordFor(e), done)).toBe("committed");
        expect(await b.sendsInFlight()).toEqual([]);
        expect(await b.finishSend(recordFor(e), done)).toBe("duplicate");
        expect(await allResults()).toEqual([done]);
        expect(await b.pendingCount()).toBe(0);
        expect(await b.openUnknowns()).toEqual([]);
        const facts = await b.readFacts({ ...emptyQuery, sendRecords: [{ lane: "main", streamId: e.id }] });
        expect(facts.sendRecords.size).toBe(0);
      });

      it("an UNKNOWN finish keeps an open UNKNOWN; reconcile appends the follow-up exactly once", async () => {
        const e = await take("manual", "live-5");
        await b.commit([live(e)]);
        const unknown = resultFor(e, { decision: "UNKNOWN", executed: false, error: "venue_error:timeout" });
        expect(await b.finishSend(recordFor(e), unknown)).toBe("committed");
        expect(await b.pendingCount()).toBe(0);
        expect(await b.sendsInFlight()).toEqual([]);
        expect(await b.openUnknowns()).toEqual([recordFor(e)]);
        expect(await b.openUnknowns("polymarket")).toEqual([]);
        expect(await b.openUnknowns("binance-usdm")).toEqual([recordFor(e)]);
        const follow = resultFor(e, { reconciled: true, order_id: "9" });
        const [r1, r2] = await Promise.all([
          b.reconcile({ lane: "manual", streamId: e.id }, follow),
          b.reconcile({ lane: "manual", streamId: e.id }, follow),
        ]);
        expect([r1, r2].sort()).toEqual(["committed", "duplicate"]);
        expect(await b.reconcile({ lane: "manual", streamId: e.id }, follow)).toBe("duplicate");
        expect(await allResults()).toEqual([unknown, follow]);
        expect(await b.openUnknowns()).toEqual([]);
      });

      it("reconcile without an open UNKNOWN writes nothing", async () => {
        const e = await take("main", "live-6");
        await b.commit([live(e)]);
        expect(await b.reconcile({ lane: "main", streamId: e.id }, resultFor(e, { reconciled: true }))).toBe(
          "duplicate",
        );
        expect(await allResults()).toEqual([]);
      });

      it("finishSend stores the order a result leaves resting, in the same step; a duplicate finish stores nothing", async () => {
        const e = await take("main", "live-8");
        await b.commit([live(e)]);
        const resting: WorkingOrder = { ...workingOrderFor("live-8"), venue: "binance-usdm", mode: "live" };
        expect(await b.finishSend(recordFor(e), resultFor(e), { resting })).toBe("committed");
        expect(await b.workingOrders("binance-usdm")).toEqual([resting]);
        const other: WorkingOrder = { ...resting, key: "live-8b" };
        expect(await b.finishSend(recordFor(e), resultFor(e), { resting: other })).toBe("duplicate");
        expect(await b.workingOrders()).toEqual([resting]);
      });

      it("finishSend and reconcile move the live book with the result, only while it is as read; else nothing written", async () => {
        const book = { account: "acct-1", symbol: "BTCUSDT", venue: "binance-usdm", mode: "live" } as const;
        const held = async () =>
          (await b.readFacts({ ...emptyQuery, positions: [book] })).positions.get(positionKey(book));
        const e = await take("main", "live-pos-1");
        await b.commit([live(e)]);
        // read as flat, but another fill of the book landed first: nothing written, the entry still pending
        await b.commit([
          decisionFor(await take("main", "live-pos-x"), {
            effects: { setPosition: { ...book, value: "0.5" } },
          }),
        ]);
        const stale = { ...book, expected: "0", value: "0.01" };
        expect(await b.finishSend(recordFor(e), resultFor(e), { position: stale })).toBe("position");
        expect(await held()).toBe("0.5");
        expect((await b.readResults("0", 10_000)).filter((r) => r.result.stream_id === e.id)).toHaveLength(0);
        expect(await b.sendsInFlight()).toHaveLength(1);
        // read again: written with the result
        expect(
          await b.finishSend(recordFor(e), resultFor(e), {
            position: { ...book, expected: "0.5", value: "0.51" },
          }),
        ).toBe("committed");
        expect(await held()).toBe("0.51");
        // a finish already written is a duplicate before any position check: nothing moves twice
        expect(
          await b.finishSend(recordFor(e), resultFor(e), {
            position: { ...book, expected: "0.51", value: "0.52" },
          }),
        ).toBe("duplicate");
        expect(await held()).toBe("0.51");
        // the same for a reconciled follow-up; a move back to flat removes the position
        const u = await take("main", "live-pos-2");
        await b.commit([live(u)]);
        await b.finishSend(recordFor(u), resultFor(u, { decision: "UNKNOWN", executed: false }));
        const follow = resultFor(u, { reconciled: true });
        const ref = { lane: "main" as const, streamId: u.id };
        expect(await b.reconcile(ref, follow, { position: { ...book, expected: "0", value: "0" } })).toBe(
          "position",
        );
        expect(await b.reconcile(ref, follow, { position: { ...book, expected: "0.51", value: "0" } })).toBe(
          "committed",
        );
        expect(await held()).toBeUndefined();
        expect(await b.reconcile(ref, follow, { position: { ...book, expected: "0", value: "9" } })).toBe(
          "duplicate",
        );
        expect(await held()).toBeUndefined();
      });

      it("reconcile stores the order a reconciled result leaves resting; a second reconcile stores nothing", async () => {
        const e = await take("main", "live-9");
        await b.commit([live(e)]);
        await b.finishSend(recordFor(e), resultFor(e, { decision: "UNKNOWN", executed: false }));
        expect(await b.workingOrders()).toEqual([]);
        const resting: WorkingOrder = { ...workingOrderFor("live-9"), venue: "polymarket", mode: "live" };
        const follow = resultFor(e, { reconciled: true });
        expect(await b.reconcile({ lane: "main", streamId: e.id }, follow, { resting })).toBe("committed");
        expect(
          await b.reconcile({ lane: "main", streamId: e.id }, follow, { resting: { ...resting, key: "x" } }),
        ).toBe("duplicate");
        expect(await b.workingOrders()).toEqual([resting]);
      });

      it("finishSend of an entry that is no longer pending writes nothing (an UNKNOWN is not reopened)", async () => {
        const e = await take("main", "live-7");
        await b.commit([live(e)]);
        const unknown = resultFor(e, { decision: "UNKNOWN", executed: false });
        await b.finishSend(recordFor(e), unknown);
        await b.reconcile({ lane: "main", streamId: e.id }, resultFor(e, { reconciled: true }));
        expect(await b.finishSend(recordFor(e), unknown)).toBe("duplicate");
        expect(await b.openUnknowns()).toEqual([]);
        expect((await allResults()).length).toBe(2);
      });

      it("a live cancel with an unknown answer: stage 1 writes its record and the known cancels, finishSend keeps it open, reconcile closes it once", async () => {
        const known = workingOrderFor("wo-known", { venue: "polymarket", mode: "live" });
        const open = workingOrderFor("wo-open", { venue: "polymarket", mode: "live" });
        const seed = await take("main", "seed-cancel");
        await b.commit([decisionFor(seed, { effects: { openOrder: known } })]);
        const seed2 = await take("main", "seed-cancel-2");
        await b.commit([decisionFor(seed2, { effects: { openOrder: open } })]);
        const e = await take("manual", "cancel-unknown");
        const record: CancelRecord = {
          kind: "cancel",
          lane: "manual",
          streamId: e.id,
          startedAt: 1_700_000_000_000,
          result: resultFor(e, { action: "cancel_all", venue: "polymarket", mode: "live" }),
          venue: "polymarket",
          orders: [open],
          canceled: true,
          refused: null,
          detail: "http_503",
        };
        const stage1: Decision = {
          ...decisionFor(e, {
            effects: { closeOrders: [known.key], orderEvents: [orderEventFor(known)] },
            checks: {
              workingOrders: [
                { key: known.key, expected: encodeWorkingOrder(known) },
                { key: open.key, expected: encodeWorkingOrder(open) },
              ],
            },
          }),
          sendRecord: record,
        };
        expect(await b.commit([stage1])).toEqual([{ status: "committed", resultId: "" }]);
        expect(await allResults()).toHaveLength(2);
        expect((await b.workingOrders()).map((o) => o.key)).toEqual([open.key]);
        expect((await b.readOrderEvents("0", 10)).map((x) => x.event)).toEqual([orderEventFor(known)]);
        const facts = await b.readFacts({ ...emptyQuery, sendRecords: [{ lane: "manual", streamId: e.id }] });
        expect(facts.sendRecords.get(`manual:${e.id}`)).toEqual(record);

        const unknown = resultFor(e, {
          decision: "UNKNOWN",
          executed: false,
          error: "venue_error:cancel_unknown",
        });
        expect(await b.finishSend(record, unknown)).toBe("committed");
        expect(await b.pendingCount()).toBe(0);
        expect(await b.openUnknowns("polymarket")).toEqual([record]);
        expect(await b.openUnknowns("binance-usdm")).toEqual([]);

        const follow = resultFor(e, { reconciled: true });
        expect(await b.reconcile(record, follow)).toBe("committed");
        expect(await b.reconcile(record, follow)).toBe("duplicate");
        expect(await b.openUnknowns()).toEqual([]);
        expect((await allResults()).slice(-2)).toEqual([unknown, follow]);
      });
    });

    describe("leases (Ledger.holdLease)", () => {
      it("one owner at a time: renewed by its owner, refused to another until it expires", async () => {
        expect(await b.holdLease({ name: "follow", owner: "a", ttlMs: 400 })).toBe(true);
        expect(await b.holdLease({ name: "follow", owner: "b", ttlMs: 400 })).toBe(false);
        expect(await b.holdLease({ name: "follow", owner: "a", ttlMs: 400 })).toBe(true);
        expect(await b.holdLease({ name: "other", owner: "b", ttlMs: 400 })).toBe(true);
        await new Promise((r) => setTimeout(r, 600));
        expect(await b.holdLease({ name: "follow", owner: "b", ttlMs: 400 })).toBe(true);
        expect(await b.holdLease({ name: "follow", owner: "a", ttlMs: 400 })).toBe(false);
      });

      it("of many owners racing for a free lease, exactly one gets it", async () => {
        const got = await Promise.all(
          ["a", "b", "c", "d"].map((owner) => b.holdLease({ name: "race", owner, ttlMs: 5000 })),
        );
        expect(got.filter(Boolean)).toHaveLength(1);
      });
    });

    describe("working orders and order events (wire-v1 §4a)", () => {
      beforeEach(async () => {
        await b.ensureGroups();
      });

      const text = encodeWorkingOrder;
      const order = workingOrderFor("ord-1");

      async function allEvents(from: Backend = b): Promise<OrderEvent[]> {
        return (await from.readOrderEvents("0", 10_000)).map((x) => x.event);
      }

      /** Commits one decision that opens `o` (checking it absent) and returns its entry. */
      async function openOrder(o: WorkingOrder, planId = `open-${o.key}`): Promise<BusEntry> {
        const e = await take("main", planId);
        const [out] = await b.commit([
          decisionFor(e, {
            checks: { workingOrders: [{ key: o.key, expected: null }] },
            effects: { openOrder: o },
          }),
        ]);
        expect(out!.status).toBe("committed");
        return e;
      }

      it("the paper follower leaves a malformed working order alone, says so, and still follows the others", async () => {
        const corrupt = workingOrderFor("ord-bad", { qty: "lots", reduce_only: true });
        const sound = workingOrderFor("ord-ok", { price: "65000", qty: "0.5" });
        await openOrder(corrupt);
        await openOrder(sound);
        const failures: string[] = [];
        const follower = new OrderFollower({
          ledger: b,
          policy: () => makePolicy({ referencePrices: new Map([[sound.symbol, dec("1")]]) }),
          observer: { orderEvent: () => undefined, failed: (err) => failures.push(String(err)) },
          intervalMs: 1000,
        });
        expect(await follower.pass()).toBe(1);
        expect(failures).toEqual([
          expect.stringContaining("working order ord-bad: qty or price is not a decimal"),
        ]);
        expect((await allEvents()).map((e) => [e.client_order_id, e.event])).toEqual([
          [sound.client_order_id, "FILL"],
        ]);
        expect(await b.workingOrders()).toEqual([corrupt]);
      });

      it("a commit with openOrder stores it: listed, and read by key and by scope with its exact text", async () => {
        await openOrder(order);
        expect(await b.workingOrders()).toEqual([order]);
        expect(await b.workingOrders("paper")).toEqual([order]);
        expect(await b.workingOrders("binance-usdm")).toEqual([]);
        const byKey = await b.readFacts({ ...emptyQuery, orderKeys: [order.key, "ord-none"] });
        expect([...byKey.workingOrders]).toEqual([[order.key, { order, text: text(order) }]]);
        const byScope = await b.readFacts({
          ...emptyQuery,
          orderScopes: [{ venue: "paper", account: "acct-1" }],
        });
        expect([...byScope.workingOrders]).toEqual([[order.key, { order, text: text(order) }]]);
        expect((await allResults()).length).toBe(1);
        expect(await allEvents()).toEqual([]);
        // a query asking for no orders reads none
        expect((await b.readFacts(emptyQuery)).workingOrders.size).toBe(0);
      });

      it("scopes reach one account on one venue, of one symbol when given; listed oldest first", async () => {
        const later = workingOrderFor("a-later", { placed_at: 1_700_000_000_500 });
        const sameTimeB = workingOrderFor("b-same", { placed_at: 1_700_000_000_100 });
        const sameTimeA = workingOrderFor("a-same", { placed_at: 1_700_000_000_100, symbol: "ETHUSDT" });
        const otherAccount = workingOrderFor("c-acct", { account: "acct-2", placed_at: 1 });
        const otherVenue = workingOrderFor("d-venue", { venue: "polymarket", mode: "live", placed_at: 2 });
        for (const o of [later, sameTimeB, sameTimeA, otherAccount, otherVenue]) await openOrder(o);
        expect((await b.workingOrders()).map((o) => o.key)).toEqual([
          "c-acct",
          "d-venue",
          "a-same",
          "b-same",
          "a-later",
        ]);
        expect(await b.workingOrders("polymarket")).toEqual([otherVenue]);
        const scoped = await b.readFacts({
          ...emptyQuery,
          orderScopes: [{ venue: "paper", account: "acct-1" }],
        });
        expect(new Set(scoped.workingOrders.keys())).toEqual(new Set(["a-later", "b-same", "a-same"]));
        const bySymbol = await b.readFacts({
          ...emptyQuery,
          orderKeys: ["d-venue"],
          orderScopes: [
            { venue: "paper", account: "acct-1", symbol: "ETHUSDT" },
            { venue: "paper", account: "acct-2" },
          ],
        });
        expect(new Map([...bySymbol.workingOrders].map(([k, v]) => [k, v.text]))).toEqual(
          new Map([
            ["d-venue", text(otherVenue)],
            ["a-same", text(sameTimeA)],
            ["c-acct", text(otherAccount)],
          ]),
        );
      });

      describe("a working-order check that no longer holds conflicts and writes nothing", () => {
        const spy = workingOrderFor("spy-open");

        async function expectOrderConflict(checks: DecisionChecks, on: keyof DecisionChecks): Promise<void> {
          const e = await take("manual", "victim");
          const resultsBefore = (await allResults()).length;
          const pendingBefore = await b.pendingCount();
          const ordersBefore = await b.workingOrders();
          const out = await b.commit([
            decisionFor(e, {
              checks,
              effects: {
                claimPlanId: "spy-plan",
                setPosition: { account: "spy", symbol: "SPY", ...PAPER_BOOK, value: "5" },
                openOrder: spy,
                closeOrders: [order.key],
                orderEvents: [orderEventFor(order)],
              },
            }),
          ]);
          expect(out).toEqual([{ status: "conflict", on }]);
          expect((await allResults()).length).toBe(resultsBefore);
          expect(await b.pendingCount()).toBe(pendingBefore);
          expect(await allEvents()).toEqual([]);
          expect(await b.workingOrders()).toEqual(ordersBefore);
          const f = await b.readFacts({
            ...emptyQuery,
            planIds: ["spy-plan"],
            positions: [{ account: "spy", symbol: "SPY", ...PAPER_BOOK }],
            orderKeys: [spy.key],
          });
          expect(f.claimedPlanIds.size).toBe(0);
          expect(f.positions.size).toBe(0);
          expect(f.workingOrders.size).toBe(0);
          // it can still be committed once the checks hold
          expect((await b.commit([decisionFor(e)]))[0]!.status).toBe("committed");
        }

        beforeEach(async () => {
          await openOrder(order);
        });

        it("the stored text changed (a stale expected text)", async () => {
          const stale = text({ ...order, fill_qty: "0.000000000000000001" });
          await expectOrderConflict(
            { workingOrders: [{ key: order.key, expected: stale }] },
            "workingOrders",
          );
        });
        it("the same order in another field order is another text", async () => {
          const { key, ...rest } = order;
          const reordered = JSON.stringify({ ...rest, key });
          await expectOrderConflict({ workingOrders: [{ key, expected: reordered }] }, "workingOrders");
        });
        it("expected absent but stored", async () => {
          await expectOrderConflict({ workingOrders: [{ key: order.key, expected: null }] }, "workingOrders");
        });
        it("expected stored but absent", async () => {
          await expectOrderConflict(
            {
              workingOrders: [
                { key: order.key, expected: text(order) },
                { key: "ord-gone", expected: text(workingOrderFor("ord-gone")) },
              ],
            },
            "workingOrders",
          );
        });
        it("checked after position: a failing position is reported first", async () => {
          await expectOrderConflict(
            {
              tradingState: "ACTIVE",
              position: { account: "a", symbol: "S", ...PAPER_BOOK, expected: "1" },
              workingOrders: [{ key: order.key, expected: null }],
            },
            "position",
          );
        });
        it("reached when every earlier check holds", async () => {
          await expectOrderConflict(
            {
              tradingState: "ACTIVE",
              planId: { id: "free", claimed: false },
              position: { account: "a", symbol: "S", ...PAPER_BOOK, expected: "0" },
              workingOrders: [
                { key: order.key, expected: text(order) },
                { key: "ord-none", expected: "" },
              ],
            },
            "workingOrders",
          );
        });
      });

      it("closeOrders and orderEvents are written once, with the result", async () => {
        await openOrder(order);
        const e = await take("main", "cancel-1");
        const event = orderEventFor(order);
        const d = decisionFor(e, {
          result: { action: "cancel", plan_id: "cancel-1" },
          checks: { workingOrders: [{ key: order.key, expected: text(order) }] },
          effects: { closeOrders: [order.key], orderEvents: [event] },
        });
        const [out] = await b.commit([d]);
        expect(out!.status).toBe("committed");
        expect(await b.workingOrders()).toEqual([]);
        expect(await allEvents()).toEqual([event]);
        expect((await allResults()).at(-1)).toEqual(d.result);
        expect(await b.pendingCount()).toBe(0);
        // committing it again is a duplicate: no second event, no second result
        expect(await b.commit([d])).toEqual([{ status: "duplicate" }]);
        expect(await allEvents()).toEqual([event]);
        expect((await allResults()).length).toBe(2);
        expect((await b.readFacts({ ...emptyQuery, orderKeys: [order.key] })).workingOrders.size).toBe(0);
      });

      it("a later decision in the same commit sees an earlier one's order writes", async () => {
        const e1 = await take("main", "w1");
        const e2 = await take("main", "w2");
        const e3 = await take("main", "w3");
        const e4 = await take("main", "w4");
        const absent = { workingOrders: [{ key: order.key, expected: null }] };
        const stored = { workingOrders: [{ key: order.key, expected: text(order) }] };
        const out = await b.commit([
          decisionFor(e1, { checks: absent, effects: { openOrder: order } }),
          decisionFor(e2, { checks: absent, effects: { openOrder: order } }),
          decisionFor(e3, {
            checks: stored,
            effects: { closeOrders: [order.key], orderEvents: [orderEventFor(order)] },
          }),
          decisionFor(e4, { checks: stored, effects: { closeOrders: [order.key] } }),
        ]);
        expect(out.map((o) => (o.status === "conflict" ? `conflict:${o.on}` : o.status))).toEqual([
          "committed",
          "conflict:workingOrders",
          "committed",
          "conflict:workingOrders",
        ]);
        expect(await b.workingOrders()).toEqual([]);
        expect(await allEvents()).toEqual([orderEventFor(order)]);
        expect(await b.pendingCount()).toBe(2);
      });

      it("updateOrders applies an update only while the order and the position are as expected", async () => {
        expect(await b.lastOrderEventId()).toBe("0");
        await openOrder(order);
        const pos = { account: order.account, symbol: order.symbol, ...PAPER_BOOK };
        const half = { ...order, fill_qty: "0.000000000000000001" };
        const fill = orderEventFor(half, "FILL");
        const partial = {
          key: order.key,
          expected: text(order),
          next: half,
          event: fill,
          position: { ...pos, expected: "0", value: "0.000000000000000001" },
        };
        // a stale expected text, then a stale position: conflict, nothing written
        expect(await b.updateOrders([{ ...partial, expected: text(half) }])).toEqual(["conflict"]);
        expect(
          await b.updateOrders([{ ...partial, position: { ...partial.position, expected: "0.0" } }]),
        ).toEqual(["conflict"]);
        expect(await b.workingOrders()).toEqual([order]);
        expect(await b.positions()).toEqual([]);
        expect(await allEvents()).toEqual([]);

        // applied: the order updated, the position set, the event appended; the same update again conflicts
        expect(await b.updateOrders([partial, partial])).toEqual(["applied", "conflict"]);
        expect(await b.workingOrders()).toEqual([half]);
        const f = await b.readFacts({ ...emptyQuery, orderKeys: [order.key], positions: [pos] });
        expect(f.workingOrders.get(order.key)?.text).toBe(text(half));
        expect(f.positions.get(positionKey(pos))).toBe("0.000000000000000001");
        expect(await allEvents()).toEqual([fill]);

        // the rest fills (the position back to "0": removed), then an update of the removed order conflicts
        const done = orderEventFor(order, "FILL", order.qty);
        const last = {
          key: order.key,
          expected: text(half),
          next: null,
          event: done,
          position: { ...pos, expected: "0.000000000000000001", value: "0" },
        };
        const cancel = { key: order.key, expected: text(half), next: null, event: orderEventFor(half) };
        expect(await b.updateOrders([last, cancel])).toEqual(["applied", "conflict"]);
        expect(await b.workingOrders()).toEqual([]);
        expect(await b.positions()).toEqual([]);
        const events = await b.readOrderEvents("0", 10);
        expect(events.map((x) => x.event)).toEqual([fill, done]);
        expect(await b.lastOrderEventId()).toBe(events[1]!.id);
        // readOrderEvents pages by afterId (exclusive)
        expect((await b.readOrderEvents("0", 1)).map((x) => x.event)).toEqual([fill]);
        expect((await b.readOrderEvents(events[0]!.id, 10)).map((x) => x.event)).toEqual([done]);
        expect(await b.readOrderEvents(events[1]!.id, 10)).toEqual([]);
        expect(await b.updateOrders([])).toEqual([]);
      });

      it("an update that would store the order under another key is refused, nothing written", async () => {
        await openOrder(order);
        const moved = { ...order, key: "elsewhere", fill_qty: "0.000000000000000001" };
        const event = orderEventFor(moved, "FILL");
        await expect(
          b.updateOrders([{ key: order.key, expected: text(order), next: moved, event }]),
        ).rejects.toThrow(/under elsewhere/);
        expect(await b.workingOrders()).toEqual([order]);
        expect(await allEvents()).toEqual([]);
      });

      it("an update without a position leaves positions alone", async () => {
        await openOrder(order);
        const e = await take("main", "seed-pos");
        await b.commit([
          decisionFor(e, {
            effects: { setPosition: { account: "acct-1", symbol: "BTCUSDT", ...PAPER_BOOK, value: "2" } },
          }),
        ]);
        const event = orderEventFor(order, "EXPIRED");
        expect(await b.updateOrders([{ key: order.key, expected: text(order), next: null, event }])).toEqual([
          "applied",
        ]);
        expect(await b.positions()).toEqual([
          { account: "acct-1", symbol: "BTCUSDT", ...PAPER_BOOK, qty: "2" },
        ]);
        expect(await allEvents()).toEqual([event]);
      });

      it("two followers updating the same order at once: exactly one is applied, its event written once", async () => {
        await openOrder(order);
        const other = await open(prefix);
        opened.push(other);
        other.bindDeployment((await b.readDeployment())!);
        const update = (cause: "state:HALTED" | "venue") => ({
          key: order.key,
          expected: text(order),
          next: null,
          event: { ...orderEventFor(order), cause },
        });
        const answers = await Promise.all([
          b.updateOrders([update("state:HALTED")]),
          other.updateOrders([update("venue")]),
        ]);
        expect(answers.flat().sort()).toEqual(["applied", "conflict"]);
        const winner = answers[0]![0] === "applied" ? "state:HALTED" : "venue";
        expect((await allEvents(other)).map((x) => x.cause)).toEqual([winner]);
        expect(await other.workingOrders()).toEqual([]);
      });

      it("updateOrders refuses without the bound marker (replaced, unbound, lost) and writes nothing", async () => {
        await openOrder(order);
        const update = { key: order.key, expected: text(order), next: null, event: orderEventFor(order) };
        const unbound = await open(prefix);
        opened.push(unbound);
        await expect(unbound.updateOrders([update])).rejects.toBeInstanceOf(DeploymentMismatchError);
        const ops = await open(prefix);
        opened.push(ops);
        await ops.initDeployment({ state: "ACTIVE", who: "ops", replace: true });
        await expect(b.updateOrders([update])).rejects.toBeInstanceOf(DeploymentMismatchError);
        expect(await ops.workingOrders()).toEqual([order]);
        expect(await allEvents(ops)).toEqual([]);
        await hooks.wipe(prefix);
        await expect(ops.updateOrders([update])).rejects.toBeInstanceOf(DeploymentMismatchError);
        const after = await open(prefix);
        opened.push(after);
        expect(await after.readDeployment()).toBeUndefined();
        expect(await after.workingOrders()).toEqual([]);
        expect(await after.readOrderEvents("0", 10)).toEqual([]);
      });

      it("a commit under another marker neither opens nor closes orders nor writes events", async () => {
        await openOrder(order);
        const e = await take("main", "late");
        const ops = await open(prefix);
        opened.push(ops);
        await ops.initDeployment({ state: "ACTIVE", who: "ops", replace: true });
        const d = decisionFor(e, {
          effects: {
            openOrder: workingOrderFor("ord-2"),
            closeOrders: [order.key],
            orderEvents: [orderEventFor(order)],
          },
        });
        expect(await b.commit([d])).toEqual([{ status: "conflict", on: "deployment" }]);
        expect(await ops.workingOrders()).toEqual([order]);
        expect(await allEvents(ops)).toEqual([]);
      });
    });

    describe("results, alerts, state, positions", () => {
      beforeEach(async () => {
        await b.ensureGroups();
      });

      it("readResults pages by afterId (exclusive) and waits up to blockMs when empty", async () => {
        const es = [await take("main", "r0"), await take("main", "r1"), await take("manual", "r2")];
        const out = await b.commit(es.map((e, i) => decisionFor(e, { result: { plan_id: `r${i}` } })));
        expect(out.every((o) => o.status === "committed")).toBe(true);
        const page1 = await b.readResults("0", 2);
        expect(page1.map((r) => r.result.plan_id)).toEqual(["r0", "r1"]);
        const page2 = await b.readResults(page1[1]!.id, 2);
        expect(page2.map((r) => r.result.plan_id)).toEqual(["r2"]);
        expect(page2[0]!.id).toBe((out[2] as { resultId: string }).resultId);
        expect(await b.readResults(page2[0]!.id, 10)).toEqual([]);
        const t0 = Date.now();
        expect(await b.readResults(page2[0]!.id, 10, 150)).toEqual([]);
        expect(Date.now() - t0).toBeGreaterThanOrEqual(100);
        expect(await b.readResults(page2[0]!.id, 10, 0)).toEqual([]);
      });

      it('lastResultId is "0" on an empty stream, then the newest result\'s id; reading after it misses nothing later', async () => {
        expect(await b.lastResultId()).toBe("0");
        const [first, second] = [await take("main", "l0"), await take("main", "l1")];
        const [out] = await b.commit([decisionFor(first, { result: { plan_id: "l0" } })]);
        const mark = await b.lastResultId();
        expect(mark).toBe((out as { resultId: string }).resultId);
        await b.commit([decisionFor(second, { result: { plan_id: "l1" } })]);
        expect((await b.readResults(mark, 10)).map((r) => r.result.plan_id)).toEqual(["l1"]);
      });

      it("a blocked readResults wakes when a result is written", async () => {
        const e = await take("main", "w");
        const t0 = Date.now();
        const waiting = b.readResults("0", 10, 5_000);
        await sleep(50);
        await b.commit([decisionFor(e, { result: { plan_id: "w" } })]);
        const got = await waiting;
        expect(got.map((r) => r.result.plan_id)).toEqual(["w"]);
        expect(Date.now() - t0).toBeLessThan(4_000);
      });

      it("publishAlert returns an id", async () => {
        const id = await b.publishAlert({ kind: "unauthorized_position_change", qty: "1.5", n: 3 });
        expect(typeof id).toBe("string");
        expect(id.length).toBeGreaterThan(0);
      });

      it("trading state: set/get, logged with who and at", async () => {
        expect(await b.getTradingState()).toBe("ACTIVE");
        expect((await b.tradingStateLog()).map((l) => [l.state, l.who])).toEqual([["ACTIVE", "conformance"]]);
        const t0 = Date.now();
        await b.setTradingState("HALTED", "alice");
        expect(await b.getTradingState()).toBe("HALTED");
        await b.setTradingState("REDUCING", "console:bob");
        await b.setTradingState("ACTIVE", "cli");
        const t1 = Date.now();
        expect(await b.getTradingState()).toBe("ACTIVE");
        const log = (await b.tradingStateLog()).slice(1);
        expect(log.map((l) => [l.state, l.who])).toEqual([
          ["HALTED", "alice"],
          ["REDUCING", "console:bob"],
          ["ACTIVE", "cli"],
        ]);
        for (const l of log) {
          expect(typeof l.at).toBe("number");
          expect(l.at).toBeGreaterThanOrEqual(t0 - 1);
          expect(l.at).toBeLessThanOrEqual(t1 + 1);
        }
        const f = await b.readFacts(emptyQuery);
        expect(f.tradingState).toBe("ACTIVE");
        await b.setTradingState("REDUCING", "x");
        expect((await b.readFacts(emptyQuery)).tradingState).toBe("REDUCING");
      });

      it("positions() lists non-zero positions only", async () => {
        const es = [await take("main", "q0"), await take("main", "q1"), await take("main", "q2")];
        await b.commit([
          decisionFor(es[0]!, {
            effects: { setPosition: { account: "u-1", symbol: "BTCUSDT", ...PAPER_BOOK, value: "1.5" } },
          }),
          decisionFor(es[1]!, {
            effects: { setPosition: { account: "u-2", symbol: 'ETH"USDT', ...PAPER_BOOK, value: "-2" } },
          }),
          decisionFor(es[2]!, {
            effects: { setPosition: { account: "u-1", symbol: "BTCUSDT", ...PAPER_BOOK, value: "0" } },
          }),
        ]);
        expect(await b.positions()).toEqual([
          { account: "u-2", symbol: 'ETH"USDT', ...PAPER_BOOK, qty: "-2" },
        ]);
        const e = await take("main", "q3");
        await b.commit([
          decisionFor(e, {
            effects: {
              setPosition: {
                account: "u-1",
                symbol: "SOLUSDT",
                ...PAPER_BOOK,
                value: "0.000000000000000001",
              },
            },
          }),
        ]);
        const ps = [...(await b.positions())].sort((x, y) => x.account.localeCompare(y.account));
        expect(ps).toEqual([
          { account: "u-1", symbol: "SOLUSDT", ...PAPER_BOOK, qty: "0.000000000000000001" },
          { account: "u-2", symbol: 'ETH"USDT', ...PAPER_BOOK, qty: "-2" },
        ]);
      });

      it("readFacts with an empty query works", async () => {
        const f = await b.readFacts(emptyQuery);
        expect(f.tradingState).toBe("ACTIVE");
        expect(f.claimedPlanIds.size).toBe(0);
        expect(f.usedPermitIds.size).toBe(0);
        expect(f.positions.size).toBe(0);
      });
    });

    describe("the bus's clock (BusClock)", () => {
      it("Redis answers its TIME in ms (this machine's clock, so within a second of it); the embedded bus keeps none", async () => {
        const before = Date.now();
        const at = await b.busTime();
        const after = Date.now();
        if (b.kind === "sqlite") {
          expect(at).toBeUndefined();
          return;
        }
        expect(Number.isSafeInteger(at)).toBe(true);
        expect(at as number).toBeGreaterThanOrEqual(before - 1000);
        expect(at as number).toBeLessThanOrEqual(after + 1000);
      });
    });

    describe("deployment marker (wire-v1 §7b)", () => {
      it("init creates the marker, the groups and the state, and refuses a second deployment", async () => {
        const id = await b.readDeployment();
        expect(id).toMatch(/^dep-/);
        expect(await b.getTradingState()).toBe("ACTIVE");
        const e = await take("main", "d-1");
        expect(e.deliveries).toBe(1);
        const err = await b.initDeployment({ state: "HALTED", who: "again" }).catch((x: unknown) => x);
        expect(err).toBeInstanceOf(DeploymentExistsError);
        expect((err as DeploymentExistsError).existing).toBe(id);
        expect(await b.readDeployment()).toBe(id);
        expect(await b.getTradingState()).toBe("ACTIVE");
      });

      it("init reads plans published before it (the group starts at id 0)", async () => {
        const other = await open(uniquePrefix());
        opened.push(other);
        const early = await other.publish("main", planFields("before-init"));
        await other.initDeployment({ state: "HALTED", who: "t" });
        expect(await other.getTradingState()).toBe("HALTED");
        expect((await other.readNew("c1", 10, 0)).map((x) => x.id)).toEqual([early]);
      });

      it("replace gives a new marker and keeps the claims; a handle bound to the old one writes nothing", async () => {
        const e = await take("main", "d-2");
        const [first] = await b.commit([decisionFor(e, { effects: { claimPlanId: "d-2" } })]);
        expect(first!.status).toBe("committed");
        const old = await b.readDeployment();
        const e2 = await take("main", "d-3");
        // Another process replaces the deployment (init --force) while `b` is still bound to `old`.
        const other = await open(prefix);
        opened.push(other);
        const fresh = await other.initDeployment({ state: "HALTED", who: "ops", replace: true });
        expect(fresh).not.toBe(old);
        expect(await b.readDeployment()).toBe(fresh);
        const claimed = await b.readFacts({ ...emptyQuery, planIds: ["d-2"] });
        expect([...claimed.claimedPlanIds]).toEqual(["d-2"]);

        const before = (await allResults()).length;
        const d = decisionFor(e2, { effects: { claimPlanId: "d-3" } });
        expect(await b.commit([d, decisionFor(e2)])).toEqual([
          { status: "conflict", on: "deployment" },
          { status: "conflict", on: "deployment" },
        ]);
        expect((await allResults()).length).toBe(before);
        expect(await b.pendingCount()).toBe(1);
        const facts = await b.readFacts({ ...emptyQuery, planIds: ["d-3"] });
        expect(facts.claimedPlanIds.size).toBe(0);
        // Bound to the new marker, it commits again.
        b.bindDeployment(fresh);
        expect((await b.commit([d]))[0]!.status).toBe("committed");
      });

      it("an unbound handle writes nothing", async () => {
        const e = await take("main", "d-4");
        const other = await open(prefix);
        opened.push(other);
        expect(await other.commit([decisionFor(e)])).toEqual([{ status: "conflict", on: "deployment" }]);
        expect(await allResults()).toEqual([]);
      });

      it("finishSend and reconcile refuse under another marker", async () => {
        const e = await take("main", "d-5");
        const record = sendRecordFor(e);
        const [staged] = await b.commit([{ ...decisionFor(e), sendRecord: record }]);
        expect(staged!.status).toBe("committed");
        const other = await open(prefix);
        opened.push(other);
        await other.initDeployment({ state: "ACTIVE", who: "ops", replace: true });
        await expect(b.finishSend(record, resultFor(e))).rejects.toBeInstanceOf(DeploymentMismatchError);
        await expect(
          b.reconcile({ lane: e.lane, streamId: e.id }, resultFor(e, { reconciled: true })),
        ).rejects.toBeInstanceOf(DeploymentMismatchError);
        expect(await allResults()).toEqual([]);
        expect(await b.pendingCount()).toBe(1);
      });

      it("after a data loss: no marker, and reading never recreates the group, state or claims", async () => {
        const e = await take("main", "d-6");
        await b.commit([decisionFor(e, { effects: { claimPlanId: "d-6" } })]);
        await b.setTradingState("HALTED", "ops");
        await hooks.wipe(prefix);
        expect(await b.readDeployment()).toBeUndefined();
        const after = await open(prefix);
        opened.push(after);
        expect(await after.readDeployment()).toBeUndefined();
        await after.publish("main", planFields("after-loss"));
        await expect(after.readNew("c1", 10, 0)).rejects.toThrow(/intentgate init/);
        // still nothing recreated: the read failed the same way again, no marker, no claims
        await expect(after.readNew("c1", 10, 0)).rejects.toThrow(/intentgate init/);
        expect(await after.readDeployment()).toBeUndefined();
        expect((await after.readFacts({ ...emptyQuery, planIds: ["d-6"] })).claimedPlanIds.size).toBe(0);
        // b, still bound to the lost marker, commits nothing into the empty store
        expect(await b.commit([decisionFor(e)])).toEqual([{ status: "conflict", on: "deployment" }]);
        // init after the loss: the waiting plan is read
        await after.initDeployment({ state: "HALTED", who: "ops" });
        expect((await after.readNew("c1", 10, 0)).length).toBe(1);
      });
    });

    describe("claims in namespaces (wire-v1 §3)", () => {
      it("an unsigned entry's claim does not make the signed plan_id claimed, nor the reverse", async () => {
        const unsignedKey = claimKey("ns-1", "dev_bot");
        const e1 = await take("main", "ns-a");
        await b.commit([
          decisionFor(e1, {
            checks: { planId: { id: unsignedKey, claimed: false } },
            effects: { claimPlanId: unsignedKey },
          }),
        ]);
        const f = await b.readFacts({ ...emptyQuery, planIds: ["ns-1", unsignedKey] });
        expect([...f.claimedPlanIds]).toEqual([unsignedKey]);
        const e2 = await take("main", "ns-b");
        const [signed] = await b.commit([
          decisionFor(e2, {
            checks: { planId: { id: "ns-1", claimed: false } },
            effects: { claimPlanId: "ns-1" },
          }),
        ]);
        expect(signed!.status).toBe("committed");
        const g = await b.readFacts({ ...emptyQuery, planIds: ["ns-1", unsignedKey] });
        expect(new Set(g.claimedPlanIds)).toEqual(new Set(["ns-1", unsignedKey]));
      });
    });

    describe("isolation and lifecycle", () => {
      it("two backends with different prefixes do not see each other", async () => {
        const other = await open(uniquePrefix());
        opened.push(other);
        await b.ensureGroups();
        await other.ensureGroups();
        await b.publish("main", planFields("mine"));
        await b.setTradingState("HALTED", "t");
        expect(await other.readNew("c1", 10, 0)).toEqual([]);
        expect(await other.getTradingState()).toBe("ACTIVE");
      });

      it("close() resolves", async () => {
        const other = await open(uniquePrefix());
        await other.ensureGroups();
        await other.close();
      });
    });
  });
}
