import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { Wallet } from "@ethersproject/wallet";
import {
  ApiError,
  Chain,
  ClobClient,
  getContractConfig,
  OrderBuilder,
  OrderType,
  orderToJsonV1,
  orderToJsonV2,
  Side,
  SignatureTypeV2,
  type TickSize,
} from "@polymarket/clob-client-v2";
import { createWalletClient, hashTypedData, http } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  openPolymarketWorld,
  PM_ADDRESS,
  PM_CANARY,
  type PolymarketWorld,
  pmGuard,
  pmOrder,
  worldEmulatorOptions,
} from "../../../test/support/polymarketWorld.js";
import { CTF_ORDER_VERSIONS, type OrderVersion } from "../../core/polymarket/ctfOrder.js";
import type { EmulatorMarket } from "../../emulators/polymarket/polymarketEmulator.js";

/**
 * Cross-checks with @polymarket/clob-client-v2@1.1.0, run offline against the
 * emulator: (1) the adapter's constants are the package's (and the signer's);
 * (2) the order the adapter builds and signs through the plane is, byte for
 * byte, the `POST /order` body the package builds and signs with the same
 * key, salt and time; (3) the emulator accepts orders and L2 headers the
 * package's own `ClobClient` produces, so it verifies as the real client
 * expects.
 */
const PRIVATE_KEY = `0x${PM_CANARY.privateKeyHex}`;
const pkg = createRequire(import.meta.url).resolve("@polymarket/clob-client-v2");
const pkgModule = async (relative: string): Promise<Record<string, unknown>> =>
  (await import(pathToFileURL(join(dirname(pkg), relative)).href)) as Record<string, unknown>;

/** One token per tick size, standard and neg-risk. */
const TICK_TOKENS: Readonly<Record<TickSize, string>> = {
  "0.1": "1001",
  "0.01": "1002",
  "0.005": "1003",
  "0.0025": "1004",
  "0.001": "1005",
  "0.0001": "1006",
};
const negToken = (tick: TickSize) => `2${TICK_TOKENS[tick]}`;

describe("constants are clob-client-v2's and the signer's", () => {
  it("structs and domain versions", async () => {
    const v1 = await pkgModule("order-utils/model/ctfExchangeV1TypedData.js");
    const v2 = await pkgModule("order-utils/model/ctfExchangeV2TypedData.js");
    expect(CTF_ORDER_VERSIONS["1"].struct).toEqual(v1.CTF_EXCHANGE_V1_ORDER_STRUCT);
    expect(CTF_ORDER_VERSIONS["2"].struct).toEqual(v2.CTF_EXCHANGE_V2_ORDER_STRUCT);
    expect(v2.CTF_EXCHANGE_V2_DOMAIN_VERSION).toBe("2");
    // The signer checks orders against this same table (core/polymarket/ctfOrder.ts): one copy.
  });

  it("exchanges per chain, standard and neg-risk", () => {
    for (const chain of [Chain.POLYGON, Chain.AMOY]) {
      const c = getContractConfig(chain);
      expect(CTF_ORDER_VERSIONS["1"].exchanges[String(chain)]).toEqual({
        standard: c.exchange,
        negRisk: c.negRiskExchange,
      });
      expect(CTF_ORDER_VERSIONS["2"].exchanges[String(chain)]).toEqual({
        standard: c.exchangeV2,
        negRisk: c.negRiskExchangeV2,
      });
    }
    expect(CTF_ORDER_VERSIONS["2"].exchanges["137"]).toEqual({
      standard: "0xE111180000d2663C0091e4f400237545B87B996B",
      negRisk: "0xe2222d279d744050d28e00520010520000310F59",
    });
  });
});

describe("the adapter's order is clob-client-v2's, byte for byte", () => {
  let world: PolymarketWorld;
  // Orders here are meant to fill (FOK included): a counterparty at any price, not the default empty book.
  const markets: Record<string, EmulatorMarket> = {};
  for (const tick of Object.keys(TICK_TOKENS) as TickSize[]) {
    markets[TICK_TOKENS[tick]] = { tickSize: tick, minOrderSize: "1", liquidity: "unlimited" };
    markets[negToken(tick)] = { tickSize: tick, negRisk: true, minOrderSize: "1", liquidity: "unlimited" };
  }
  beforeAll(async () => {
    world = await openPolymarketWorld({ emulator: { acceptVersions: ["1", "2"], markets } });
  });
  afterAll(async () => {
    await world.close();
  });

  /** Price and size on each tick's grid (as the signer's cross-check uses). */
  const GRID: ReadonlyArray<[TickSize, string, string]> = [
    ["0.1", "0.5", "12.34"],
    ["0.01", "0.57", "12.34"],
    ["0.005", "0.565", "100.5"],
    ["0.0025", "0.4975", "7.77"],
    ["0.001", "0.123", "250"],
    ["0.0001", "0.0123", "33.33"],
  ];
  const cases: Array<[OrderVersion, boolean, "BUY" | "SELL", TickSize, string, string]> = [];
  for (const version of ["2", "1"] as const)
    for (const negRisk of [false, true])
      for (const side of ["BUY", "SELL"] as const)
        for (const [tick, price, size] of GRID) cases.push([version, negRisk, side, tick, price, size]);

  it.each(cases)("V%s neg_risk=%s %s tick %s: %s × %s", async (version, negRisk, side, tick, price, size) => {
    const token = negRisk ? negToken(tick) : TICK_TOKENS[tick];
    const now = Date.now();
    const random = 0.6180339887;
    const salt = Math.round(random * now);
    if (side === "SELL") world.emulator.setBalance(PM_ADDRESS, token, "100000");
    const venue = world.openVenue({ orderVersion: version, now: () => now, randomSalt: () => BigInt(salt) });
    const prepared = await venue.prepare(pmOrder({ symbol: token, side, price, qty: size }), pmGuard());
    if (!prepared.ok) throw new Error(prepared.reason);
    expect((await venue.send(prepared.prepared)).kind).toBe("placed");
    const accepted = world.emulator.orders().find((o) => o.orderHash === prepared.prepared.ref.venueRef);
    if (accepted === undefined) throw new Error("not accepted");

    // The package builds and signs the same order with the same key, salt and time.
    const spies = [
      vi.spyOn(Math, "random").mockReturnValue(random),
      vi.spyOn(Date, "now").mockReturnValue(now),
    ];
    let signed: Parameters<typeof orderToJsonV2>[0];
    try {
      signed = (await new OrderBuilder(
        new Wallet(PRIVATE_KEY) as never,
        Chain.POLYGON,
        SignatureTypeV2.EOA,
      ).buildOrder(
        {
          tokenID: token,
          price: Number(price),
          size: Number(size),
          side: side === "BUY" ? Side.BUY : Side.SELL,
        },
        { tickSize: tick, negRisk },
        Number(version),
      )) as never;
    } finally {
      for (const s of spies) s.mockRestore();
    }
    const body =
      version === "2"
        ? orderToJsonV2(signed, PM_CANARY.apiKey, OrderType.GTC)
        : orderToJsonV1(signed as never, PM_CANARY.apiKey, OrderType.GTC);
    expect(accepted.rawBody).toBe(JSON.stringify(body));

    // The order hash the adapter looks orders up by is the package's typed-data hash.
    const spec = CTF_ORDER_VERSIONS[version];
    const exchange = spec.exchanges["137"]![negRisk ? "negRisk" : "standard"];
    const message: Record<string, unknown> = {};
    const raw = signed as unknown as Record<string, unknown>;
    for (const { name, type } of spec.struct) {
      const v = name === "side" ? (raw.side === "BUY" ? 0 : 1) : raw[name];
      message[name] = type === "uint256" || type === "uint8" ? BigInt(String(v)) : v;
    }
    expect(
      hashTypedData({
        domain: {
          name: "Polymarket CTF Exchange",
          version,
          chainId: 137,
          verifyingContract: exchange as `0x${string}`,
        },
        types: { Order: [...spec.struct] },
        primaryType: "Order",
        message,
      } as Parameters<typeof hashTypedData>[0]),
    ).toBe(prepared.prepared.ref.venueRef);
  });

  it("a MARKET plan's FOK body is the package's order posted as FOK", async () => {
    const token = TICK_TOKENS["0.01"];
    const now = Date.now();
    const random = 0.25;
    const salt = Math.round(random * now);
    const venue = world.openVenue({ now: () => now, randomSalt: () => BigInt(salt) });
    const prepared = await venue.prepare(
      pmOrder({ symbol: token, type: "MARKET", price: undefined, referencePrice: "0.5", qty: "20" }),
      pmGuard(),
    );
    if (!prepared.ok) throw new Error(prepared.reason);
    expect((await venue.send(prepared.prepared)).kind).toBe("placed");
    const spies = [
      vi.spyOn(Math, "random").mockReturnValue(random),
      vi.spyOn(Date, "now").mockReturnValue(now),
    ];
    let signed: Parameters<typeof orderToJsonV2>[0];
    try {
      signed = (await new OrderBuilder(new Wallet(PRIVATE_KEY) as never, Chain.POLYGON).buildOrder(
        { tokenID: token, price: 0.5, size: 20, side: Side.BUY },
        { tickSize: "0.01", negRisk: false },
        2,
      )) as never;
    } finally {
      for (const s of spies) s.mockRestore();
    }
    const accepted = world.emulator.orders().find((o) => o.orderHash === prepared.prepared.ref.venueRef);
    expect(accepted?.rawBody).toBe(JSON.stringify(orderToJsonV2(signed, PM_CANARY.apiKey, OrderType.FOK)));
  });
});

describe("the emulator accepts what clob-client-v2's ClobClient sends", () => {
  let world: PolymarketWorld;
  beforeAll(async () => {
    world = await openPolymarketWorld();
  });
  afterAll(async () => {
    await world.close();
  });
  const creds = { key: PM_CANARY.apiKey, secret: PM_CANARY.secret, passphrase: PM_CANARY.passphrase };
  const [token, negTokenId] = Object.keys(worldEmulatorOptions().markets ?? {}) as [string, string];

  const signers = {
    ethers: () => new Wallet(PRIVATE_KEY) as never,
    viem: () =>
      createWalletClient({
        account: privateKeyToAccount(PRIVATE_KEY as `0x${string}`),
        transport: http("http://127.0.0.1:9"),
      }) as never,
  };

  it.each(Object.keys(signers) as Array<keyof typeof signers>)(
    "createAndPostOrder, then getOrder, with an %s signer (tick size and neg-risk read from the emulator)",
    async (kind) => {
      const client = new ClobClient({
        host: world.emulator.url,
        chain: Chain.POLYGON,
        signer: signers[kind](),
        creds,
        throwOnError: true,
      });
      expect(await client.getApiKeys()).toEqual({ apiKeys: [PM_CANARY.apiKey] });
      for (const tokenID of [token, negTokenId]) {
        const before = world.emulator.orders().length;
        const resp = await client.createAndPostOrder(
          { tokenID, price: 0.57, size: 10, side: Side.BUY },
          undefined,
          OrderType.GTC,
        );
        expect(resp).toMatchObject({ success: true, status: "matched" });
        expect(world.emulator.orders()).toHaveLength(before + 1);
        const placed = world.emulator.orders().at(-1)!;
        expect(placed).toMatchObject({
          orderHash: resp.orderID,
          version: "2",
          negRisk: tokenID === negTokenId,
        });
        expect(await client.getOrder(resp.orderID)).toMatchObject({
          id: resp.orderID,
          status: "MATCHED",
          size_matched: "10",
          price: "0.57",
          asset_id: tokenID,
        });
      }
    },
  );

  it("refuses the package's headers made with a wrong secret, and a price off the tick", async () => {
    const wrong = new ClobClient({
      host: world.emulator.url,
      chain: Chain.POLYGON,
      signer: new Wallet(PRIVATE_KEY) as never,
      creds: { ...creds, secret: Buffer.from("not the secret").toString("base64") },
      throwOnError: true,
    });
    const before = world.emulator.orders().length;
    await expect(
      wrong.createAndPostOrder(
        { tokenID: token, price: 0.57, size: 10, side: Side.BUY },
        undefined,
        OrderType.GTC,
      ),
    ).rejects.toSatisfy((e: unknown) => e instanceof ApiError && e.status === 401);
    expect(world.emulator.requests().at(-1)).toMatchObject({ path: "/order", authFailure: "signature" });

    const client = new ClobClient({
      host: world.emulator.url,
      chain: Chain.POLYGON,
      signer: new Wallet(PRIVATE_KEY) as never,
      creds,
      throwOnError: true,
    });
    // Signed as if the tick were 0.001: 0.575 is off the market's 0.01 grid.
    const sneaky = await new OrderBuilder(new Wallet(PRIVATE_KEY) as never, Chain.POLYGON).buildOrder(
      { tokenID: token, price: 0.575, size: 10, side: Side.BUY },
      { tickSize: "0.001", negRisk: false },
      2,
    );
    await expect(client.postOrder(sneaky, OrderType.GTC)).rejects.toSatisfy(
      (e: unknown) => e instanceof ApiError && e.status === 400 && /tick size/.test(e.message),
    );
    expect(world.emulator.orders()).toHaveLength(before);
  });
});
