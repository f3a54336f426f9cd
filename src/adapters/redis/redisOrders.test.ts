import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
import {
  decisionFor,
  orderEventFor,
  planFields,
  workingOrderFor,
} from "../../../test/conformance/backendConformance.js";
import { PAPER_BOOK } from "../../../test/support/coreFixtures.js";
import { uniquePrefix } from "../../../test/support/uniquePrefix.js";
import { encodeWorkingOrder } from "../../core/workingOrder.js";
import type { Backend } from "../../ports/backend.js";
import { openRedisBackend } from "./redisBackend.js";

/**
 * Working orders as the Redis adapter lays them out (docs/architecture.md
 * "Redis layout"), seen with a plain client, and the scripts' promise that a
 * call failing on a key of the wrong type writes nothing. The behaviour both
 * backends share is in test/conformance/backendConformance.ts.
 */

const url = inject("redisUrl");

describe("Redis working orders: layout and failed calls", () => {
  let raw: Redis;
  let b: Backend;
  let p: string;
  const order = workingOrderFor("ord-1");

  beforeAll(() => {
    raw = new Redis(url);
  });
  afterAll(async () => {
    await raw.quit();
  });
  beforeEach(async () => {
    p = uniquePrefix("{igtest}");
    b = await openRedisBackend({ url, prefix: p });
    await b.initDeployment({ state: "ACTIVE", who: "test" });
    await b.ensureGroups();
  });
  afterEach(async () => {
    await b.close();
    const keys = await raw.keys(`${p.replace(/[*?[\]\\]/g, "\\$&")}*`);
    if (keys.length > 0) await raw.del(...keys);
  });

  /** Publishes a plan, hands it out, and commits a decision opening `order`. */
  async function open(): Promise<void> {
    await b.publish("main", planFields("open"));
    const [e] = await b.readNew("c1", 10, 0);
    const [out] = await b.commit([
      decisionFor(e!, {
        checks: { workingOrders: [{ key: order.key, expected: null }] },
        effects: { openOrder: order },
      }),
    ]);
    expect(out!.status).toBe("committed");
  }

  it("stores an order in <prefix>orders as its exact text and events in <prefix>stream:order.event", async () => {
    await open();
    expect(await raw.hgetall(`${p}orders`)).toEqual({ [order.key]: encodeWorkingOrder(order) });
    const event = orderEventFor(order);
    expect(
      await b.updateOrders([{ key: order.key, expected: encodeWorkingOrder(order), next: null, event }]),
    ).toEqual(["applied"]);
    expect(await raw.exists(`${p}orders`)).toBe(0);
    const entries = await raw.xrange(`${p}stream:order.event`, "-", "+");
    expect(entries.map(([, fields]) => fields)).toEqual([["event", JSON.stringify(event)]]);
  });

  it("a commit whose order events go to a key of the wrong type writes nothing", async () => {
    await open();
    await raw.set(`${p}stream:order.event`, "not a stream");
    await b.publish("main", planFields("cancel"));
    const [e] = await b.readNew("c1", 10, 0);
    const d = decisionFor(e!, {
      checks: { workingOrders: [{ key: order.key, expected: encodeWorkingOrder(order) }] },
      effects: { claimPlanId: "cancel", closeOrders: [order.key], orderEvents: [orderEventFor(order)] },
    });
    await expect(b.commit([d])).rejects.toThrow(/WRONGTYPE/);
    expect(await b.workingOrders()).toEqual([order]);
    expect(await raw.hexists(`${p}plan_ids`, "cancel")).toBe(0);
    expect(await raw.xlen(`${p}stream:apply.result`)).toBe(1);
    expect(await b.pendingCount()).toBe(1);
  });

  it("updateOrders on a key of the wrong type writes nothing, not even the updates before it", async () => {
    await open();
    await raw.set(`${p}positions`, "not a hash");
    const half = { ...order, fill_qty: "0.000000000000000001" };
    // the first update moves no position: only the probe before the first write refuses it
    const first = {
      key: order.key,
      expected: encodeWorkingOrder(order),
      next: half,
      event: orderEventFor(half, "FILL"),
    };
    const second = {
      key: order.key,
      expected: encodeWorkingOrder(half),
      next: null,
      event: orderEventFor(order, "FILL", order.qty),
      position: { account: order.account, symbol: order.symbol, ...PAPER_BOOK, expected: "0", value: "1" },
    };
    await expect(b.updateOrders([first, second])).rejects.toThrow(/WRONGTYPE/);
    expect(await b.workingOrders()).toEqual([order]);
    expect(await raw.exists(`${p}stream:order.event`)).toBe(0);
  });
});
