import { Wallet } from "@ethersproject/wallet";
import {
  Chain,
  createL2Headers,
  OrderBuilder,
  OrderType,
  orderToJsonV2,
  Side,
  type TickSize,
} from "@polymarket/clob-client-v2";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { type PolymarketEmulator, startPolymarketEmulator } from "./polymarketEmulator.js";

/**
 * The emulator on its own, driven over real HTTP with requests built by
 * @polymarket/clob-client-v2 (its OrderBuilder, `orderToJsonV2` and
 * `createL2Headers`), as a user's own client would send them.
 */
const KEY_HEX = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
const OTHER_HEX = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";
const wallet = new Wallet(KEY_HEX);
const other = new Wallet(OTHER_HEX);
const CREDS = {
  key: "11111111-2222-3333-4444-555555555555",
  secret: Buffer.from("emulator-test-secret-0123456789").toString("base64url"),
  passphrase: "emulator-pass",
};
const OTHER_CREDS = { ...CREDS, key: "99999999-2222-3333-4444-555555555555" };
const T = "1001"; // tick 0.01, unlimited liquidity (fills at any price)
const NEG = "1002"; // neg-risk
const DRY = "1003"; // no liquidity
const BOOK = "1004"; // a small book

let emu: PolymarketEmulator;

beforeAll(async () => {
  emu = await startPolymarketEmulator({
    apiKeys: [
      { ...CREDS, address: wallet.address },
      { ...OTHER_CREDS, address: other.address },
    ],
    markets: {
      [T]: { tickSize: "0.01", liquidity: "unlimited" },
      [NEG]: { tickSize: "0.01", negRisk: true, liquidity: "unlimited" },
      [DRY]: { tickSize: "0.01", liquidity: "none" },
      [BOOK]: {
        tickSize: "0.01",
        minOrderSize: "1",
        liquidity: {
          bids: [{ price: "0.40", size: "5" }],
          asks: [
            { price: "0.50", size: "3" },
            { price: "0.55", size: "4" },
          ],
        },
      },
    },
  });
});
afterAll(async () => {
  await emu.close();
});
afterEach(() => {
  emu.faults.clear();
});

interface OrderArgs {
  token?: string;
  price?: number;
  size?: number;
  side?: Side;
  negRisk?: boolean;
  tick?: TickSize;
  signer?: Wallet;
}

async function build(a: OrderArgs = {}) {
  return new OrderBuilder((a.signer ?? wallet) as never, Chain.POLYGON).buildOrder(
    { tokenID: a.token ?? T, price: a.price ?? 0.57, size: a.size ?? 10, side: a.side ?? Side.BUY },
    { tickSize: a.tick ?? "0.01", negRisk: a.negRisk ?? false },
    2,
  );
}

async function post(
  body: string,
  opts: { creds?: typeof CREDS; signer?: Wallet; ts?: number; headers?: Record<string, string> } = {},
): Promise<{ status: number; json: Record<string, unknown> }> {
  const headers = await createL2Headers(
    (opts.signer ?? wallet) as never,
    opts.creds ?? CREDS,
    { method: "POST", requestPath: "/order", body },
    opts.ts,
  );
  const res = await fetch(`${emu.url}/order`, {
    method: "POST",
    headers: { ...headers, ...opts.headers, "content-type": "application/json" },
    body,
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

const bodyOf = (
  order: Awaited<ReturnType<typeof build>>,
  type: OrderType = OrderType.GTC,
  owner = CREDS.key,
) => JSON.stringify(orderToJsonV2(order as never, owner, type));

describe("L2 authentication", () => {
  const cases: Array<[string, Parameters<typeof post>[1], string]> = [
    ["an unknown key", { creds: { ...CREDS, key: "nope" } }, "unknown_key"],
    ["a wrong passphrase", { creds: { ...CREDS, passphrase: "nope" } }, "passphrase"],
    ["a wrong secret", { creds: { ...CREDS, secret: Buffer.from("nope").toString("base64") } }, "signature"],
    ["POLY_ADDRESS of another wallet", { signer: other }, "address"],
    ["a stale timestamp", { ts: Math.floor(Date.now() / 1000) - 120 }, "timestamp"],
    ["a missing header", { headers: { POLY_PASSPHRASE: "" } }, "missing_header"],
  ];
  it.each(cases)("%s: 401, nothing placed", async (_n, opts, why) => {
    const before = emu.orders().length;
    const r = await post(bodyOf(await build()), opts);
    expect(r).toEqual({ status: 401, json: { error: "Unauthorized/Invalid api key" } });
    expect(emu.requests().at(-1)).toMatchObject({ path: "/order", outcome: 401, authFailure: why });
    expect(emu.orders()).toHaveLength(before);
  });

  it("GET endpoints sign the path without its query", async () => {
    const headers = await createL2Headers(wallet as never, CREDS, {
      method: "GET",
      requestPath: "/balance-allowance",
    });
    const res = await fetch(`${emu.url}/balance-allowance?asset_type=CONDITIONAL&token_id=${T}`, {
      headers: { ...(headers as unknown as Record<string, string>) },
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { balance: string }).balance).toMatch(/^[0-9]+$/);
  });
});

describe("orders, verified as the CLOB does", () => {
  it("accepts a signed order once; the same order again is a duplicate", async () => {
    const body = bodyOf(await build());
    const first = await post(body);
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({
      success: true,
      errorMsg: "",
      status: "matched",
      makingAmount: "5.7",
      takingAmount: "10",
    });
    expect(await post(body)).toEqual({
      status: 400,
      json: {
        error: "order is invalid. Duplicated. Same order has already been placed, can't be placed again",
      },
    });
    expect(emu.orders().filter((o) => o.orderHash === first.json.orderID)).toHaveLength(1);
  });

  it("a reused salt with other terms (another order hash) is a duplicate too", async () => {
    const now = Date.now();
    const spies = [vi.spyOn(Math, "random").mockReturnValue(0.5), vi.spyOn(Date, "now").mockReturnValue(now)];
    let a: Awaited<ReturnType<typeof build>>;
    let b: Awaited<ReturnType<typeof build>>;
    try {
      a = await build();
      b = await build({ price: 0.58 });
    } finally {
      for (const s of spies) s.mockRestore();
    }
    expect(b.salt).toBe(a.salt);
    expect((await post(bodyOf(a))).status).toBe(200);
    expect((await post(bodyOf(b))).json.error).toMatch(/^order is invalid\. Duplicated\./);
  });

  const refusals: Array<[string, () => Promise<string>, string]> = [
    [
      "another key's order (owner)",
      async () => bodyOf(await build(), OrderType.GTC, OTHER_CREDS.key),
      "the order owner has to be the owner of the API KEY",
    ],
    [
      "signed by another wallet",
      async () => bodyOf(await build({ signer: other })),
      "the order signer address has to be the address of the API KEY",
    ],
    [
      "a neg-risk market's order signed for the standard exchange",
      async () => bodyOf(await build({ token: NEG, negRisk: false })),
      "invalid signature",
    ],
    [
      "a standard market's order signed for the neg-risk exchange",
      async () => bodyOf(await build({ negRisk: true })),
      "invalid signature",
    ],
    [
      "a price off the tick",
      async () => bodyOf(await build({ price: 0.575, tick: "0.001" })),
      "order is invalid. Price breaks minimum tick size rules",
    ],
    [
      "a size under the minimum",
      async () => bodyOf(await build({ size: 4 })),
      "order is invalid. Size lower than the minimum",
    ],
    [
      "a SELL without the tokens",
      async () => bodyOf(await build({ token: NEG, negRisk: true, side: Side.SELL })),
      "not enough balance / allowance",
    ],
    [
      "a FOK that cannot fill",
      async () => bodyOf(await build({ token: DRY }), OrderType.FOK),
      "order couldn't be fully filled. FOK orders are fully filled or killed.",
    ],
    [
      "a FOK BUY whose USDC has 4 decimals",
      async () => bodyOf(await build({ size: 10.55 }), OrderType.FOK),
      "invalid amounts, the market buy orders maker amount supports a max accuracy of 2 decimals, taker amount a max of 4 decimals",
    ],
    ["an unknown token", async () => bodyOf(await build({ token: "424242" })), "market not found"],
    ["not JSON", async () => "{", "Invalid order payload"],
  ];
  it.each(refusals)("%s: 400, nothing placed", async (_n, body, error) => {
    const before = emu.orders().length;
    expect(await post(await body())).toEqual({ status: 400, json: { error } });
    expect(emu.orders()).toHaveLength(before);
  });

  it("a V1 order when only V2 is taken: order_version_mismatch", async () => {
    const v1 = await new OrderBuilder(wallet as never, Chain.POLYGON).buildOrder(
      { tokenID: T, price: 0.5, size: 10, side: Side.BUY },
      { tickSize: "0.01" },
      1,
    );
    const { orderToJsonV1 } = await import("@polymarket/clob-client-v2");
    expect(await post(JSON.stringify(orderToJsonV1(v1 as never, CREDS.key, OrderType.GTC)))).toEqual({
      status: 400,
      json: { error: "order_version_mismatch" },
    });
  });

  it("SELLs need the tokens not already held by resting orders (reduce-only semantics)", async () => {
    emu.setBalance(wallet.address, DRY, "12");
    const rest = await post(bodyOf(await build({ token: DRY, side: Side.SELL, price: 0.9, size: 6 })));
    expect(rest.json).toMatchObject({ status: "live", makingAmount: "0", takingAmount: "0" });
    const more = await post(bodyOf(await build({ token: DRY, side: Side.SELL, price: 0.9, size: 7 })));
    expect(more).toEqual({ status: 400, json: { error: "not enough balance / allowance" } });
    expect(
      (await post(bodyOf(await build({ token: DRY, side: Side.SELL, price: 0.9, size: 6 })))).status,
    ).toBe(200);
    expect(emu.balance(wallet.address, DRY)).toBe("12");
  });

  it("a book: GTC fills what crosses and rests the rest, FAK fills what it can, levels are consumed", async () => {
    const gtc = await post(bodyOf(await build({ token: BOOK, price: 0.5, size: 5 })));
    expect(gtc.json).toMatchObject({ status: "matched", takingAmount: "3", makingAmount: "1.5" });
    const order = emu.orders().find((o) => o.orderHash === gtc.json.orderID);
    expect(order).toMatchObject({ status: "LIVE", sizeMatched: "3", size: "5" });
    const fak = await post(bodyOf(await build({ token: BOOK, price: 0.55, size: 10 }), OrderType.FAK));
    expect(fak.json).toMatchObject({ status: "matched", takingAmount: "4" });
    expect(emu.orders().find((o) => o.orderHash === fak.json.orderID)).toMatchObject({
      status: "CANCELED",
      sizeMatched: "4",
    });
    const fok = await post(bodyOf(await build({ token: BOOK, price: 0.55, size: 2 }), OrderType.FOK));
    expect(fok.json.error).toMatch(/FOK orders are fully filled or killed/);
    expect(emu.balance(wallet.address, BOOK)).toBe("7");
  });

  it("BUYs need the USDC when it is tracked", async () => {
    emu.setCollateral(other.address, "5");
    const body = bodyOf(await build({ signer: other }), OrderType.GTC, OTHER_CREDS.key);
    expect(await post(body, { creds: OTHER_CREDS, signer: other })).toEqual({
      status: 400,
      json: { error: "not enough balance / allowance" },
    });
    emu.setCollateral(other.address, "6");
    expect((await post(body, { creds: OTHER_CREDS, signer: other })).status).toBe(200);
    emu.setCollateral(other.address, undefined);
  });
});

describe("reads", () => {
  it("tick size, neg-risk, book and time as clob-client-v2 reads them; 404 for an unknown token", async () => {
    const get = async (p: string) => {
      const r = await fetch(`${emu.url}${p}`);
      return { status: r.status, text: await r.text() };
    };
    expect(await get(`/tick-size?token_id=${T}`)).toEqual({
      status: 200,
      text: '{"minimum_tick_size":0.01}',
    });
    expect(await get(`/neg-risk?token_id=${NEG}`)).toEqual({ status: 200, text: '{"neg_risk":true}' });
    expect(JSON.parse((await get(`/book?token_id=${BOOK}`)).text)).toMatchObject({
      min_order_size: "1",
      tick_size: "0.01",
    });
    expect((await get("/tick-size?token_id=77")).status).toBe(404);
    expect(Math.abs(Number((await get("/time")).text) - Date.now() / 1000)).toBeLessThan(2);
    emu.faults.setClockSkew(-60_000);
    expect(Number((await get("/time")).text) - Date.now() / 1000).toBeLessThan(-58);
  });

  it("positions: the data API's shape, sizeThreshold (default 1), limit and offset", async () => {
    const fresh = new Wallet("0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6");
    emu.setBalance(fresh.address, "3", "0.5");
    emu.setBalance(fresh.address, "1", "2");
    emu.setBalance(fresh.address, "2", "150.25");
    const positions = async (q: string) =>
      (
        (await (await fetch(`${emu.url}/positions?user=${fresh.address}${q}`)).json()) as {
          asset: string;
          size: number;
        }[]
      ).map((p) => [p.asset, p.size]);
    expect(await positions("")).toEqual([
      ["1", 2],
      ["2", 150.25],
    ]);
    expect(await positions("&sizeThreshold=0")).toEqual([
      ["1", 2],
      ["2", 150.25],
      ["3", 0.5],
    ]);
    expect(await positions("&sizeThreshold=0&limit=1&offset=2")).toEqual([["3", 0.5]]);
  });
});

describe("faults", () => {
  it("counted faults apply to the next N matching requests only", async () => {
    emu.faults.inject(
      { kind: "http_5xx", status: 503, process: false },
      { method: "GET", path: "/time", times: 2 },
    );
    expect(emu.faults.pending()).toBe(2);
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await fetch(`${emu.url}/time`)).status);
    expect(statuses).toEqual([503, 503, 200]);
    expect(emu.faults.pending()).toBe(0);
  });

  it("drop after processing: the order is placed, the client sees the connection end", async () => {
    const before = emu.orders().length;
    emu.faults.inject({ kind: "drop", process: true });
    await expect(post(bodyOf(await build()))).rejects.toThrow();
    expect(emu.orders()).toHaveLength(before + 1);
    expect(emu.requests().at(-1)).toMatchObject({ outcome: "dropped", fault: "drop" });
  });

  it("a held answer is released by close()", async () => {
    const held = await startPolymarketEmulator();
    held.faults.inject({ kind: "timeout", process: true }, { method: "GET", path: "/time" });
    const pending = fetch(`${held.url}/time`).catch(() => "ended");
    await new Promise((r) => setTimeout(r, 100));
    const t0 = Date.now();
    await held.close();
    expect(await pending).toBe("ended");
    expect(Date.now() - t0).toBeLessThan(2_000);
  });
});
