/**
 * The account caps across processes (issue 13): `limits.max_daily_notional`,
 * `limits.max_open_orders`, `limits.max_position` and
 * `limits.max_gross_notional` with 3 real executor processes in one
 * consumer group, on both buses. Whatever the interleaving, the executed
 * notional never passes the daily cap (and a plan is only refused when it
 * really would pass it), no account ever has more open orders than its cap,
 * and replaying the results in the order they were committed, every fill
 * kept the position and the gross exposure within their caps and every
 * refusal would have passed them: all are re-checked inside the atomic
 * commit.
 */
import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, inject, it } from "vitest";
import { utcDay } from "../../src/core/dailyNotional.js";
import { type Decimal, formatDecimal, mulDecimalUp, parseDecimal } from "../../src/core/decimal.js";
import { positionKey } from "../../src/core/facts.js";
import type { ResultEntry } from "../../src/ports/bus.js";
import { type BusKind, ExecutorHarness, type PlanSpec, PRICES } from "../support/executorHarness.js";

let h: ExecutorHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** A seeded generator of integers in [0, n) (the seed is printed, so a failing run can be replayed). */
function seeded(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n) => {
    s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0;
    return (s >>> 16) % n; // the high bits: an LCG's low bits cycle
  };
}

const dec = (text: string): Decimal => {
  const d = parseDecimal(text);
  if (d === undefined) throw new Error(`not a decimal: ${text}`);
  return d;
};

/** Many accounts, each with a small cap, their plans published next to each other: every account's cap is a race between executors. */
const ACCOUNTS = Array.from({ length: 24 }, (_, i) => `acct-${i}`);

describe.each<BusKind>(["redis", "sqlite"])("account caps across 3 executors (%s)", (bus) => {
  it("max_daily_notional: executed notional never passes the cap, and only plans that would pass it are refused", async () => {
    h = await ExecutorHarness.create({ bus, redisUrl: inject("redisUrl") });
    const CAP = "130000";
    const config = h.writeConfig({ limits: { max_daily_notional: { "*": CAP } }, batch_size: 2 });
    const seed = Number.parseInt(randomBytes(4).toString("hex"), 16);
    const rnd = seeded(seed);
    const tag = randomBytes(3).toString("hex");
    // per account 6 plans of about 20000 to 55000 against the cap, next to each other, over three
    // symbols: plans of one symbol also meet at the position check, plans of two only at the cap's
    const qtyFor = (symbol: string): string =>
      symbol === "BTCUSDT"
        ? `0.${3 + rnd(5)}${rnd(10)}`
        : symbol === "ETHUSDT"
          ? `${7 + rnd(11)}.${rnd(10)}`
          : `${140 + rnd(220)}`;
    const SYMBOLS = ["BTCUSDT", "ETHUSDT", "SOLUSDT"];
    const specs: PlanSpec[] = ACCOUNTS.flatMap((account, a) =>
      Array.from({ length: 6 }, (_, i) => {
        const symbol = SYMBOLS[(a + i) % 3]!;
        return {
          planId: `dn-${tag}-${a}-${i}`,
          lane: "main" as const,
          account,
          symbol,
          side: rnd(2) === 0 ? ("BUY" as const) : ("SELL" as const),
          qty: qtyFor(symbol),
          auth: "ok" as const,
        };
      }),
    );
    const procs = await h.start(["dn-1", "dn-2", "dn-3"], { config });
    const day = utcDay(Date.now());
    const published = await h.publish(specs, { burst: 12, pauseMs: 5 });
    const results = await h.waitForResults(published.length, 90_000);
    let executedAll = 0;
    let refusedAll = 0;
    const notional = (r: { result: { symbol: string | null; qty: string | null } }): Decimal =>
      mulDecimalUp(dec(r.result.qty!), dec(PRICES[r.result.symbol!]!));
    const cap = dec(CAP);
    for (const account of ACCOUNTS) {
      const mine = results.filter((r) => r.result.account === account);
      const executed = mine.filter((r) => r.result.decision === "EXECUTED");
      const refused = mine.filter((r) => r.result.error === "limit:daily_notional");
      expect(
        executed.length + refused.length,
        `${account}: every plan executed or refused (seed ${seed})`,
      ).toBe(mine.length);
      let total = 0n as Decimal;
      for (const r of executed) total = (total + notional(r)) as Decimal;
      expect(total <= cap, `${account}: ${formatDecimal(total)} executed against ${CAP} (seed ${seed})`).toBe(
        true,
      );
      // the total only grows: a plan refused at any time would still pass the cap at the end
      for (const r of refused)
        expect(total + notional(r) > cap, `${r.result.plan_id} refused (seed ${seed})`).toBe(true);
      expect(refused.length, `${account}: the cap was reached (seed ${seed})`).toBeGreaterThan(0);
      // the bus holds exactly what executed
      const facts = await h.backend.readFacts({
        planIds: [],
        permitIds: [],
        rates: [],
        positions: [],
        dailyNotional: [{ account, day }],
      });
      expect(facts.dailyNotional.get(JSON.stringify([account, day]))).toBe(formatDecimal(total));
      executedAll += executed.length;
      refusedAll += refused.length;
    }
    console.log(
      `[${bus}] daily cap: ${ACCOUNTS.length} accounts, ${executedAll} executed, ${refusedAll} refused, none over ${CAP} (seed ${seed})`,
    );
    const perProc = procs.map((p) => p.logsWith("decision").length);
    expect(
      perProc.filter((n) => n > 0).length,
      `decisions per executor ${perProc.join("/")}`,
    ).toBeGreaterThanOrEqual(2);
    for (const p of procs) await p.stop();
    expect(await h.backend.pendingCount()).toBe(0);
  }, 150_000);

  it("max_open_orders: resting LIMIT orders of each account stop at the cap exactly", async () => {
    h = await ExecutorHarness.create({ bus, redisUrl: inject("redisUrl") });
    const CAP = 2;
    const config = h.writeConfig({
      limits: { max_open_orders: { "*": CAP } },
      venues: { paper: { prices: { ...PRICES }, rest_limits: true } },
      batch_size: 2,
    });
    const tag = randomBytes(3).toString("hex");
    // BUY below the paper price: every executed one rests as a working order
    const specs: PlanSpec[] = ACCOUNTS.flatMap((account, a) =>
      Array.from({ length: 5 }, (_, i) => ({
        planId: `oo-${tag}-${a}-${i}`,
        lane: "main" as const,
        account,
        symbol: "BTCUSDT",
        side: "BUY" as const,
        qty: "0.01",
        price: String(60000 - i),
        auth: "ok" as const,
      })),
    );
    const procs = await h.start(["oo-1", "oo-2", "oo-3"], { config });
    const published = await h.publish(specs, { burst: 10, pauseMs: 5 });
    const results = await h.waitForResults(published.length, 90_000);
    const working = await h.backend.workingOrders();
    for (const account of ACCOUNTS) {
      const mine = results.filter((r) => r.result.account === account);
      const outcomes = mine.map((r) => r.result.error ?? r.result.decision).sort();
      expect(outcomes).toEqual([
        ...Array<string>(CAP).fill("EXECUTED"),
        ...Array<string>(mine.length - CAP).fill("limit:open_orders"),
      ]);
      expect(working.filter((o) => o.account === account)).toHaveLength(CAP);
    }
    const perProc = procs.map((p) => p.logsWith("decision").length);
    console.log(
      `[${bus}] open orders: ${ACCOUNTS.length} accounts, ${CAP} rested per account, the rest refused; per executor ${perProc.join("/")}`,
    );
    expect(perProc.filter((n) => n > 0).length).toBeGreaterThanOrEqual(2);
    for (const p of procs) await p.stop();
    expect(await h.backend.pendingCount()).toBe(0);
  }, 150_000);

  it("max_position and max_gross_notional: replayed in commit order, every fill stays within both caps and every refusal would pass one", async () => {
    h = await ExecutorHarness.create({ bus, redisUrl: inject("redisUrl") });
    const POS_CAP = { BTCUSDT: "0.5", ETHUSDT: "9", SOLUSDT: "180" } as const;
    const GROSS_CAP = "60000";
    const config = h.writeConfig({
      limits: { max_position: POS_CAP, max_gross_notional: GROSS_CAP },
      batch_size: 2,
    });
    const seed = Number.parseInt(randomBytes(4).toString("hex"), 16);
    const rnd = seeded(seed);
    const tag = randomBytes(3).toString("hex");
    const SYMBOLS = ["BTCUSDT", "ETHUSDT", "SOLUSDT"] as const;
    // about 6500 to 26000 of notional each, BUY and SELL, so both caps are met from both sides
    const qtyFor = (symbol: string): string =>
      symbol === "BTCUSDT"
        ? `0.${1 + rnd(3)}${rnd(10)}`
        : symbol === "ETHUSDT"
          ? `${2 + rnd(7)}.${rnd(10)}`
          : `${45 + rnd(130)}`;
    const specs: PlanSpec[] = ACCOUNTS.flatMap((account, a) =>
      Array.from({ length: 8 }, (_, i) => {
        const symbol = SYMBOLS[(a + rnd(2) * i) % 3]!;
        return {
          planId: `ex-${tag}-${a}-${i}`,
          lane: "main" as const,
          account,
          symbol,
          side: rnd(3) === 0 ? ("SELL" as const) : ("BUY" as const),
          qty: qtyFor(symbol),
          auth: "ok" as const,
        };
      }),
    );
    const procs = await h.start(["ex-1", "ex-2", "ex-3"], { config });
    const published = await h.publish(specs, { burst: 12, pauseMs: 5 });
    const results = inCommitOrder(await h.waitForResults(published.length, 90_000));
    const counts = { executed: 0, max_position: 0, max_gross_notional: 0 };
    const gross = dec(GROSS_CAP);
    for (const account of ACCOUNTS) {
      const held = new Map<string, Decimal>(SYMBOLS.map((s) => [s, 0n as Decimal]));
      for (const { result: r } of results.filter((x) => x.result.account === account)) {
        const symbol = r.symbol!;
        const qty = dec(r.qty!);
        const before = held.get(symbol)!;
        const after = (r.side === "BUY" ? before + qty : before - qty) as Decimal;
        const cap = dec(POS_CAP[symbol as keyof typeof POS_CAP]);
        const overPosition = r.side === "BUY" ? after > cap : after < -cap;
        // exact products, as the gate sums them
        let exposure = qty * dec(PRICES[symbol]!);
        for (const [s, q] of held) exposure += (q < 0n ? -q : q) * dec(PRICES[s]!);
        const overGross = exposure > gross * 10n ** 18n;
        const what = `${r.plan_id} ${r.side} ${r.qty} ${symbol} on ${formatDecimal(before)} (seed ${seed})`;
        if (r.decision === "EXECUTED") {
          expect(overPosition || overGross, `${what}: executed over a cap`).toBe(false);
          held.set(symbol, after);
          counts.executed++;
        } else if (r.error === "limit:max_position") {
          expect(overPosition, `${what}: refused max_position within it`).toBe(true);
          counts.max_position++;
        } else {
          expect(r.error, `${what}: neither executed nor refused by a cap`).toBe("limit:max_gross_notional");
          // gate 9 checks the position first: a gross refusal is within the position cap
          expect(!overPosition && overGross, `${what}: refused max_gross_notional within it`).toBe(true);
          counts.max_gross_notional++;
        }
      }
      // the ledger's book is exactly the replayed position
      const facts = await h.backend.readFacts({
        planIds: [],
        permitIds: [],
        rates: [],
        positions: SYMBOLS.map((symbol) => ({ account, symbol, venue: "paper", mode: "paper" })),
      });
      for (const symbol of SYMBOLS)
        expect(
          facts.positions.get(positionKey({ account, symbol, venue: "paper", mode: "paper" })) ?? "0",
        ).toBe(formatDecimal(held.get(symbol)!));
    }
    const perProc = procs.map((p) => p.logsWith("decision").length);
    console.log(
      `[${bus}] exposure caps: ${ACCOUNTS.length} accounts, ${counts.executed} executed, ${counts.max_position} refused max_position, ${counts.max_gross_notional} refused max_gross_notional; per executor ${perProc.join("/")} (seed ${seed})`,
    );
    expect(counts.max_position, `some plans met the position cap (seed ${seed})`).toBeGreaterThan(0);
    expect(counts.max_gross_notional, `some plans met the gross cap (seed ${seed})`).toBeGreaterThan(0);
    expect(perProc.filter((n) => n > 0).length).toBeGreaterThanOrEqual(2);
    for (const p of procs) await p.stop();
    expect(await h.backend.pendingCount()).toBe(0);
  }, 150_000);
});

/** Results in the order they were committed: by result entry id (`<ms>-<seq>`). */
function inCommitOrder(results: readonly ResultEntry[]): ResultEntry[] {
  const key = (id: string) => id.split("-").map((n) => BigInt(n)) as [bigint, bigint];
  return [...results].sort((a, b) => {
    const [am, as] = key(a.id);
    const [bm, bs] = key(b.id);
    return am !== bm ? (am < bm ? -1 : 1) : as < bs ? -1 : as > bs ? 1 : 0;
  });
}
