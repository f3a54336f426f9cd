import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SigningPlane, SignOutcome } from "../../src/ports/signingPlane.js";
import * as W from "../support/attackWorld.js";

let world: W.AttackWorld;
beforeAll(async () => {
  world = await W.openAttackWorld();
});
afterAll(() => {
  world?.close();
});

describe("no clock", () => {
  let s: W.AttackSigner;
  let plane: SigningPlane;
  beforeAll(async () => {
    s = await world.signerIn("clock");
    plane = W.remote(s);
  });
  afterAll(async () => {
    await plane.close();
    await s.p.stop();
  });

  it.each([
    ["one hour ahead", 3_600_000],
    ["30 days ahead", 30 * 86_400_000],
    ["10 years ahead", 3650 * 86_400_000],
  ])("a Binance order stamped %s is not signed", async (_label, ahead) => {
    const out = await plane.sign("exec-a", W.binanceOrder({ ts: Date.now() + ahead }));
    expect(W.reasonOf(out)).toBe("policy:stale_timestamp");
  });

  it("a Binance order stamped timestamp=1 is not signed", async () => {
    expect(W.reasonOf(await plane.sign("exec-a", W.binanceOrder({ ts: 1 })))).toBe("policy:stale_timestamp");
  });

  it("40 orders stamped one hour ahead are not signed W.within the rate (none is)", async () => {
    const outs: SignOutcome[] = [];
    for (let i = 0; i < 40; i++)
      outs.push(await plane.sign("exec-a", W.binanceOrder({ ts: Date.now() + 3_600_000 })));
    expect(outs.filter((o) => o.granted)).toHaveLength(0);
  });

  it("a recvWindow above the signer's maximum is not signed", async () => {
    expect(W.reasonOf(await plane.sign("exec-a", W.binanceOrder({ recvWindow: 60_000 })))).toBe(
      "policy:recv_window",
    );
  });

  it("an L2 request dated 2100 is not signed; DELETE /cancel-all is no route's action", async () => {
    const y2100 = Date.UTC(2100, 0, 1) / 1000;
    const read = W.l2({
      route: W.R.l2Read,
      action: "open_orders",
      method: "GET",
      path: "/data/orders",
      ts: y2100,
    });
    expect(W.reasonOf(await plane.sign("exec-a", read))).toBe("policy:stale_timestamp");
    const cancelAll = W.l2({
      route: W.R.l2Read,
      action: "open_orders",
      method: "DELETE",
      path: "/cancel-all",
      ts: y2100,
    });
    expect(W.reasonOf(await plane.sign("exec-a", cancelAll))).toMatch(/^payload_mismatch:(method|path)$/);
  });
});
