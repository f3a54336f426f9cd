/**
 * Property: no input stops the executor. Random and adversarial entries (deep
 * nesting, huge numbers, long strings, invalid UTF-8, many fields, random
 * bytes, arbitrary JSON) interleaved with valid signed plans go through a real
 * executor process on each bus: every entry gets exactly one result, every
 * valid plan is EXECUTED and nothing else is, nothing stays pending, the DLQ
 * stays empty, and the executor is still running.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { Lane } from "../../src/core/plan.js";
import { signPlan } from "../../src/sdk/signPlan.js";
import {
  type BusKind,
  ExecutorHarness,
  type ExecutorProcess,
  type ExecutorHarness as Harness,
  LOAD_KEY_ID,
  LOAD_SOURCE,
} from "../support/executorHarness.js";

/** One generated entry: its raw fields, and whether it is a valid signed plan (which must execute). */
interface FuzzEntry {
  readonly lane: Lane;
  readonly fields: (secret: string, n: number) => Array<[string, string | Buffer]>;
  readonly valid: boolean;
}

const planObject = (n: number, over: Record<string, unknown> = {}) => ({
  v: 1,
  plan_id: `fz-${process.pid}-${n}`,
  source: LOAD_SOURCE,
  venue: "paper",
  account: "acct-fuzz",
  symbol: "BTCUSDT",
  side: n % 2 === 0 ? "BUY" : "SELL",
  qty: "0.001",
  created_at: Date.now(),
  ...over,
});

const sign = (secret: string, plan: Record<string, unknown> | string) => {
  const s = signPlan({ plan, key: { keyId: LOAD_KEY_ID, alg: "hmac-sha256", secret } });
  return [
    ["plan", s.plan],
    ["auth", s.auth],
  ] as Array<[string, string]>;
};

const lane = fc.constantFrom<Lane>("main", "manual");

/** Adversarial plan texts: each one invalid. */
const badPlanText: fc.Arbitrary<(n: number) => string | Buffer> = fc.oneof(
  // deep nesting, anywhere, of arrays or objects (also past the 16 KiB cap)
  fc.tuple(fc.integer({ min: 33, max: 9000 }), fc.boolean()).map(([depth, arrays]) => (n: number) => {
    const [o, c] = arrays ? ["[", "]"] : ['{"a":', "}"];
    return `${JSON.stringify(planObject(n)).slice(0, -1)},"meta":{"x":${o.repeat(depth)}1${c.repeat(depth)}}}`;
  }),
  // huge numbers where decimals and times go
  fc
    .constantFrom(
      { qty: 1e308 },
      { qty: "1".repeat(400) },
      { qty: Number.MAX_VALUE },
      { created_at: 1e300 },
      { price: "1e999", type: "LIMIT" },
      { qty: -0 },
    )
    .map((over) => (n: number) => JSON.stringify(planObject(n, over)).replace('"1e+300"', "1e300")),
  // long strings
  fc
    .integer({ min: 129, max: 20_000 })
    .map((len) => (n: number) => JSON.stringify(planObject(n, { symbol: "S".repeat(len) }))),
  // invalid UTF-8 inside an otherwise valid plan
  fc.uint8Array({ minLength: 1, maxLength: 8 }).map((junk) => (n: number) => {
    const text = JSON.stringify(planObject(n, { symbol: "BTC\u0000USDT" }));
    const i = text.indexOf("\\u0000");
    return Buffer.concat([
      Buffer.from(text.slice(0, i)),
      Buffer.from([0xc3, 0x28, 0xff, ...junk]),
      Buffer.from(text.slice(i + 6)),
    ]);
  }),
  // random bytes and arbitrary JSON
  fc.uint8Array({ maxLength: 300 }).map((b) => () => Buffer.from(b)),
  fc.jsonValue({ maxDepth: 5 }).map((v) => () => JSON.stringify(v) ?? "null"),
  // repeated keys, escaped or not, at depth
  fc.constant(
    (n: number) =>
      `${JSON.stringify(planObject(n)).slice(0, -1)},"reduce_only":false,"reduce_\\u006fnly":true}`,
  ),
);

const fuzzEntry: fc.Arbitrary<FuzzEntry> = fc.oneof(
  {
    weight: 3,
    arbitrary: lane.map(
      (l): FuzzEntry => ({ lane: l, valid: true, fields: (s, n) => sign(s, planObject(n)) }),
    ),
  },
  {
    weight: 4,
    arbitrary: fc.tuple(lane, badPlanText, fc.boolean()).map(
      ([l, text, signIt]): FuzzEntry => ({
        lane: l,
        valid: false,
        fields: (s, n) => {
          const t = text(n);
          if (!signIt || Buffer.isBuffer(t)) return [["plan", t]];
          return sign(s, t);
        },
      }),
    ),
  },
  // many fields: extra, repeated, or no plan at all
  {
    weight: 2,
    arbitrary: fc
      .tuple(lane, fc.integer({ min: 1, max: 3000 }), fc.constantFrom("extra", "repeat", "noplan"))
      .map(
        ([l, count, kind]): FuzzEntry => ({
          lane: l,
          valid: false,
          fields: (s, n) => {
            const signed = sign(s, planObject(n));
            if (kind === "repeat") return [...signed, ...Array.from({ length: count }, () => signed[0]!)];
            const extra = Array.from(
              { length: count },
              (_, i) => [`f${i}\u00ff`, Buffer.from([i & 0xff])] as [string, Buffer],
            );
            return kind === "extra" ? [...signed, ...extra] : extra;
          },
        }),
      ),
  },
);

describe.each<BusKind>(["redis", "sqlite"])("fuzzed entries through the real executor (%s)", (bus) => {
  let harness: Harness;
  let exec: ExecutorProcess;
  let counter = 0;

  beforeAll(async () => {
    harness = await ExecutorHarness.create({ bus, redisUrl: inject("redisUrl") });
    const config = harness.writeConfig({ claim_idle_ms: 60_000, batch_size: 25 });
    [exec] = (await harness.start([`fuzz-${bus}`], { config })) as [ExecutorProcess];
  });
  afterAll(async () => {
    await harness?.close();
  });

  it("every entry answered once, valid plans executed, nothing pending, the executor still up", async () => {
    let total = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fuzzEntry, { minLength: 20, maxLength: 80 }), async (entries) => {
        const published: Array<{ lane: Lane; id: string; valid: boolean }> = [];
        for (const e of entries) {
          const n = counter++;
          published.push({
            lane: e.lane,
            id: await harness.backend.publish(e.lane, e.fields(harness.secret, n)),
            valid: e.valid,
          });
        }
        total += published.length;
        const results = await harness.waitForResults(total, 30_000);
        const answers = new Map<string, number>();
        for (const r of results) {
          const k = `${r.result.lane}/${r.result.stream_id}`;
          answers.set(k, (answers.get(k) ?? 0) + 1);
        }
        for (const p of published) {
          const key = `${p.lane}/${p.id}`;
          expect(answers.get(key), key).toBe(1);
          const r = results.find((x) => x.result.lane === p.lane && x.result.stream_id === p.id)!.result;
          if (p.valid) expect([r.decision, r.error], key).toEqual(["EXECUTED", null]);
          else {
            // never executed, never an internal error: a clear denial (a 400-digit qty passes gate 1
            // and is denied limit:max_qty)
            expect(r.decision, `${key} ${r.error}`).toBe("DENIED");
            expect(r.error).toMatch(/^(invalid_plan|unauthenticated|stale_plan|limit:max_qty)/);
          }
        }
        expect(results).toHaveLength(total);
        expect(await harness.backend.pendingCount()).toBe(0);
        expect(exec.alive, exec.describe()).toBe(true);
      }),
      { numRuns: 25, endOnFailure: true },
    );
    expect(await harness.backend.dlqLength()).toBe(0);
    expect(exec.stderr).not.toMatch(/RangeError|Maximum call stack|Unhandled/);
    console.log(`[${bus}] fuzz: ${total} entries, each answered once`);
  }, 240_000);
});
