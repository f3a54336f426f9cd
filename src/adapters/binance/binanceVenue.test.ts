import { createHmac } from "node:crypto";
import { createServer } from "node:net";
import { inspect } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import {
  type BinanceHarness,
  type BinanceHarnessOptions,
  newApiKey,
  openBinanceHarness,
  testGuard,
} from "../../../test/support/binanceHarness.js";
import { SecretBytes } from "../../core/auth/secretBytes.js";
import { clientOrderId } from "../../core/clientOrderId.js";
import type { PreparedOrder, Venue, VenueOrder } from "../../ports/venue.js";
import { classifyOrderAnswer } from "./binanceErrors.js";
import { BinanceHttp } from "./binanceHttp.js";
import { createBinanceVenue } from "./binanceVenue.js";

let h: BinanceHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function open(opts: BinanceHarnessOptions = {}): Promise<BinanceHarness> {
  h = await openBinanceHarness(opts);
  return h;
}

let seq = 0;
function order(over: Partial<VenueOrder> = {}): VenueOrder {
  return {
    account: h!.account,
    symbol: "BTCUSDT",
    side: "BUY",
    type: "MARKET",
    qty: "0.01",
    price: undefined,
    referencePrice: "65000",
    reduceOnly: false,
    clientOrderId: clientOrderId(`venue-test-${process.pid}-${++seq}`),
    ...over,
  };
}

async function prepare(venue: Venue, o: VenueOrder): Promise<PreparedOrder> {
  const p = await venue.prepare(o, testGuard());
  if (!p.ok) throw new Error(`prepare refused: ${p.reason}`);
  return p.prepared;
}

const count = (id: string): number => h!.emulator.state.countOrders(id);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("binance adapter ↔ emulator: Binance error codes", () => {
  it("-1021 (server clock moved after the sync) → rejected, nothing placed; the clock is resynced and the next order goes through", async () => {
    const { venue, emulator } = await open();
    expect((await venue.readiness()).ready).toBe(true);
    emulator.faults.setClockSkew(-3000); // the timestamp is now > serverTime + 1000
    const o = order();
    const sent = await venue.send(await prepare(venue, o));
    expect(sent).toEqual({ kind: "rejected", reason: "venue_error:timestamp_outside_recv_window" });
    expect(count(o.clientOrderId)).toBe(0);
    const r = await venue.readiness();
    expect(r.clockOffsetMs).toBeLessThanOrEqual(-2900);
    expect(r.clockOffsetMs).toBeGreaterThanOrEqual(-3100);
    const o2 = order();
    expect((await venue.send(await prepare(venue, o2))).kind).toBe("placed");
    expect(count(o2.clientOrderId)).toBe(1);

    emulator.faults.setClockSkew(9000); // the timestamp is now older than recvWindow
    const o3 = order();
    expect(await venue.send(await prepare(venue, o3))).toEqual({
      kind: "rejected",
      reason: "venue_error:timestamp_outside_recv_window",
    });
    expect(count(o3.clientOrderId)).toBe(0);
  });

  it("-1022: the emulator holds another secret → rejected bad_signature; readiness says the credentials fail", async () => {
    const { venue, account: harnessAccount } = await open({ emulatorSecret: "not-the-vault-secret" });
    const o = order();
    expect(await venue.send(await prepare(venue, o))).toEqual({
      kind: "rejected",
      reason: "venue_error:bad_signature",
    });
    expect(count(o.clientOrderId)).toBe(0);
    const r = await venue.readiness();
    expect(r).toMatchObject({ ready: false, detail: "no account's credentials work" });
    expect(r.accounts?.[harnessAccount]?.ready).toBe(false);
    expect(r.accounts?.[harnessAccount]?.detail).toContain("binance:-1022");
  });

  it("-2015 unknown key / -2014 malformed key → rejected bad_api_key", async () => {
    const harness = await open();
    for (const apiKey of [newApiKey(), "not-a-binance-key"]) {
      const venue = harness.makeVenue({ accounts: { [harness.account]: { apiKey } } });
      const o = order();
      expect(await venue.send(await prepare(venue, o))).toEqual({
        kind: "rejected",
        reason: "venue_error:bad_api_key",
      });
      expect(count(o.clientOrderId)).toBe(0);
      expect((await venue.readiness()).ready).toBe(false);
    }
  });

  it("-4116 while the first order is open → already_placed, still one order; lookup finds it", async () => {
    const { venue } = await open();
    const o = order({ type: "LIMIT", price: "60000" });
    const first = await venue.send(await prepare(venue, o));
    expect(first).toMatchObject({ kind: "placed", status: "open", fillQty: "0", avgPrice: null });
    const again = await prepare(venue, o);
    expect(await venue.send(again)).toEqual({ kind: "already_placed", detail: "duplicate_client_order_id" });
    expect(count(o.clientOrderId)).toBe(1);
    expect(await venue.lookup(again.ref)).toMatchObject({ kind: "found", status: "open" });
  });

  it("a client order id reused after the first order filled IS accepted by Binance (why the executor never resends)", async () => {
    const { venue } = await open();
    const o = order();
    expect((await venue.send(await prepare(venue, o))).kind).toBe("placed");
    expect((await venue.send(await prepare(venue, o))).kind).toBe("placed");
    expect(count(o.clientOrderId)).toBe(2);
  });

  it("-2022 reduce-only that would open → rejected reduce_only_rejected", async () => {
    const { venue } = await open();
    const o = order({ side: "SELL", reduceOnly: true });
    expect(await venue.send(await prepare(venue, o))).toEqual({
      kind: "rejected",
      reason: "venue_error:reduce_only_rejected",
    });
    expect(count(o.clientOrderId)).toBe(0);
  });

  it("filters that changed at the venue after they were loaded → -4164 / -4005 / -4014 rejected, nothing placed", async () => {
    const { venue, emulator } = await open();
    expect((await venue.readiness()).ready).toBe(true);
    const btc = emulator.state.symbol("BTCUSDT")!;
    emulator.state.putSymbol({ ...btc, minNotional: "5000" });
    const o1 = order();
    expect(await venue.send(await prepare(venue, o1))).toEqual({
      kind: "rejected",
      reason: "venue_error:min_notional",
    });
    emulator.state.putSymbol({ ...btc, marketLotSize: { ...btc.marketLotSize, maxQty: "0.005" } });
    const o2 = order();
    expect(await venue.send(await prepare(venue, o2))).toEqual({
      kind: "rejected",
      reason: "venue_error:lot_size",
    });
    emulator.state.putSymbol({ ...btc, priceFilter: { ...btc.priceFilter, tickSize: "1.00" } });
    const o3 = order({ type: "LIMIT", price: "60000.5" });
    expect(await venue.send(await prepare(venue, o3))).toEqual({
      kind: "rejected",
      reason: "venue_error:price_filter",
    });
    expect(count(o1.clientOrderId) + count(o2.clientOrderId) + count(o3.clientOrderId)).toBe(0);
  });

  it("-4015 (the adapter never sends such ids: prepare and the signer refuse them) maps to bad_client_order_id", async () => {
    const { emulator, secret, apiKey } = await open();
    expect(await h!.venue.prepare(order({ clientOrderId: "bad id" }), testGuard())).toMatchObject({
      reason: "invalid_plan:client_order_id",
    });
    // A raw request signed with the account's secret, sent through the adapter's own transport.
    const query = `symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.01&newClientOrderId=bad%20id&timestamp=${Date.now()}`;
    const signature = createHmac("sha256", secret).update(query).digest("hex");
    const http = new BinanceHttp({ baseUrl: emulator.url, timeoutMs: 2000 });
    const answer = await http.request({
      method: "POST",
      path: "/fapi/v1/order",
      body: `${query}&signature=${signature}`,
      apiKey: new SecretBytes(Buffer.from(apiKey)),
    });
    http.close();
    expect(answer).toMatchObject({ kind: "response", status: 400 });
    expect(classifyOrderAnswer(answer)).toEqual({
      kind: "rejected",
      reason: "venue_error:bad_client_order_id",
    });
    expect(emulator.state.orders()).toHaveLength(0);
  });

  it("-2013 on lookup → not_found", async () => {
    const { venue } = await open();
    const p = await prepare(venue, order());
    expect(await venue.lookup(p.ref)).toEqual({ kind: "not_found" });
  });
});

describe("binance adapter ↔ emulator: every fault ends in a typed outcome, with the right number of orders", () => {
  it("-1008 throttle → rejected throttled, 0 orders; -1003 rate limit → rejected rate_limited, 0 orders", async () => {
    const { venue, emulator } = await open();
    emulator.faults.inject("order", { kind: "throttle" });
    const o1 = order();
    expect(await venue.send(await prepare(venue, o1))).toEqual({
      kind: "rejected",
      reason: "venue_error:throttled",
    });
    emulator.faults.inject("order", { kind: "rate_limit" });
    const o2 = order();
    expect(await venue.send(await prepare(venue, o2))).toEqual({
      kind: "rejected",
      reason: "venue_error:rate_limited",
    });
    expect(count(o1.clientOrderId) + count(o2.clientOrderId)).toBe(0);
  });

  it.each([
    [-1006, true, 1],
    [-1007, false, 0],
    [-1000, true, 1],
  ] as const)(
    "status unknown %i (processed: %s) → unknown; %i order(s); lookup tells",
    async (code, process, n) => {
      const { venue, emulator } = await open();
      emulator.faults.inject("order", { kind: "status_unknown", code, process });
      const p = await prepare(venue, order());
      expect(await venue.send(p)).toEqual({ kind: "unknown", detail: "execution_status_unknown" });
      expect(count(p.ref.clientOrderId)).toBe(n);
      expect((await venue.lookup(p.ref)).kind).toBe(n === 1 ? "found" : "not_found");
    },
  );

  it.each([
    [503, false, 0],
    [502, true, 1],
    [500, false, 0],
  ] as const)("HTTP %i (processed: %s) → unknown http_<status>; %i order(s)", async (status, process, n) => {
    const { venue, emulator } = await open();
    emulator.faults.inject("order", { kind: "http_error", status, process });
    const p = await prepare(venue, order());
    expect(await venue.send(p)).toEqual({ kind: "unknown", detail: `http_${status}` });
    expect(count(p.ref.clientOrderId)).toBe(n);
    expect((await venue.lookup(p.ref)).kind).toBe(n === 1 ? "found" : "not_found");
  });

  it("timeout after accept → unknown timeout (within the client's timeout), 1 order, found by lookup", async () => {
    const harness = await open();
    const venue = harness.makeVenue({ timeoutMs: 400 });
    harness.emulator.faults.inject("order", { kind: "timeout_after_accept", holdMs: 20_000 });
    const p = await prepare(venue, order());
    const t0 = Date.now();
    expect(await venue.send(p)).toEqual({ kind: "unknown", detail: "timeout" });
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(count(p.ref.clientOrderId)).toBe(1);
    expect(await venue.lookup(p.ref)).toMatchObject({ kind: "found", status: "filled", fillQty: "0.01" });
  });

  it("drop response → unknown connection_lost; processed: 1 order, not processed: 0", async () => {
    const { venue, emulator } = await open();
    emulator.faults.inject("order", { kind: "drop_response" });
    const p1 = await prepare(venue, order());
    expect(await venue.send(p1)).toEqual({ kind: "unknown", detail: "connection_lost" });
    expect(count(p1.ref.clientOrderId)).toBe(1);
    emulator.faults.inject("order", { kind: "drop_response", process: false });
    const p2 = await prepare(venue, order());
    expect(await venue.send(p2)).toEqual({ kind: "unknown", detail: "connection_lost" });
    expect(count(p2.ref.clientOrderId)).toBe(0);
    expect(await venue.lookup(p1.ref)).toMatchObject({ kind: "found" });
    expect(await venue.lookup(p2.ref)).toEqual({ kind: "not_found" });
  });

  it("latency: under the timeout → placed; over it → unknown timeout, and the order lands once the delay passes", async () => {
    const harness = await open();
    const venue = harness.makeVenue({ timeoutMs: 300 });
    harness.emulator.faults.inject("order", { kind: "latency", ms: 50 });
    const p1 = await prepare(venue, order());
    expect((await venue.send(p1)).kind).toBe("placed");
    harness.emulator.faults.inject("order", { kind: "latency", ms: 600 });
    const p2 = await prepare(venue, order());
    expect(await venue.send(p2)).toEqual({ kind: "unknown", detail: "timeout" });
    await sleep(500);
    expect(count(p2.ref.clientOrderId)).toBe(1);
    expect(await venue.lookup(p2.ref)).toMatchObject({ kind: "found", status: "filled" });
  });

  it("clock skew beyond recvWindow/2 → not ready (with the offset); orders still carry a corrected timestamp", async () => {
    const { venue, emulator } = await open();
    emulator.faults.setClockSkew(4000);
    const r = await venue.readiness();
    expect(r.ready).toBe(false);
    expect(r.detail).toContain("clock offset");
    expect(r.clockOffsetMs).toBeGreaterThan(3800);
    const o = order();
    expect((await venue.send(await prepare(venue, o))).kind).toBe("placed");
  });

  it("connection refused (nothing listening) → rejected connection_failed: provably not sent", async () => {
    const harness = await open();
    const port = await freePort();
    const venue = harness.makeVenue({ baseUrl: `http://127.0.0.1:${port}` });
    // prepare needs rules and time: fetch them from the emulator first, then point sends at a dead port.
    const p = await prepare(harness.venue, order());
    expect(await venue.send(p)).toEqual({ kind: "rejected", reason: "venue_error:connection_failed" });
    expect(await venue.prepare(order(), testGuard())).toMatchObject({
      ok: false,
      reason: "venue_error:exchange_info_unavailable",
      decision: "FAILED",
    });
    expect(await venue.lookup(p.ref)).toEqual({ kind: "unavailable", detail: "server_time_unavailable" });
    expect(await venue.readiness()).toMatchObject({ ready: false, detail: "exchange info unavailable" });
    expect(count(p.ref.clientOrderId)).toBe(0);
  });

  it("a prepared order older than recvWindow is not sent (Binance would refuse it)", async () => {
    const harness = await open();
    let offset = 0;
    const venue = harness.makeVenue({ now: () => Date.now() + offset });
    const p = await prepare(venue, order());
    offset = 5000;
    expect(await venue.send(p)).toEqual({ kind: "rejected", reason: "venue_error:prepared_order_expired" });
    expect(harness.emulator.requests("order")).toHaveLength(0);
  });

  it("lookups and positions while the venue fails → unavailable / ok:false with a detail", async () => {
    const { venue, emulator } = await open();
    const p = await prepare(venue, order());
    emulator.faults.inject("queryOrder", { kind: "http_error", status: 503, process: false });
    expect(await venue.lookup(p.ref)).toEqual({ kind: "unavailable", detail: "http_503" });
    emulator.faults.inject("positionRisk", { kind: "status_unknown", code: -1007, process: false });
    expect(await venue.positions(h!.account)).toEqual({ ok: false, detail: "binance:-1007" });
    emulator.faults.inject("exchangeInfo", { kind: "http_error", status: 503, process: false });
    const fresh = h!.makeVenue();
    expect(await fresh.readiness()).toMatchObject({ ready: false, detail: "exchange info unavailable" });
  });
});

describe("binance adapter: signing, positions, readiness", () => {
  it("inFlightMs = recvWindow + margin", async () => {
    const harness = await open();
    expect(harness.venue.inFlightMs).toBe(8000);
    expect(harness.makeVenue({ recvWindowMs: 10_000, inFlightMarginMs: 1000 }).inFlightMs).toBe(11_000);
  });

  it("a signer denial at prepare → DENIED signer_denied:<reason>, nothing sent", async () => {
    const harness = await open({ signerPolicy: { symbols: ["ETHUSDT"] } });
    const r = await harness.venue.prepare(order(), testGuard());
    expect(r).toEqual({ ok: false, reason: "signer_denied:policy:symbols", decision: "DENIED" });
    const other = harness.makeVenue({ caller: "someone-else" });
    expect(await other.prepare(order(), testGuard())).toMatchObject({
      reason: "signer_denied:unknown_caller",
    });
    const noRoute = harness.makeVenue({ routes: { order: "executor.binance-usdm.other" } });
    expect(await noRoute.prepare(order(), testGuard())).toMatchObject({
      reason: "signer_denied:route_not_allowed",
    });
    expect(harness.emulator.requests("order")).toHaveLength(0);
  });

  it("an account without an API key → FAILED unknown_account", async () => {
    const { venue } = await open();
    expect(await venue.prepare(order({ account: "nobody" }), testGuard())).toEqual({
      ok: false,
      reason: "venue_error:unknown_account",
      decision: "FAILED",
    });
    expect(await venue.positions("nobody")).toEqual({ ok: false, detail: "unknown_account" });
  });

  it("positions: signed, short < 0, flat symbols left out", async () => {
    const { venue, emulator, account } = await open();
    emulator.state.setPosition(account, "ETHUSDT", "-2.5");
    emulator.state.setPosition(account, "BTCUSDT", "0.01");
    expect(await venue.positions(account)).toEqual({
      ok: true,
      positions: [
        { account, symbol: "BTCUSDT", qty: "0.01" },
        { account, symbol: "ETHUSDT", qty: "-2.5" },
      ],
    });
  });

  it("readiness: ready when healthy (rules, clock, credentials), not after close", async () => {
    const { venue } = await open();
    const r = await venue.readiness();
    expect(r.ready).toBe(true);
    expect(Math.abs(r.clockOffsetMs ?? 99)).toBeLessThan(50);
    expect(r.detail).toMatch(/^ready: 1\/1 account\(s\), 2 symbols/);
    await venue.close();
    expect(await venue.readiness()).toEqual({ ready: false, detail: "closed" });
    expect(await venue.prepare(order(), testGuard())).toMatchObject({ reason: "venue_error:venue_closed" });
  });

  it("a MARKET order's fill and the signer's target agree with what was sent (one order, exact decimals)", async () => {
    const { venue, emulator } = await open();
    emulator.state.setMarkPrice("ETHUSDT", "3000.25");
    const o = order({ symbol: "ETHUSDT", qty: "1.234", referencePrice: "3000" });
    const sent = await venue.send(await prepare(venue, o));
    expect(sent).toMatchObject({ kind: "placed", status: "filled", fillQty: "1.234", avgPrice: "3000.25" });
    expect(emulator.state.orders({ clientOrderId: o.clientOrderId })).toEqual([
      expect.objectContaining({ origQty: "1.234", side: "BUY", type: "MARKET", reduceOnly: false }),
    ]);
  });

  it("with a read-only key: reads (lookup, positions, readiness) go with it; orders with the trade key", async () => {
    const { venue, emulator, account } = await open({ readOnlyKey: true });
    const o = order();
    const p = await prepare(venue, o);
    expect((await venue.send(p)).kind).toBe("placed");
    expect(await venue.lookup(p.ref)).toMatchObject({ kind: "found" });
    expect((await venue.positions(account)).ok).toBe(true);
    expect((await venue.readiness()).ready).toBe(true);
    // Every request was accepted: the reads' signatures are the read-only key's, under its own API key
    // (with the trade key they would fail -1022). Readiness used the credentials the send just verified.
    const answered = emulator
      .requests()
      .filter((r) => r.endpoint !== "time" && r.endpoint !== "exchangeInfo");
    expect(answered.map((r) => [r.endpoint, r.status])).toEqual([
      ["order", 200],
      ["queryOrder", 200],
      ["positionRisk", 200],
    ]);
  });

  it("hashed client order ids (with '/') are sent percent-encoded and found again", async () => {
    const { venue } = await open();
    const o = order({ clientOrderId: clientOrderId(`plan-${"y".repeat(60)}`) });
    expect(o.clientOrderId).toContain("/");
    const p = await prepare(venue, o);
    const sent = await venue.send(p);
    expect(sent.kind).toBe("placed");
    expect(await venue.lookup(p.ref)).toMatchObject({ kind: "found" });
  });
});

describe("secrets", () => {
  it("canary: neither the API secret nor the API key appears in outcomes, errors, or util.inspect of the venue", async () => {
    const canary = "CANARY-binance-api-secret-93e1";
    const harness = await open({ secret: canary });
    const { venue, emulator, apiKey } = harness;
    const seen: unknown[] = [];
    seen.push(await venue.readiness());
    const p = await prepare(venue, order());
    seen.push(p, await venue.send(p), await venue.lookup(p.ref), await venue.positions(harness.account));
    emulator.faults.inject("order", { kind: "drop_response" });
    const p2 = await prepare(venue, order());
    seen.push(p2, await venue.send(p2));
    const bad = harness.makeVenue({ accounts: { [harness.account]: { apiKey: newApiKey() } } });
    seen.push(await bad.readiness(), await bad.send(await prepare(bad, order())));
    const texts = [
      inspect(venue, { depth: 10, showHidden: true }),
      inspect(seen, { depth: 10, showHidden: true }),
      JSON.stringify(seen),
      JSON.stringify(venue),
      String(venue),
      inspect(emulator, { depth: 10 }),
      JSON.stringify(emulator.requests()),
    ];
    for (const t of texts) {
      expect(t).not.toContain(canary);
      expect(t).not.toContain(apiKey);
    }
    expect(() =>
      createBinanceVenue({
        baseUrl: "ftp://example.invalid",
        accounts: {},
        plane: harness.plane.plane,
        caller: "x",
      }),
    ).toThrow(/http/);
  });
});

/** A port nothing listens on. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}
