import { readFile } from "node:fs/promises";
import { inspect } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  addressOf,
  openPolymarketWorld,
  PM_ACCOUNT,
  PM_ADDRESS,
  PM_CANARY,
  PM_DRY_TOKEN,
  PM_FINE_TOKEN,
  PM_NEG_TOKEN,
  PM_OTHER_KEY_HEX,
  PM_TOKEN,
  type PolymarketWorld,
  pmGuard,
  pmOrder,
} from "../../../test/support/polymarketWorld.js";
import { SecretBytes } from "../../core/auth/secretBytes.js";
import { CTF_ORDER_VERSIONS } from "../../core/polymarket/ctfOrder.js";
import type { PreparedOrder, SendOutcome, Venue } from "../../ports/venue.js";

/**
 * The adapter against the emulator over real HTTP on 127.0.0.1, signing
 * through a real local plane with a vault: every order the adapter prepares
 * is signed by the plane and verified by the emulator as the CLOB does.
 */
let world: PolymarketWorld;
let venue: Venue;
const outcomes: unknown[] = [];

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

async function prepared(over: Parameters<typeof pmOrder>[0] = {}, v: Venue = venue): Promise<PreparedOrder> {
  const out = await v.prepare(pmOrder(over), pmGuard());
  outcomes.push(out);
  if (!out.ok) throw new Error(`prepare refused: ${out.reason}`);
  return out.prepared;
}

async function sent(p: PreparedOrder, v: Venue = venue): Promise<SendOutcome> {
  const out = await v.send(p);
  outcomes.push(out);
  return out;
}

/** Orders at the emulator with this hash. */
const ordersWith = (hash: string) => world.emulator.orders().filter((o) => o.orderHash === hash).length;

describe("placing orders", () => {
  it("a LIMIT BUY is a GTC V2 order on the standard exchange, found again by its order hash", async () => {
    const p = await prepared();
    expect(p.ref).toMatchObject({ venue: "polymarket", account: PM_ACCOUNT, symbol: PM_TOKEN });
    expect(p.ref.venueRef).toMatch(/^0x[0-9a-f]{64}$/);
    const out = await sent(p);
    expect(out).toEqual({
      kind: "placed",
      orderId: p.ref.venueRef,
      status: "filled",
      fillQty: "10",
      avgPrice: "0.57",
    });
    const [order] = world.emulator.orders().filter((o) => o.orderHash === p.ref.venueRef);
    expect(order).toMatchObject({
      version: "2",
      orderType: "GTC",
      side: "BUY",
      size: "10",
      price: "0.57",
      negRisk: false,
      exchange: CTF_ORDER_VERSIONS["2"].exchanges["137"]!.standard,
      maker: PM_ADDRESS,
      signer: PM_ADDRESS,
    });
    expect(await venue.lookup(p.ref)).toEqual({
      kind: "found",
      orderId: p.ref.venueRef,
      status: "filled",
      fillQty: "10",
      avgPrice: "0.57",
    });
  });

  it("a neg-risk market's order is signed for the neg-risk exchange", async () => {
    const p = await prepared({ symbol: PM_NEG_TOKEN });
    expect(await sent(p)).toMatchObject({ kind: "placed", status: "filled" });
    const order = world.emulator.orders().find((o) => o.orderHash === p.ref.venueRef);
    expect(order?.negRisk).toBe(true);
    expect(order?.exchange).toBe(CTF_ORDER_VERSIONS["2"].exchanges["137"]!.negRisk);
  });

  it("a GTC order that does not cross rests: placed, open, nothing filled", async () => {
    const p = await prepared({ symbol: PM_DRY_TOKEN });
    expect(await sent(p)).toEqual({
      kind: "placed",
      orderId: p.ref.venueRef,
      status: "open",
      fillQty: "0",
      avgPrice: null,
    });
    expect(await venue.lookup(p.ref)).toEqual({
      kind: "found",
      orderId: p.ref.venueRef,
      status: "open",
      fillQty: "0",
      avgPrice: null,
    });
  });

  it("a MARKET plan is a FOK order at the reference price", async () => {
    const p = await prepared({ type: "MARKET", price: undefined, referencePrice: "0.5", qty: "20" });
    expect(await sent(p)).toMatchObject({ kind: "placed", status: "filled", fillQty: "20", avgPrice: "0.5" });
    expect(world.emulator.orders().find((o) => o.orderHash === p.ref.venueRef)?.orderType).toBe("FOK");
  });

  it("a FOK order that cannot fill in full is killed: rejected, nothing at the venue", async () => {
    const p = await prepared({
      symbol: PM_DRY_TOKEN,
      type: "MARKET",
      price: undefined,
      referencePrice: "0.5",
    });
    expect(await sent(p)).toEqual({ kind: "rejected", reason: "venue_error:fok_not_filled" });
    expect(ordersWith(p.ref.venueRef)).toBe(0);
    expect(await venue.lookup(p.ref)).toEqual({ kind: "not_found" });
  });

  it("a finer tick market takes prices on its own tick", async () => {
    const p = await prepared({ symbol: PM_FINE_TOKEN, price: "0.123", qty: "3.5" });
    expect(await sent(p)).toMatchObject({
      kind: "placed",
      status: "filled",
      fillQty: "3.5",
      avgPrice: "0.123",
    });
  });
});

describe("refused before anything is sent", () => {
  const cases: Array<[string, Parameters<typeof pmOrder>[0], string, "DENIED" | "FAILED"]> = [
    ["price off the tick", { price: "0.575" }, "invalid_plan:tick_size", "DENIED"],
    [
      "price off a finer tick",
      { symbol: PM_FINE_TOKEN, price: "0.1234" },
      "invalid_plan:tick_size",
      "DENIED",
    ],
    ["price at 1 − tick + tick", { price: "1" }, "invalid_plan:price_range", "DENIED"],
    ["price under one tick", { price: "0" }, "invalid_plan:price_range", "DENIED"],
    ["size with 3 decimals", { qty: "10.005" }, "invalid_plan:lot_size", "DENIED"],
    ["size under the market minimum", { qty: "4.99" }, "invalid_plan:min_size", "DENIED"],
    [
      "MARKET without a reference price",
      { type: "MARKET", price: undefined },
      "limit:no_reference_price",
      "DENIED",
    ],
    [
      "MARKET reference price off the tick",
      { type: "MARKET", price: undefined, referencePrice: "0.505" },
      "invalid_plan:tick_size",
      "DENIED",
    ],
    [
      "FOK BUY whose USDC has 4 decimals",
      { type: "MARKET", price: undefined, referencePrice: "0.57", qty: "10.55" },
      "invalid_plan:amount_precision",
      "DENIED",
    ],
    [
      "FOK BUY under 1 USDC",
      { type: "MARKET", price: undefined, referencePrice: "0.1", qty: "5" },
      "limit:min_notional",
      "DENIED",
    ],
    ["a symbol that is not a token id", { symbol: "BTCUSDT" }, "invalid_plan:token_id", "DENIED"],
    ["an unknown token", { symbol: "12345" }, "invalid_plan:unknown_symbol", "DENIED"],
    ["an account without credentials", { account: "acct-nobody" }, "venue_error:unknown_account", "FAILED"],
    [
      "a client order id with a space",
      { clientOrderId: "has space" },
      "invalid_plan:client_order_id",
      "DENIED",
    ],
    ["a reduce-only BUY", { reduceOnly: true }, "venue_error:reduce_only_rejected", "FAILED"],
    [
      "a reduce-only SELL of more than is held",
      { reduceOnly: true, side: "SELL", symbol: PM_FINE_TOKEN, price: "0.5", qty: "1000" },
      "venue_error:reduce_only_rejected",
      "FAILED",
    ],
  ];
  it.each(cases)("%s", async (_name, over, reason, decision) => {
    const posts = world.orderPosts();
    const out = await venue.prepare(pmOrder(over), pmGuard());
    outcomes.push(out);
    expect(out).toEqual({ ok: false, reason, decision });
    expect(world.orderPosts()).toBe(posts);
  });
});

describe("reduce-only: a SELL of at most the held balance", () => {
  it("sells what is held, and the held balance goes down", async () => {
    world.emulator.setBalance(PM_ADDRESS, PM_FINE_TOKEN, "8");
    const p = await prepared({
      symbol: PM_FINE_TOKEN,
      side: "SELL",
      price: "0.4",
      qty: "8",
      reduceOnly: true,
    });
    expect(await sent(p)).toMatchObject({ kind: "placed", status: "filled", fillQty: "8" });
    expect(world.emulator.balance(PM_ADDRESS, PM_FINE_TOKEN)).toBe("0");
    // The same SELL again: nothing left to reduce.
    const again = await venue.prepare(
      pmOrder({ symbol: PM_FINE_TOKEN, side: "SELL", price: "0.4", qty: "8", reduceOnly: true }),
      pmGuard(),
    );
    expect(again).toEqual({ ok: false, reason: "venue_error:reduce_only_rejected", decision: "FAILED" });
  });

  it("the venue's own balance check still applies after prepare (a reduce-only SELL raced to zero)", async () => {
    world.emulator.setBalance(PM_ADDRESS, PM_FINE_TOKEN, "6");
    const p = await prepared({
      symbol: PM_FINE_TOKEN,
      side: "SELL",
      price: "0.4",
      qty: "6",
      reduceOnly: true,
    });
    world.emulator.setBalance(PM_ADDRESS, PM_FINE_TOKEN, "1");
    expect(await sent(p)).toEqual({ kind: "rejected", reason: "venue_error:reduce_only_rejected" });
    expect(ordersWith(p.ref.venueRef)).toBe(0);
  });

  it("a plain SELL without the tokens is refused by the venue as insufficient balance", async () => {
    world.emulator.setBalance(PM_ADDRESS, PM_TOKEN, "0");
    const p = await prepared({ side: "SELL" });
    expect(await sent(p)).toEqual({ kind: "rejected", reason: "venue_error:insufficient_balance" });
  });
});

describe("faults: exactly one order or none at the venue, and the right outcome", () => {
  const faultCases: Array<
    [
      string,
      Parameters<PolymarketWorld["emulator"]["faults"]["inject"]>[0],
      0 | 1,
      SendOutcome["kind"],
      string?,
    ]
  > = [
    ["latency under the timeout", { kind: "latency", ms: 300 }, 1, "placed"],
    [
      "HTTP 500 before processing",
      { kind: "http_5xx", status: 500, process: false },
      0,
      "unknown",
      "http_500",
    ],
    ["HTTP 502 after processing", { kind: "http_5xx", status: 502, process: true }, 1, "unknown", "http_502"],
    ["timeout after accept", { kind: "timeout", holdMs: 5_000, process: true }, 1, "unknown", "timeout"],
    [
      "timeout before processing",
      { kind: "timeout", holdMs: 5_000, process: false },
      0,
      "unknown",
      "timeout",
    ],
    ["dropped response after processing", { kind: "drop", process: true }, 1, "unknown", "reset"],
    ["dropped connection before processing", { kind: "drop", process: false }, 0, "unknown", "reset"],
  ];
  it.each(faultCases)("%s", async (_name, fault, count, kind, detail) => {
    const p = await prepared();
    world.emulator.faults.inject(fault);
    const out = await sent(p);
    expect(out.kind).toBe(kind);
    if (detail !== undefined) expect(out).toEqual({ kind, detail });
    expect(ordersWith(p.ref.venueRef)).toBe(count);
    // Reconciliation by order hash tells the two apart.
    const look = await venue.lookup(p.ref);
    expect(look.kind).toBe(count === 1 ? "found" : "not_found");
    // Never sent twice by the adapter.
    expect(await venue.send(p)).toEqual({ kind: "already_placed", detail: "sent_before" });
    expect(ordersWith(p.ref.venueRef)).toBe(count);
  });

  it("latency past the timeout: unknown, and the order is at the venue once", async () => {
    const p = await prepared();
    world.emulator.faults.inject({ kind: "latency", ms: 2_500 });
    expect(await sent(p)).toEqual({ kind: "unknown", detail: "timeout" });
    await new Promise((r) => setTimeout(r, 1_500));
    expect(ordersWith(p.ref.venueRef)).toBe(1);
  });

  it("a lookup the venue cannot answer is unavailable, not not_found", async () => {
    const p = await prepared();
    await sent(p);
    world.emulator.faults.inject(
      { kind: "http_5xx", status: 503, process: false },
      { method: "GET", path: "/data/order/" },
    );
    expect(await venue.lookup(p.ref)).toEqual({ kind: "unavailable", detail: "http_503" });
    expect((await venue.lookup(p.ref)).kind).toBe("found");
  });

  it("clock skew: readiness is not ready, and an order signed on the local clock is refused unplaced", async () => {
    expect(await venue.readiness()).toMatchObject({ ready: true });
    const p = await prepared();
    world.emulator.faults.setClockSkew(120_000);
    const r = await venue.readiness();
    expect(r.ready).toBe(false);
    expect(r.clockOffsetMs).toBeGreaterThan(118_000);
    expect(r.clockOffsetMs).toBeLessThan(122_000);
    expect(await sent(p)).toEqual({ kind: "rejected", reason: "venue_error:unauthorized" });
    expect(world.emulator.requests().at(-1)).toMatchObject({
      path: "/order",
      outcome: 401,
      authFailure: "timestamp",
    });
    expect(ordersWith(p.ref.venueRef)).toBe(0);
  });

  it("the same order posted twice (same salt and time) is a duplicate: already placed, one order", async () => {
    const fixed = openFixed();
    const a = await prepared({}, fixed);
    const b = await prepared({}, fixed);
    expect(b.ref.venueRef).toBe(a.ref.venueRef);
    expect((await sent(a, fixed)).kind).toBe("placed");
    expect(await sent(b, fixed)).toEqual({ kind: "already_placed", detail: "duplicate_order_hash" });
    expect(ordersWith(a.ref.venueRef)).toBe(1);
  });

  it("the venue gone between prepare and send: rejected as unreachable, nothing placed", async () => {
    const gone = await openPolymarketWorld();
    try {
      const out = await gone.venue.prepare(pmOrder(), pmGuard());
      if (!out.ok) throw new Error(out.reason);
      await gone.emulator.close();
      // Let the client see its idle keep-alive socket closed: reusing a socket the server just closed
      // fails after the request may have been written, which is (safely) unknown instead.
      await new Promise((r) => setTimeout(r, 200));
      expect(await gone.venue.send(out.prepared)).toEqual({
        kind: "rejected",
        reason: "venue_error:unreachable",
      });
      expect(gone.emulator.orders()).toHaveLength(0);
    } finally {
      await gone.close();
    }
  });

  it("no connection at all at prepare: the market rules are unavailable", async () => {
    const gone = world.openVenue({ baseUrl: "http://127.0.0.1:9" });
    expect(await gone.prepare(pmOrder(), pmGuard())).toEqual({
      ok: false,
      reason: "venue_error:market_unavailable",
      decision: "FAILED",
    });
  });
});

/** An adapter whose salt and clock are fixed, so two prepares build the same order. */
/** A venue whose salt and clock stand still (its clock at its opening: the signer's clock check passes). */
function openFixed(): Venue {
  const openedAt = Date.now();
  return world.openVenue({ randomSalt: () => 424242n, now: () => openedAt });
}

describe("signatures the venue refuses", () => {
  it("a plane whose key is not the account's address: the plane refuses to sign, nothing is sent", async () => {
    const other = await openPolymarketWorld({ planeKeyHex: PM_OTHER_KEY_HEX });
    try {
      const out = await other.venue.prepare(pmOrder(), pmGuard());
      expect(out).toEqual({ ok: false, reason: "signer_denied:payload_mismatch:signer", decision: "DENIED" });
      expect(other.orderPosts()).toBe(0);
    } finally {
      await other.close();
    }
  });

  it("an account configured with the plane's key but another API key's address: the venue refuses (401)", async () => {
    const other = await openPolymarketWorld({ planeKeyHex: PM_OTHER_KEY_HEX });
    try {
      const v = other.openVenue({
        accounts: {
          [PM_ACCOUNT]: {
            apiKey: PM_CANARY.apiKey,
            passphrase: PM_CANARY.passphrase,
            address: addressOf(PM_OTHER_KEY_HEX),
          },
        },
      });
      const p = (await v.prepare(pmOrder(), pmGuard())) as { ok: true; prepared: PreparedOrder };
      expect(p.ok).toBe(true);
      expect(await v.send(p.prepared)).toEqual({ kind: "rejected", reason: "venue_error:unauthorized" });
      expect(other.emulator.requests().at(-1)).toMatchObject({ outcome: 401, authFailure: "address" });
      expect(other.emulator.orders()).toHaveLength(0);
    } finally {
      await other.close();
    }
  });

  it("an order altered after signing does not recover to its signer: invalid signature, nothing placed", async () => {
    const p = await prepared();
    const data = (p.venueData as { contents: { order: Record<string, unknown> } }).contents;
    data.order.salt = Number(data.order.salt) + 1;
    expect(await sent(p)).toEqual({ kind: "rejected", reason: "venue_error:invalid_signature" });
    expect(world.emulator.requests().at(-1)).toMatchObject({ path: "/order", outcome: 400 });
    expect(ordersWith(p.ref.venueRef)).toBe(0);
  });

  it("a V1 order where the venue takes V2 only: order_version_mismatch", async () => {
    const v1 = world.openVenue({ orderVersion: "1" });
    const p = await prepared({}, v1);
    expect(await sent(p, v1)).toEqual({ kind: "rejected", reason: "venue_error:order_version_mismatch" });
  });

  it("V1 orders where the venue still takes them: the V1 exchanges", async () => {
    const both = await openPolymarketWorld({
      emulator: { acceptVersions: ["1", "2"] },
      venue: { orderVersion: "1" },
    });
    try {
      for (const [symbol, exchange] of [
        [PM_TOKEN, CTF_ORDER_VERSIONS["1"].exchanges["137"]!.standard],
        [PM_NEG_TOKEN, CTF_ORDER_VERSIONS["1"].exchanges["137"]!.negRisk],
      ] as const) {
        const out = await both.venue.prepare(pmOrder({ symbol }), pmGuard());
        if (!out.ok) throw new Error(out.reason);
        expect((await both.venue.send(out.prepared)).kind).toBe("placed");
        expect(both.emulator.orders().at(-1)).toMatchObject({
          version: "1",
          exchange,
          orderHash: out.prepared.ref.venueRef,
        });
      }
    } finally {
      await both.close();
    }
  });

  it("a route the signer does not allow: signer_denied", async () => {
    const v = world.openVenue({ routes: { order: "executor.polymarket.other" } });
    expect(await v.prepare(pmOrder(), pmGuard())).toEqual({
      ok: false,
      reason: "signer_denied:route_not_allowed",
      decision: "DENIED",
    });
  });
});

describe("a proxy or safe wallet (signature types 1 and 2)", () => {
  it("the funder is the maker, the EOA the signer; positions are the funder's", async () => {
    const SAFE = "0x2222222222222222222222222222222222222222";
    const emulatorKey = {
      key: PM_CANARY.apiKey,
      secret: PM_CANARY.secret,
      passphrase: PM_CANARY.passphrase,
      address: PM_ADDRESS,
      funder: SAFE,
    };
    const safe = await openPolymarketWorld({
      emulator: { apiKeys: [emulatorKey] },
      venue: {
        accounts: {
          [PM_ACCOUNT]: {
            apiKey: PM_CANARY.apiKey,
            passphrase: PM_CANARY.passphrase,
            address: PM_ADDRESS,
            funder: SAFE,
            signatureType: 2,
          },
        },
      },
    });
    try {
      const out = await safe.venue.prepare(pmOrder(), pmGuard());
      if (!out.ok) throw new Error(out.reason);
      expect((await safe.venue.send(out.prepared)).kind).toBe("placed");
      expect(safe.emulator.orders().at(-1)).toMatchObject({ maker: SAFE, signer: PM_ADDRESS });
      expect(await safe.venue.positions(PM_ACCOUNT)).toEqual({
        ok: true,
        positions: [{ account: PM_ACCOUNT, symbol: PM_TOKEN, qty: "10" }],
      });
    } finally {
      await safe.close();
    }
  });
});

describe("positions, lookup, readiness", () => {
  it("positions come from the data API, every non-zero token balance, fractions exact", async () => {
    const fresh = await openPolymarketWorld();
    try {
      fresh.emulator.setBalance(PM_ADDRESS, PM_TOKEN, "12.5");
      fresh.emulator.setBalance(PM_ADDRESS, PM_FINE_TOKEN, "0.000001");
      expect(await fresh.venue.positions(PM_ACCOUNT)).toEqual({
        ok: true,
        positions: [
          { account: PM_ACCOUNT, symbol: PM_FINE_TOKEN, qty: "0.000001" },
          { account: PM_ACCOUNT, symbol: PM_TOKEN, qty: "12.5" },
        ],
      });
      expect(await fresh.venue.positions("acct-nobody")).toEqual({ ok: false, detail: "unknown_account" });
    } finally {
      await fresh.close();
    }
  });

  it("an order hash the venue does not have is not_found", async () => {
    const p = await prepared();
    expect(await venue.lookup(p.ref)).toEqual({ kind: "not_found" });
  });

  it("readiness: credentials checked through an L2-signed request, markets loaded", async () => {
    const ok = world.openVenue({ markets: [PM_TOKEN, PM_NEG_TOKEN] });
    const r = await ok.readiness();
    expect(r.ready).toBe(true);
    expect(Math.abs(r.clockOffsetMs ?? 99_999)).toBeLessThan(1_500);
    const badPass = world.openVenue({
      accounts: {
        [PM_ACCOUNT]: { apiKey: PM_CANARY.apiKey, passphrase: "wrong-passphrase", address: PM_ADDRESS },
      },
    });
    expect(await badPass.readiness()).toMatchObject({
      ready: false,
      detail: `account ${PM_ACCOUNT}: credentials refused (HTTP 401)`,
    });
    const badMarket = world.openVenue({ markets: ["999"] });
    expect(await badMarket.readiness()).toMatchObject({ ready: false, detail: "market 999: unknown_market" });
  });
});

describe("credentials", () => {
  it("may be given as SecretBytes (as config's readCredential hands them out)", async () => {
    const v = world.openVenue({
      accounts: {
        [PM_ACCOUNT]: {
          apiKey: new SecretBytes(Buffer.from(PM_CANARY.apiKey)),
          passphrase: new SecretBytes(Buffer.from(PM_CANARY.passphrase)),
          address: PM_ADDRESS,
        },
      },
    });
    expect((await v.readiness()).ready).toBe(true);
    const p = await prepared({}, v);
    expect((await sent(p, v)).kind).toBe("placed");
  });

  it("malformed ones are refused at construction, without echoing them", () => {
    const bad = (over: Record<string, unknown>) => () =>
      world.openVenue({
        accounts: {
          [PM_ACCOUNT]: {
            apiKey: PM_CANARY.apiKey,
            passphrase: PM_CANARY.passphrase,
            address: PM_ADDRESS,
            ...over,
          } as never,
        },
      });
    expect(bad({ passphrase: `${PM_CANARY.passphrase}\n` })).toThrow(
      /passphrase must be non-empty printable text$/,
    );
    expect(bad({ address: "0x1234" })).toThrow(/address is not an address$/);
    expect(bad({ funder: "0x2222222222222222222222222222222222222222" })).toThrow(/signatureType 0/);
    try {
      bad({ apiKey: `${PM_CANARY.apiKey} ` })();
    } catch (err) {
      expect(String(err)).not.toContain("CANARY");
    }
  });
});

describe("no secret anywhere", () => {
  it("outcomes, inspect and JSON of the venue and prepared orders, the plane's audit log", async () => {
    const p = await prepared();
    outcomes.push(await venue.readiness(), await venue.positions(PM_ACCOUNT), await venue.lookup(p.ref));
    const texts = [
      inspect(venue, { depth: 10 }),
      JSON.stringify(venue),
      inspect(p, { depth: 10 }),
      JSON.stringify(p),
      JSON.stringify(outcomes),
      inspect(outcomes, { depth: 10 }),
      await readFile(world.harness.auditPath, "utf8"),
    ];
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
