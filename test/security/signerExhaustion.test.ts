import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as W from "../support/attackWorld.js";
import { rawHello, rawSignerClient } from "../support/rawSignerClient.js";

let world: W.AttackWorld;
beforeAll(async () => {
  world = await W.openAttackWorld();
});
afterAll(() => {
  world?.close();
});

/** Resolves once a hello on `socket` is answered with a welcome (retrying while refused at the cap). */
async function servedAgain(socket: string): Promise<void> {
  for (;;) {
    const probe = await rawHello(socket, "exec-a", W.TOKEN_A);
    const welcomed = await probe.next().then(
      (m) => m.type === "welcome",
      () => false,
    );
    probe.socket.destroy();
    await probe.closed;
    if (welcomed) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("exhaustion", () => {
  let s: W.AttackSigner;
  beforeAll(async () => {
    s = await world.signerIn("exhaust");
  });
  afterAll(async () => {
    await s.p.stop();
  });

  it("connections are capped: past the cap a new one is closed at once, unserved", async () => {
    const held = [];
    for (let i = 0; i < 6; i++) held.push(await rawSignerClient(s.socket));
    const extra = await rawSignerClient(s.socket);
    await W.within(10_000, extra.closed, "over-cap close");
    for (const c of held) c.socket.destroy();
    // The signer frees a slot when it sees the close, which may come after
    // this test ends: wait until a new connection is served again, so the
    // next test does not meet the cap.
    await W.within(10_000, servedAgain(s.socket), "slots freed after the held connections closed");
  });

  it("an authenticated connection that sends nothing is closed after the idle timeout", async () => {
    const c = await rawHello(s.socket, "exec-a", W.TOKEN_A);
    expect(await c.next()).toEqual({ type: "welcome" });
    await W.within(20_000, c.closed, "idle close");
    await s.p.waitFor("signer connection closed: idle");
  });

  it("a partial frame after authentication does not keep the connection open", async () => {
    const c = await rawHello(s.socket, "exec-a", W.TOKEN_A);
    expect(await c.next()).toEqual({ type: "welcome" });
    c.sendRaw(Buffer.from([0, 0, 0, 100, 0x7b]));
    await W.within(20_000, c.closed, "partial frame close");
    await s.p.waitFor("a frame did not complete in time");
  });

  it("a field name is not echoed unbounded into the reason", async () => {
    const c = await rawHello(s.socket, "exec-a", W.TOKEN_A);
    expect(await c.next()).toEqual({ type: "welcome" });
    const req = W.binanceOrder({});
    c.send({
      type: "sign",
      id: 1,
      request: { ...req, payload: { ...req.payload, ["x".repeat(60_000)]: 1 } },
    });
    const reply = (await c.next()) as { outcome: { reason: string } };
    expect(reply.outcome.reason).toBe("payload_mismatch:payload");
    c.socket.destroy();
    const last = readFileSync(s.audit, "utf8").trim().split("\n").at(-1)!;
    expect(last.length).toBeLessThan(2000);
  });

  it("a caller that never reads its replies is paused, then closed", async () => {
    const c = await rawHello(s.socket, "exec-a", W.TOKEN_A);
    expect(await c.next()).toEqual({ type: "welcome" });
    c.socket.pause();
    const big = { ...W.queryOrder("ig-x"), request_id: "r".repeat(120) };
    let id = 0;
    const flood = setInterval(() => {
      for (let i = 0; i < 200; i++) c.send({ type: "sign", id: id++, request: big });
    }, 5);
    try {
      await W.within(60_000, c.closed, "unread replies close");
    } finally {
      clearInterval(flood);
    }
    await s.p.waitFor("the caller does not read its replies");
  });
});
