import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SigningPlane } from "../../src/ports/signingPlane.js";
import * as W from "../support/attackWorld.js";

let world: W.AttackWorld;
beforeAll(async () => {
  world = await W.openAttackWorld();
});
afterAll(() => {
  world?.close();
});

describe("limits that trust the caller", () => {
  let s: W.AttackSigner;
  let plane: SigningPlane;
  beforeAll(async () => {
    s = await world.signerIn("price");
    plane = W.remote(s);
  });
  afterAll(async () => {
    await plane.close();
    await s.p.stop();
  });

  it("a 100 BTC MARKET order claiming a reference price of 0.01 is not granted", async () => {
    const out = await plane.sign(
      "exec-a",
      W.binanceOrder({ type: "MARKET", qty: "100", referencePrice: "0.01" }),
    );
    expect(W.reasonOf(out)).toBe("policy:max_notional");
  });

  it("a LIMIT SELL of 100 BTC at 0.01 with no reference is not granted", async () => {
    // The caller gives no reference; the signer has its own (65000): 100 × 65000, not 100 × 0.01.
    const out = await plane.sign("exec-a", W.binanceOrder({ side: "SELL", qty: "100", price: "0.01" }));
    expect(W.reasonOf(out)).toBe("policy:max_notional");
    // For a symbol the signer has no reference for, a notional limit cannot be evaluated: refused.
    const eth = await plane.sign(
      "exec-a",
      W.binanceOrder({ symbol: "ETHUSDT", side: "SELL", qty: "100", price: "0.01" }),
    );
    expect(W.reasonOf(eth)).toBe("policy:no_reference_price");
  });

  it("the caller's claimed reference price is audited, never used", async () => {
    const out = await plane.sign(
      "exec-a",
      W.binanceOrder({ type: "MARKET", qty: "0.5", referencePrice: "0.01" }),
    );
    expect(W.reasonOf(out)).toBe("granted"); // 0.5 × the signer's 65000 = 32500 ≤ 50000
    const last = JSON.parse(readFileSync(s.audit, "utf8").trim().split("\n").at(-1)!);
    expect(last).toMatchObject({
      decision: "granted",
      notional: "32500",
      reference_price: "65000",
      target: { reference_price: "0.01", qty: "0.5" },
    });
  });

  it("a Polymarket SELL of 1e6 shares at 0.001 is not granted (L2 order and EIP-712 order)", async () => {
    expect(W.reasonOf(await plane.sign("exec-a", W.pmSellL2()))).toBe("policy:max_notional");
    expect(W.reasonOf(await plane.sign("exec-a", W.pmSellEip712()))).toBe("policy:max_notional");
  });
});
