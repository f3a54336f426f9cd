/**
 * Cancels and the dead-man switch of the Binance adapter against the
 * emulator (real HTTP, real timers) and a real local signing plane: no mocks.
 */
import { createHmac } from "node:crypto";
import { inspect } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import {
  type BinanceHarness,
  type BinanceHarnessOptions,
  openBinanceHarness,
  testGuard,
} from "../../../test/support/binanceHarness.js";
import { SecretBytes } from "../../core/auth/secretBytes.js";
import { clientOrderId } from "../../core/clientOrderId.js";
import type { OrderRef, Venue, VenueOrder } from "../../ports/venue.js";
import { BinanceHttp } from "./binanceHttp.js";

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
/** A resting LIMIT BUY under the mark (BTCUSDT 65000, ETHUSDT 3000) unless told otherwise. */
function limit(over: Partial<VenueOrder> = {}): VenueOrder {
  return {
    account: h!.account,
    symbol: "BTCUSDT",
    side: "BUY",
    type: "LIMIT",
    qty: "0.01",
    price: "60000",
    referencePrice: "65000",
    reduceOnly: false,
    clientOrderId: clientOrderId(`control-test-${process.pid}-${++seq}`),
    ...over,
  };
}

/** Places `o` through the venue; its ref. */
async function place(venue: Venue, o: VenueOrder): Promise<OrderRef> {
  const p = await venue.prepare(o, testGuard());
  if (!p.ok) throw new Error(`prepare refused: ${p.reason}`);
  const sent = await venue.send(p.prepared);
  if (sent.kind !== "placed") throw new Error(`not placed: ${JSON.stringify(sent)}`);
  return p.prepared.ref;
}

/** The client order ids of the account's open orders on `symbol`, as `GET /fapi/v1/openOrders` answers. */
async function openAtVenue(symbol = "BTCUSDT"): Promise<string[]> {
  const { emulator, secret, apiKey } = h!;
  const query = `symbol=${symbol}&timestamp=${Date.now()}`;
  const signature = createHmac("sha256", secret).update(query).digest("hex");
  const http = new BinanceHttp({ baseUrl: emulator.url, timeoutMs: 2000 });
  const answer = await http.request({
    method: "GET",
    path: "/fapi/v1/openOrders",
    query: `${query}&signature=${signature}`,
    apiKey: new SecretBytes(Buffer.from(apiKey)),
  });
  http.close();
  if (answer.kind !== "response" || answer.status !== 200) throw new Error("openOrders failed");
  return (JSON.parse(answer.text) as { clientOrderId: string }[]).map((o) => o.clientOrderId);
}

const statusAt = (ref: OrderRef): string | undefined =>
  h!.emulator.state.orders({ clientOrderId: ref.clientOrderId }).at(-1)?.status;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until `pred` holds, at most `ms`; whether it did. */
async function eventually(pred: () => Promise<boolean> | boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await pred()) return true;
    await sleep(100);
  }
  return pred();
}

describe("cancel", () => {
  it("a resting LIMIT order → canceled with its state; the venue's open orders no longer hold it; lookup agrees", async () => {
    const { venue } = await open();
    const ref = await place(venue, limit());
    const other = await place(venue, limit());
    expect(await openAtVenue()).toEqual([ref.clientOrderId, other.clientOrderId]);
    const out = await venue.cancel(ref);
    expect(out).toEqual({
      kind: "canceled",
      orderId: expect.stringMatching(/^[0-9]+$/),
      status: "canceled",
      fillQty: "0",
      avgPrice: null,
    });
    expect(await openAtVenue()).toEqual([other.clientOrderId]);
    expect(await venue.lookup(ref)).toMatchObject({ kind: "found", status: "canceled" });
    const cancels = h!.emulator.requests("cancelOrder");
    expect(cancels.map((r) => [r.method, r.path, r.status])).toEqual([["DELETE", "/fapi/v1/order", 200]]);
  });

  it("a partly filled order → canceled, and what filled stays filled", async () => {
    const { venue, emulator } = await open();
    const ref = await place(venue, limit({ qty: "0.01", price: "60000" }));
    emulator.state.setDepth("BTCUSDT", {
      bids: [{ price: "59000", qty: "1" }],
      asks: [{ price: "59990", qty: "0.004" }],
    });
    expect(await venue.lookup(ref)).toMatchObject({ kind: "found", status: "open", fillQty: "0.004" });
    expect(await venue.cancel(ref)).toMatchObject({
      kind: "canceled",
      status: "canceled",
      fillQty: "0.004",
      avgPrice: "60000", // the resting order is the maker: it trades at its own price
    });
  });

  it("a second cancel of the same order → not_open (Binance -2011); so is a cancel of an order never placed", async () => {
    const { venue } = await open();
    const ref = await place(venue, limit());
    expect((await venue.cancel(ref)).kind).toBe("canceled");
    expect(await venue.cancel(ref)).toEqual({ kind: "not_open", detail: "binance:-2011" });
    const never: OrderRef = { ...ref, clientOrderId: "never-placed", venueRef: "never-placed" };
    expect(await venue.cancel(never)).toEqual({ kind: "not_open", detail: "binance:-2011" });
  });

  it("a hashed client order id (with '/') is sent percent-encoded and cancelled", async () => {
    const { venue } = await open();
    const ref = await place(venue, limit({ clientOrderId: clientOrderId(`plan-${"z".repeat(60)}`) }));
    expect(ref.venueRef).toContain("/");
    expect(await venue.cancel(ref)).toMatchObject({ kind: "canceled", status: "canceled" });
    expect(await openAtVenue()).toEqual([]);
  });

  it("a filled order → not_open, still filled", async () => {
    const { venue } = await open();
    const ref = await place(venue, limit({ type: "MARKET", price: undefined }));
    expect(statusAt(ref)).toBe("FILLED");
    expect(await venue.cancel(ref)).toEqual({ kind: "not_open", detail: "binance:-2011" });
    expect(statusAt(ref)).toBe("FILLED");
  });

  it("the signer's cancel rate → rejected rateLimited, nothing cancelled; granted again a second later", async () => {
    const { venue } = await open({ signerPolicy: { cancel_rate_per_account_per_s: 1 } });
    const a = await place(venue, limit());
    const b = await place(venue, limit());
    expect((await venue.cancel(a)).kind).toBe("canceled");
    expect(await venue.cancel(b)).toEqual({
      kind: "rejected",
      reason: "signer_denied:policy:cancel_rate",
      rateLimited: true,
    });
    expect(await openAtVenue()).toEqual([b.clientOrderId]);
    expect(h!.emulator.requests("cancelOrder")).toHaveLength(1); // the denied one never left
    await sleep(1100);
    expect((await venue.cancel(b)).kind).toBe("canceled");
  });

  it("other signer denials → rejected with the signer's reason, not rate limited", async () => {
    const harness = await open();
    const ref = await place(harness.venue, limit());
    const noRoute = harness.makeVenue({ routes: { cancel: "executor.binance-usdm.other" } });
    expect(await noRoute.cancel(ref)).toEqual({
      kind: "rejected",
      reason: "signer_denied:route_not_allowed",
      rateLimited: false,
    });
    // The cancel route bound to another action in the signer: the query_order route is not a cancel.
    const wrong = harness.makeVenue({ routes: { cancel: "executor.binance-usdm.query_order" } });
    expect(await wrong.cancel(ref)).toMatchObject({ kind: "rejected", rateLimited: false });
    expect(await openAtVenue()).toEqual([ref.clientOrderId]);
  });

  it("the venue's rate limit (-1003, HTTP 429) → rejected rateLimited, nothing cancelled", async () => {
    const { venue, emulator } = await open();
    const ref = await place(venue, limit());
    emulator.faults.inject("cancelOrder", { kind: "rate_limit" });
    expect(await venue.cancel(ref)).toEqual({
      kind: "rejected",
      reason: "venue_error:rate_limited",
      rateLimited: true,
    });
    expect(statusAt(ref)).toBe("NEW");
  });

  it.each([
    ["HTTP 503 before processing", { kind: "http_error", status: 503, process: false }, "http_503", "NEW"],
    ["HTTP 502 after processing", { kind: "http_error", status: 502, process: true }, "http_502", "CANCELED"],
    [
      "-1006 after processing",
      { kind: "status_unknown", code: -1006, process: true },
      "execution_status_unknown",
      "CANCELED",
    ],
    [
      "-1007 before processing",
      { kind: "status_unknown", code: -1007, process: false },
      "execution_status_unknown",
      "NEW",
    ],
    ["a dropped answer", { kind: "drop_response" }, "connection_lost", "CANCELED"],
  ] as const)("%s → unknown %s; the venue's state tells (%s)", async (_name, fault, detail, status) => {
    const { venue, emulator } = await open();
    const ref = await place(venue, limit());
    emulator.faults.inject("cancelOrder", fault);
    expect(await venue.cancel(ref)).toEqual({ kind: "unknown", detail });
    expect(statusAt(ref)).toBe(status);
  });

  it("a timeout after the venue accepted → unknown timeout (within the client's timeout), cancelled there", async () => {
    const harness = await open();
    const venue = harness.makeVenue({ timeoutMs: 400 });
    const ref = await place(venue, limit());
    harness.emulator.faults.inject("cancelOrder", { kind: "timeout_after_accept", holdMs: 20_000 });
    const t0 = Date.now();
    expect(await venue.cancel(ref)).toEqual({ kind: "unknown", detail: "timeout" });
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(statusAt(ref)).toBe("CANCELED");
  });

  it("an unreachable venue → nothing sent: rejected (not rate limited), the order untouched", async () => {
    const harness = await open();
    const ref = await place(harness.venue, limit());
    await harness.emulator.close();
    const out = await harness.makeVenue().cancel(ref);
    expect(out).toEqual({
      kind: "rejected",
      reason: "venue_error:server_time_unavailable",
      rateLimited: false,
    });
    // The same venue, its clock synced before: the connection is refused, provably not sent.
    expect(await harness.venue.cancel(ref)).toEqual({
      kind: "rejected",
      reason: "venue_error:connection_failed",
      rateLimited: false,
    });
    expect(statusAt(ref)).toBe("NEW");
  });

  it("an account without an API key, or a ref of another venue → rejected, nothing sent", async () => {
    const { venue } = await open();
    const ref = await place(venue, limit());
    expect(await venue.cancel({ ...ref, account: "nobody" })).toEqual({
      kind: "rejected",
      reason: "venue_error:unknown_account",
      rateLimited: false,
    });
    expect(await venue.cancel({ ...ref, venue: "polymarket" })).toEqual({
      kind: "rejected",
      reason: "internal_error:foreign_order",
      rateLimited: false,
    });
    expect(h!.emulator.requests("cancelOrder")).toHaveLength(0);
  });
});

describe("keepAlive: Binance's countdownCancelAll", () => {
  it("arms every symbol; while refreshed the resting orders stay, once not refreshed the venue cancels them", async () => {
    const harness = await open();
    const venue = harness.makeVenue({ countdownMs: 3000 });
    const { emulator, account } = harness;
    const btc = await place(venue, limit());
    const eth = await place(
      venue,
      limit({ symbol: "ETHUSDT", qty: "1", price: "2900", referencePrice: "3000" }),
    );
    const request = { account, symbols: ["BTCUSDT", "ETHUSDT"] };
    expect(await venue.keepAlive(request)).toEqual({ ok: true });
    expect(emulator.state.countdownArmed(account, "BTCUSDT")).toBe(true);
    expect(emulator.state.countdownArmed(account, "ETHUSDT")).toBe(true);
    // Refreshed every second for longer than the countdown: nothing is cancelled.
    for (let i = 0; i < 5; i++) {
      await sleep(1000);
      expect(await venue.keepAlive(request)).toEqual({ ok: true });
    }
    expect([statusAt(btc), statusAt(eth)]).toEqual(["NEW", "NEW"]);
    // Not refreshed: the venue cancels both symbols' open orders by itself.
    const cancelled = await eventually(
      () => statusAt(btc) === "CANCELED" && statusAt(eth) === "CANCELED",
      15_000,
    );
    expect(cancelled).toBe(true);
    expect(await openAtVenue("BTCUSDT")).toEqual([]);
    expect(await openAtVenue("ETHUSDT")).toEqual([]);
    expect(emulator.state.countdownArmed(account, "BTCUSDT")).toBe(false);
    expect(emulator.requests("countdown").every((r) => r.method === "POST" && r.status === 200)).toBe(true);
  });

  it("no symbols: nothing sent, ok", async () => {
    const { venue, emulator, account } = await open();
    expect(await venue.keepAlive({ account, symbols: [] })).toEqual({ ok: true });
    expect(emulator.requests("countdown")).toHaveLength(0);
  });

  it("the signer's keep-alive rate → ok false, rateLimited, naming the symbol not armed; the others are armed", async () => {
    const { venue, emulator, account } = await open({
      signerPolicy: { keepalive_rate_per_account_per_s: 1 },
    });
    const out = await venue.keepAlive({ account, symbols: ["BTCUSDT", "ETHUSDT"] });
    expect(out).toEqual({
      ok: false,
      detail: "ETHUSDT: signer_denied:policy:keepalive_rate",
      rateLimited: true,
    });
    expect(emulator.state.countdownArmed(account, "BTCUSDT")).toBe(true);
    expect(emulator.state.countdownArmed(account, "ETHUSDT")).toBe(false);
  });

  it("a countdown past the signer's max_countdown_ms → ok false, not rate limited", async () => {
    const harness = await open({ signerPolicy: { max_countdown_ms: 30_000 } });
    const out = await harness.makeVenue({ countdownMs: 60_000 }).keepAlive({
      account: harness.account,
      symbols: ["BTCUSDT"],
    });
    expect(out).toEqual({ ok: false, detail: "BTCUSDT: signer_denied:policy:countdown", rateLimited: false });
    expect(harness.emulator.requests("countdown")).toHaveLength(0);
  });

  it("the venue's rate limit → rateLimited; a 5xx or a dropped answer → ok false, not rate limited; an unknown account", async () => {
    const { venue, emulator, account } = await open();
    emulator.faults.inject("countdown", { kind: "rate_limit" });
    expect(await venue.keepAlive({ account, symbols: ["ETHUSDT", "BTCUSDT"] })).toEqual({
      ok: false,
      detail: "ETHUSDT: venue_error:rate_limited",
      rateLimited: true,
    });
    expect(emulator.state.countdownArmed(account, "BTCUSDT")).toBe(true);
    emulator.faults.inject("countdown", { kind: "http_error", status: 503, process: false });
    emulator.faults.inject("countdown", { kind: "drop_response" });
    expect(await venue.keepAlive({ account, symbols: ["BTCUSDT", "ETHUSDT"] })).toEqual({
      ok: false,
      detail: "BTCUSDT: http_503; ETHUSDT: connection_lost",
      rateLimited: false,
    });
    expect(await venue.keepAlive({ account: "nobody", symbols: ["BTCUSDT"] })).toEqual({
      ok: false,
      detail: "BTCUSDT: venue_error:unknown_account",
      rateLimited: false,
    });
  });

  it("countdownMs must be an integer from 1000 to 86 400 000 (0 would disarm the switch)", async () => {
    const harness = await open();
    for (const countdownMs of [0, 999, 1500.5, 86_400_001]) {
      expect(() => harness.makeVenue({ countdownMs })).toThrow(RangeError);
    }
  });
});

describe("secrets", () => {
  it("canary: neither the API secret nor the API key appears in cancel or keep-alive outcomes", async () => {
    const canary = "CANARY-binance-api-secret-control-5c2a";
    const harness = await open({ secret: canary });
    const { venue, emulator, account, apiKey } = harness;
    const a = await place(venue, limit());
    const b = await place(venue, limit());
    const seen: unknown[] = [await venue.cancel(a), await venue.cancel(a)];
    emulator.faults.inject("countdown", { kind: "drop_response" });
    seen.push(
      await venue.keepAlive({ account, symbols: ["BTCUSDT"] }),
      await venue.keepAlive({ account, symbols: ["BTCUSDT", "ETHUSDT"] }),
    );
    emulator.state.setSecret(apiKey, "not-the-vault-secret");
    seen.push(await venue.cancel(b), await venue.keepAlive({ account, symbols: ["BTCUSDT"] }));
    expect(seen).toEqual([
      expect.objectContaining({ kind: "canceled" }),
      { kind: "not_open", detail: "binance:-2011" },
      { ok: false, detail: "BTCUSDT: connection_lost", rateLimited: false },
      { ok: true },
      { kind: "rejected", reason: "venue_error:bad_signature", rateLimited: false },
      { ok: false, detail: "BTCUSDT: venue_error:bad_signature", rateLimited: false },
    ]);
    for (const t of [JSON.stringify(seen), inspect(seen, { depth: 10, showHidden: true }), inspect(venue)]) {
      expect(t).not.toContain(canary);
      expect(t).not.toContain(apiKey);
    }
  });
});
