import { readFile } from "node:fs/promises";
import { inspect } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import {
  openPolymarketWorld,
  PM_ACCOUNT,
  PM_CANARY,
  PM_DRY_TOKEN,
  type PolymarketWorld,
  pmGuard,
  pmOrder,
} from "../../../test/support/polymarketWorld.js";
import { type RecordingProxy, startRecordingProxy } from "../../../test/support/recordingProxy.js";
import { NOT_CANCELED } from "../../emulators/polymarket/userRoutes.js";
import type { OrderRef, Venue } from "../../ports/venue.js";

/**
 * Cancels and heartbeats against the emulator over real HTTP, L2 headers
 * signed by a real local plane on the `cancel` and `heartbeat` routes of
 * POLYMARKET_ROUTE_ACTIONS (the emulator checks them as the CLOB does).
 */
let world: PolymarketWorld;
let venue: Venue;
const outcomes: unknown[] = [];
const keep = <T>(out: T): T => {
  outcomes.push(out);
  return out;
};

beforeAll(async () => {
  world = await openPolymarketWorld();
  venue = world.venue;
});
afterAll(async () => {
  await world.close();
});
afterEach(() => {
  world.emulator.faults.clear();
});

/** Places an order and returns its ref; on the dry market it rests. */
async function placed(v: Venue = venue, over: Parameters<typeof pmOrder>[0] = { symbol: PM_DRY_TOKEN }) {
  const p = await v.prepare(pmOrder(over), pmGuard());
  if (!p.ok) throw new Error(`prepare refused: ${p.reason}`);
  const sent = keep(await v.send(p.prepared));
  if (sent.kind !== "placed") throw new Error(`not placed: ${sent.kind}`);
  return p.prepared.ref;
}

const statusAt = (w: PolymarketWorld, ref: OrderRef) =>
  w.emulator.orders().find((o) => o.orderHash === ref.venueRef)?.status;
const deletes = (w: PolymarketWorld) =>
  w.emulator.requests().filter((r) => r.method === "DELETE" && r.path === "/order").length;

describe("cancel", () => {
  it("a resting GTC order: canceled with its state, and no longer open at the venue", async () => {
    const ref = await placed();
    expect(statusAt(world, ref)).toBe("LIVE");
    expect(keep(await venue.cancel(ref))).toEqual({
      kind: "canceled",
      orderId: ref.venueRef,
      status: "canceled",
      fillQty: "0",
      avgPrice: null,
    });
    expect(statusAt(world, ref)).toBe("CANCELED");
    expect(world.emulator.requests().find((r) => r.method === "DELETE")).toMatchObject({
      path: "/order",
      outcome: 200,
    });
    // Asked again: the venue says it is not open.
    expect(keep(await venue.cancel(ref))).toEqual({ kind: "not_open", detail: NOT_CANCELED });
  });

  it("the request is DELETE /order with exactly {orderID: hash}", async () => {
    const proxy = await startRecordingProxy(world.emulator.url);
    try {
      const v = world.openVenue({ baseUrl: proxy.url });
      const ref = await placed(v);
      expect((await v.cancel(ref)).kind).toBe("canceled");
      const del = proxy.exchanges.filter((e) => e.method === "DELETE");
      expect(del).toEqual([
        expect.objectContaining({
          path: "/order",
          body: JSON.stringify({ orderID: ref.venueRef }),
          status: 200,
        }),
      ]);
    } finally {
      await proxy.close();
    }
  });

  it("a matched order is not open: nothing to cancel", async () => {
    const ref = await placed(venue, {});
    expect(statusAt(world, ref)).toBe("MATCHED");
    expect(keep(await venue.cancel(ref))).toEqual({ kind: "not_open", detail: NOT_CANCELED });
    expect(statusAt(world, ref)).toBe("MATCHED");
  });

  it("an order hash the venue never saw is not open", async () => {
    const p = await venue.prepare(pmOrder({ symbol: PM_DRY_TOKEN }), pmGuard());
    if (!p.ok) throw new Error(p.reason);
    expect(keep(await venue.cancel(p.prepared.ref))).toEqual({ kind: "not_open", detail: NOT_CANCELED });
  });

  it("the venue's 429: rejected, rate limited, the order still open", async () => {
    const ref = await placed();
    world.emulator.faults.inject({ kind: "http_5xx", status: 429, process: false }, { method: "DELETE" });
    expect(keep(await venue.cancel(ref))).toEqual({
      kind: "rejected",
      reason: "venue_error:rate_limited",
      rateLimited: true,
    });
    expect(statusAt(world, ref)).toBe("LIVE");
  });

  const unknowns: Array<
    [string, Parameters<PolymarketWorld["emulator"]["faults"]["inject"]>[0], string, "LIVE" | "CANCELED"]
  > = [
    ["HTTP 500 before processing", { kind: "http_5xx", status: 500, process: false }, "http_500", "LIVE"],
    ["HTTP 502 after processing", { kind: "http_5xx", status: 502, process: true }, "http_502", "CANCELED"],
    ["timeout before processing", { kind: "timeout", holdMs: 4_000, process: false }, "timeout", "LIVE"],
    ["timeout after processing", { kind: "timeout", holdMs: 4_000, process: true }, "timeout", "CANCELED"],
    ["dropped answer after processing", { kind: "drop", process: true }, "reset", "CANCELED"],
  ];
  it.each(unknowns)("%s: unknown, and a lookup tells which", async (_name, fault, detail, after) => {
    const ref = await placed();
    world.emulator.faults.inject(fault, { method: "DELETE" });
    expect(keep(await venue.cancel(ref))).toEqual({ kind: "unknown", detail });
    await vi.waitFor(() => expect(statusAt(world, ref)).toBe(after), { timeout: 5_000, interval: 50 });
    expect(await venue.lookup(ref)).toMatchObject({
      kind: "found",
      status: after === "LIVE" ? "open" : "canceled",
    });
  });

  it("canceled, but the lookup after it fails: unknown; asked again, not open", async () => {
    const ref = await placed();
    world.emulator.faults.inject(
      { kind: "http_5xx", status: 503, process: false },
      { method: "GET", path: "/data/order/" },
    );
    expect(keep(await venue.cancel(ref))).toEqual({
      kind: "unknown",
      detail: "canceled_then_lookup_http_503",
    });
    expect(statusAt(world, ref)).toBe("CANCELED");
    expect(keep(await venue.cancel(ref))).toEqual({ kind: "not_open", detail: NOT_CANCELED });
  });

  it("no connection at all: rejected as unreachable (nothing was sent)", async () => {
    const ref = await placed();
    const gone = world.openVenue({ baseUrl: "http://127.0.0.1:9" });
    expect(keep(await gone.cancel(ref))).toEqual({
      kind: "rejected",
      reason: "venue_error:unreachable",
      rateLimited: false,
    });
    expect(statusAt(world, ref)).toBe("LIVE");
  });

  it("a route the signer does not allow, an account without credentials: rejected, nothing sent", async () => {
    const ref = await placed();
    const before = deletes(world);
    const other = world.openVenue({ routes: { l2Cancel: "executor.polymarket.other" } });
    expect(keep(await other.cancel(ref))).toEqual({
      kind: "rejected",
      reason: "signer_denied:route_not_allowed",
      rateLimited: false,
    });
    expect(keep(await venue.cancel({ ...ref, account: "acct-nobody" }))).toEqual({
      kind: "rejected",
      reason: "venue_error:unknown_account",
      rateLimited: false,
    });
    expect(deletes(world)).toBe(before);
    expect(statusAt(world, ref)).toBe("LIVE");
  });
});

describe("the signer's own rates", () => {
  it("over cancel_rate_per_account_per_s: rejected, rate limited, nothing cancelled; keep-alives likewise", async () => {
    const slow = await openPolymarketWorld({
      signerPolicy: {
        clob_api_signer: { cancel_rate_per_account_per_s: 1, keepalive_rate_per_account_per_s: 1 },
      },
    });
    try {
      const a = await placed(slow.venue);
      const b = await placed(slow.venue);
      expect((await slow.venue.cancel(a)).kind).toBe("canceled");
      expect(keep(await slow.venue.cancel(b))).toEqual({
        kind: "rejected",
        reason: "signer_denied:policy:cancel_rate",
        rateLimited: true,
      });
      expect(statusAt(slow, b)).toBe("LIVE");
      expect(deletes(slow)).toBe(1);
      expect(keep(await slow.venue.keepAlive({ account: PM_ACCOUNT, symbols: [] }))).toEqual({ ok: true });
      expect(keep(await slow.venue.keepAlive({ account: PM_ACCOUNT, symbols: [] }))).toEqual({
        ok: false,
        detail: "signer_denied:policy:keepalive_rate",
        rateLimited: true,
      });
    } finally {
      await slow.close();
    }
  });
});

describe("keepAlive: the venue's heartbeats", () => {
  const WINDOW_MS = 1_500;
  let hb: PolymarketWorld;
  let proxy: RecordingProxy;
  let v: Venue;
  const beat = async () => keep(await v.keepAlive({ account: PM_ACCOUNT, symbols: [PM_DRY_TOKEN] }));
  const heartbeats = () =>
    proxy.exchanges
      .filter((e) => e.path === "/v1/heartbeats")
      .map((e) => ({
        sent: JSON.parse(e.body).heartbeat_id as string,
        status: e.status,
        answer: JSON.parse(e.answer),
      }));

  beforeAll(async () => {
    hb = await openPolymarketWorld({
      emulator: { heartbeatTimeoutMs: WINDOW_MS },
      // The tests beat faster than the signer's default keep-alive rate (10/s) allows.
      signerPolicy: {
        clob_api_signer: { cancel_rate_per_account_per_s: 50, keepalive_rate_per_account_per_s: 100 },
      },
    });
    proxy = await startRecordingProxy(hb.emulator.url);
    v = hb.openVenue({ baseUrl: proxy.url });
  });
  afterAll(async () => {
    await proxy.close();
    await hb.close();
  });
  afterEach(() => {
    hb.emulator.faults.clear();
  });

  it('the first heartbeat sends "", each later one the id the venue answered last', async () => {
    const from = proxy.exchanges.length;
    for (let i = 0; i < 3; i++) expect(await beat()).toEqual({ ok: true });
    const seen = heartbeats().slice(-3);
    expect(proxy.exchanges.length - from).toBe(3);
    expect(seen.map((s) => s.status)).toEqual([200, 200, 200]);
    expect(seen[0]!.sent).toBe("");
    expect(seen[1]!.sent).toBe(seen[0]!.answer.heartbeat_id);
    expect(seen[2]!.sent).toBe(seen[1]!.answer.heartbeat_id);
    expect(new Set(seen.map((s) => s.answer.heartbeat_id)).size).toBe(3);
    expect(hb.emulator.heartbeatActive(PM_CANARY.apiKey)).toBe(true);
  });

  it('an answer lost after the venue took it: the next id is refused, and the adapter starts again with ""', async () => {
    await beat();
    hb.emulator.faults.inject({ kind: "drop", process: true }, { method: "POST", path: "/v1/heartbeats" });
    expect(await beat()).toEqual({ ok: false, detail: "reset", rateLimited: false });
    const from = heartbeats().length;
    expect(await beat()).toEqual({ ok: true });
    const [refused, restarted] = heartbeats().slice(from);
    expect(refused).toMatchObject({ status: 400, answer: { error: "Invalid Heartbeat ID" } });
    expect(refused!.sent).not.toBe("");
    expect(restarted).toMatchObject({ sent: "", status: 200 });
    expect(await beat()).toEqual({ ok: true });
    expect(heartbeats().at(-1)).toMatchObject({ sent: restarted!.answer.heartbeat_id, status: 200 });
  });

  it("the venue's 429 is rate limited, a 5xx is not; neither arms anything", async () => {
    hb.emulator.faults.inject({ kind: "http_5xx", status: 429, process: false }, { path: "/v1/heartbeats" });
    expect(await beat()).toEqual({ ok: false, detail: "rate_limited", rateLimited: true });
    hb.emulator.faults.inject({ kind: "http_5xx", status: 503, process: false }, { path: "/v1/heartbeats" });
    expect(await beat()).toEqual({ ok: false, detail: "http_503", rateLimited: false });
    expect(keep(await v.keepAlive({ account: "acct-nobody", symbols: [] }))).toEqual({
      ok: false,
      detail: "venue_error:unknown_account",
      rateLimited: false,
    });
  });

  it("while heartbeats come the open order stays; once they stop, the venue cancels it after its window", async () => {
    const ref = await placed(v);
    // Heartbeat for more than twice the window: the order must survive it.
    const until = Date.now() + WINDOW_MS * 2.5;
    while (Date.now() < until) {
      expect(await beat()).toEqual({ ok: true });
      await new Promise((r) => setTimeout(r, WINDOW_MS / 5));
    }
    expect(statusAt(hb, ref)).toBe("LIVE");
    // Stop: the venue cancels every open order of the key by itself.
    await vi.waitFor(() => expect(statusAt(hb, ref)).toBe("CANCELED"), { timeout: 15_000, interval: 100 });
    expect(hb.emulator.heartbeatActive(PM_CANARY.apiKey)).toBe(false);
    expect(await v.lookup(ref)).toMatchObject({ kind: "found", status: "canceled" });
    // The next keep-alive arms it again (the old id is refused, a new session starts).
    expect(await beat()).toEqual({ ok: true });
    expect(hb.emulator.heartbeatActive(PM_CANARY.apiKey)).toBe(true);
  });
});

describe("no secret anywhere", () => {
  it("cancel and keep-alive outcomes, and the plane's audit log", async () => {
    const texts = [
      JSON.stringify(outcomes),
      inspect(outcomes, { depth: 10 }),
      await readFile(world.harness.auditPath, "utf8"),
    ];
    expect(outcomes.length).toBeGreaterThan(20);
    const secrets = [
      PM_CANARY.apiKey,
      PM_CANARY.passphrase,
      PM_CANARY.secret,
      Buffer.from(PM_CANARY.secret, "base64url").toString("base64"),
      PM_CANARY.privateKeyHex,
      "CANARY",
    ];
    for (const t of texts) for (const s of secrets) expect(t).not.toContain(s);
  });
});
