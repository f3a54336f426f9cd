import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBinanceEmulator } from "../../src/emulators/binance/binanceEmulator.js";
import type { SigningPlane, SignRequest } from "../../src/ports/signingPlane.js";
import * as W from "../support/attackWorld.js";
import { newApiKey } from "../support/binanceHarness.js";

let world: W.AttackWorld;
beforeAll(async () => {
  world = await W.openAttackWorld();
});
afterAll(() => {
  world?.close();
});

describe("a read that acts", () => {
  it("POST /order;x and POST /order%00 are not granted as non-orders", async () => {
    const s = await world.signerIn("paths");
    const plane = W.remote(s);
    try {
      for (const path of ["/order;x", "/order%00"]) {
        const req = W.l2({ route: W.R.l2Order, action: "order", method: "POST", path, body: "{}" });
        expect(W.reasonOf(await plane.sign("exec-a", req))).toBe("payload_mismatch:path");
      }
    } finally {
      await plane.close();
      await s.p.stop();
    }
  });

  /** Places a resting LIMIT BUY through the signer and the emulator; returns its client order id. */
  async function placeResting(
    plane: SigningPlane,
    emuUrl: string,
    apiKey: string,
    account: string,
    coid: string,
  ) {
    const req = W.binanceOrder({ account, qty: "0.01", price: "30000", clientOrderId: coid });
    const sig = await plane.sign("exec-a", req);
    if (!sig.granted) throw new Error(`order denied: ${sig.reason}`);
    const post = await fetch(`${emuUrl}/fapi/v1/order`, {
      method: "POST",
      headers: { "X-MBX-APIKEY": apiKey, "content-type": "application/x-www-form-urlencoded" },
      body: `${(req.payload as { query: string }).query}&signature=${sig.signature}`,
    });
    expect(post.status).toBe(200);
  }

  /** The replay: a read's parameters and signature, sent as a DELETE with `apiKey`. */
  function replayAsDelete(emuUrl: string, apiKey: string, read: SignRequest, signature: string) {
    return fetch(
      `${emuUrl}/fapi/v1/order?${(read.payload as { query: string }).query}&signature=${signature}`,
      {
        method: "DELETE",
        headers: { "X-MBX-APIKEY": apiKey },
      },
    );
  }

  it("a query_order signature replayed as DELETE /fapi/v1/order no longer cancels: it is signed with the read-only key", async () => {
    const apiKey = newApiKey();
    const readKey = newApiKey();
    const emu = await startBinanceEmulator({
      accounts: [
        { name: "acct-1", apiKey, secret: W.BN_SECRET },
        // The account's read-only API key ("Enable Reading" only), whose secret is the signer's read_only_entry.
        { name: "acct-1", apiKey: readKey, secret: W.BN_RO_SECRET, readOnly: true },
      ],
    });
    const s = await world.signerIn("replay");
    const plane = W.remote(s);
    try {
      const coid = "ig-replay-1";
      await placeResting(plane, emu.url, apiKey, "acct-1", coid);
      expect(emu.state.orders({ clientOrderId: coid })[0]?.status).toBe("NEW");

      const read = W.queryOrder(coid, "acct-1");
      const sig = await plane.sign("exec-a", read);
      if (!sig.granted) throw new Error(`read denied: ${sig.reason}`);
      // It is a good read signature: the lookup works with the read-only key…
      const get = await fetch(
        `${emu.url}/fapi/v1/order?${(read.payload as { query: string }).query}&signature=${sig.signature}`,
        {
          headers: { "X-MBX-APIKEY": readKey },
        },
      );
      expect(get.status).toBe(200);
      // …but replayed as a DELETE it cancels nothing: the read-only key may not trade, the trade key's secret differs.
      const withReadKey = await replayAsDelete(emu.url, readKey, read, sig.signature);
      expect([withReadKey.status, ((await withReadKey.json()) as { code: number }).code]).toEqual([
        401, -2015,
      ]);
      const withTradeKey = await replayAsDelete(emu.url, apiKey, read, sig.signature);
      expect(((await withTradeKey.json()) as { code: number }).code).toBe(-1022);
      expect(emu.state.orders({ clientOrderId: coid })[0]?.status).toBe("NEW");
    } finally {
      await plane.close();
      await s.p.stop();
      await emu.close();
    }
    const line = JSON.parse(readFileSync(s.audit, "utf8").trim().split("\n").at(-1)!);
    expect(line).toMatchObject({ action: "query_order", key: "read_only", cancel_capable: false });
  });

  it("without a read-only key, a read is still replayable, so it is counted against the cancel rate and audited cancel-capable", async () => {
    const apiKey = newApiKey();
    const emu = await startBinanceEmulator({ accounts: [{ name: "acct-2", apiKey, secret: W.BN2_SECRET }] });
    const s = await world.signerIn("replay-no-ro");
    const plane = W.remote(s);
    try {
      const outs: string[] = [];
      for (let i = 0; i < 3; i++)
        outs.push(W.reasonOf(await plane.sign("exec-a", W.queryOrder(`ig-q-${i}`, "acct-2"))));
      // cancel_rate_per_account_per_s: 2: reads beyond it are refused like cancels would be.
      expect(outs).toEqual(["granted", "granted", "policy:cancel_rate"]);
      // The residual risk, shown rather than hidden: such a signature does cancel when replayed.
      const coid = "ig-replay-2";
      await placeResting(plane, emu.url, apiKey, "acct-2", coid);
      await new Promise((r) => setTimeout(r, 1100)); // a fresh second for the cancel rate
      const read = W.queryOrder(coid, "acct-2");
      const sig = await plane.sign("exec-a", read);
      if (!sig.granted) throw new Error(`read denied: ${sig.reason}`);
      expect((await replayAsDelete(emu.url, apiKey, read, sig.signature)).status).toBe(200);
      expect(emu.state.orders({ clientOrderId: coid })[0]?.status).toBe("CANCELED");
    } finally {
      await plane.close();
      await s.p.stop();
      await emu.close();
    }
    const reads = readFileSync(s.audit, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l))
      .filter((l) => l.action === "query_order" && l.decision === "granted");
    expect(reads.length).toBe(3);
    for (const l of reads) expect(l).toMatchObject({ key: "trade", cancel_capable: true });
  });
});
