import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { Wallet } from "@ethersproject/wallet";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import {
  Chain,
  getContractConfig,
  OrderBuilder,
  Side,
  SignatureTypeV2,
  type TickSize,
} from "@polymarket/clob-client-v2";
import fc from "fast-check";
import { createWalletClient, hashTypedData, http, recoverAddress } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { SecretBytes } from "../../core/auth/secretBytes.js";
import { SECP256K1_HALF_N } from "../../core/evm/ecdsa.js";
import {
  CTF_EXCHANGE_DOMAIN_NAME,
  CTF_ORDER_VERSIONS,
  type OrderVersion,
} from "../../core/polymarket/ctfOrder.js";
import type { SignPayload } from "../../ports/signingPlane.js";
import type { RevealedKey } from "../keyStore.js";
import {
  createPolymarketOrderHandler,
  decodePolymarketOrder,
  polymarketOrderDigest,
  polymarketOrderHandler,
} from "./polymarketOrder.js";

/**
 * Cross-checks against @polymarket/clob-client-v2: the package builds and signs
 * an order (its OrderBuilder, its ethers or viem signer, its contract config),
 * and our handler, given the same order as an `eip712-order` payload, must bind
 * it to the matching target and produce the same signature bytes.
 */
type OrderPayload = Extract<SignPayload, { kind: "eip712-order" }>;
type Signed = Record<string, unknown> & { signature: string };

const PRIVATE_KEY = `0x${"4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"}`;
const TOKEN = "71321045679252212594626385532706912750332728571942532289631379312455583992563";
const SAFE = "0x2222222222222222222222222222222222222222";
const FIXED_NOW = 1_777_777_777_777;
const FIXED_RANDOM = 0.123456789;

const pkg = createRequire(import.meta.url).resolve("@polymarket/clob-client-v2");
const pkgModule = async (relative: string): Promise<Record<string, unknown>> =>
  (await import(pathToFileURL(join(dirname(pkg), relative)).href)) as Record<string, unknown>;

/** One price and size per tick size, both on the grid the package rounds to. */
const TICKS: ReadonlyArray<[TickSize, number, number]> = [
  ["0.1", 0.5, 12.34],
  ["0.01", 0.57, 12.34],
  ["0.005", 0.565, 100.5],
  ["0.0025", 0.4975, 7.77],
  ["0.001", 0.123, 250],
  ["0.0001", 0.0123, 33.33],
];

type SignerKind = "ethers" | "viem";
function packageSigner(kind: SignerKind, privateKey: string): ConstructorParameters<typeof OrderBuilder>[0] {
  if (kind === "ethers")
    return new Wallet(privateKey) as unknown as ConstructorParameters<typeof OrderBuilder>[0];
  const account = privateKeyToAccount(privateKey as `0x${string}`);
  // A local account signs offline; the transport is never used.
  return createWalletClient({
    account,
    transport: http("http://127.0.0.1:9"),
  }) as unknown as ConstructorParameters<typeof OrderBuilder>[0];
}

/** The exchange the package's createOrder picks for a version and neg-risk flag. */
function packageExchange(chainId: Chain, version: 1 | 2, negRisk: boolean): string {
  const config = getContractConfig(chainId);
  if (version === 1) return negRisk ? config.negRiskExchange : config.exchange;
  return negRisk ? config.negRiskExchangeV2 : config.exchangeV2;
}

/** The package's signed order as our payload: every signed member as a decimal string, side as 0/1. */
function toPayload(signed: Signed, version: 1 | 2, chainId: Chain, negRisk: boolean): OrderPayload {
  const { signature: _, ...members } = signed;
  const order: Record<string, string> = {};
  for (const [name, value] of Object.entries(members)) {
    if (version === 2 && name === "expiration") continue; // in the V2 JSON, not in the V2 struct
    order[name] = name === "side" ? (value === "BUY" ? "0" : "1") : String(value);
  }
  return {
    kind: "eip712-order",
    domain: {
      name: "Polymarket CTF Exchange",
      version: String(version),
      chainId: String(chainId),
      verifyingContract: packageExchange(chainId, version, negRisk),
    },
    order,
  };
}

const secpKey = (privateKey: string, address: string): RevealedKey => ({
  kind: "secp256k1",
  privateKey: new SecretBytes(Buffer.from(privateKey.slice(2), "hex")),
  address,
});

describe("eip712-order: constants are clob-client-v2's", () => {
  it("domain name, versions and Order structs", async () => {
    const v1 = await pkgModule("order-utils/model/ctfExchangeV1TypedData.js");
    const v2 = await pkgModule("order-utils/model/ctfExchangeV2TypedData.js");
    expect(v1.CTF_EXCHANGE_V1_DOMAIN_NAME).toBe(CTF_EXCHANGE_DOMAIN_NAME);
    expect(v2.CTF_EXCHANGE_V2_DOMAIN_NAME).toBe(CTF_EXCHANGE_DOMAIN_NAME);
    expect(v1.CTF_EXCHANGE_V1_DOMAIN_VERSION).toBe("1");
    expect(v2.CTF_EXCHANGE_V2_DOMAIN_VERSION).toBe("2");
    expect(CTF_ORDER_VERSIONS["1"].struct).toEqual(v1.CTF_EXCHANGE_V1_ORDER_STRUCT);
    expect(CTF_ORDER_VERSIONS["2"].struct).toEqual(v2.CTF_EXCHANGE_V2_ORDER_STRUCT);
    expect(Object.keys(CTF_ORDER_VERSIONS).sort()).toEqual(["1", "2"]);
  });

  it("exchanges per chain, standard and neg-risk", () => {
    for (const chainId of [Chain.POLYGON, Chain.AMOY]) {
      for (const version of [1, 2] as const) {
        expect(CTF_ORDER_VERSIONS[String(version) as OrderVersion].exchanges[String(chainId)]).toEqual({
          standard: packageExchange(chainId, version, false),
          negRisk: packageExchange(chainId, version, true),
        });
      }
    }
    expect(getContractConfig(Chain.POLYGON).exchangeV2).toBe("0xE111180000d2663C0091e4f400237545B87B996B");
    expect(getContractConfig(Chain.POLYGON).negRiskExchangeV2).toBe(
      "0xe2222d279d744050d28e00520010520000310F59",
    );
  });
});

describe("eip712-order: signatures equal clob-client-v2's", () => {
  beforeEach(() => {
    vi.spyOn(Math, "random").mockReturnValue(FIXED_RANDOM);
    vi.spyOn(Date, "now").mockReturnValue(FIXED_NOW);
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  const cases: Array<[1 | 2, boolean, Side, TickSize, number, number, SignatureTypeV2, SignerKind]> = [];
  for (const version of [1, 2] as const)
    for (const negRisk of [false, true])
      for (const side of [Side.BUY, Side.SELL])
        for (const [tick, price, size] of TICKS)
          for (const sigType of [SignatureTypeV2.EOA, SignatureTypeV2.POLY_GNOSIS_SAFE])
            for (const signer of ["ethers", "viem"] as const)
              cases.push([version, negRisk, side, tick, price, size, sigType, signer]);

  it.each(cases)(
    "V%s neg_risk=%s %s tick %s (%s × %s) signature type %s, %s signer",
    async (version, negRisk, side, tickSize, price, size, sigType, signerKind) => {
      const wallet = new Wallet(PRIVATE_KEY);
      const funder = sigType === SignatureTypeV2.EOA ? undefined : SAFE;
      const builder = new OrderBuilder(
        packageSigner(signerKind, PRIVATE_KEY),
        Chain.POLYGON,
        sigType,
        funder,
      );
      const signed = (await builder.buildOrder(
        { tokenID: TOKEN, price, size, side },
        { tickSize, negRisk },
        version,
      )) as unknown as Signed;
      expect(signed.salt).toBe(String(Math.round(FIXED_RANDOM * FIXED_NOW)));
      if (version === 2) expect(signed.timestamp).toBe(String(FIXED_NOW));

      const payload = toPayload(signed, version, Chain.POLYGON, negRisk);
      const target = {
        venue: "polymarket",
        token_id: TOKEN,
        side,
        qty: String(size),
        price: String(price),
        neg_risk: negRisk,
        ...(funder === undefined ? {} : { maker: funder }),
      };
      const bound = polymarketOrderHandler.bind(payload, target);
      const usdc = BigInt(String(side === Side.BUY ? signed.makerAmount : signed.takerAmount));
      const shares = BigInt(String(side === Side.BUY ? signed.takerAmount : signed.makerAmount));
      expect(bound).toEqual({
        ok: true,
        effect: {
          venue: "polymarket",
          action: "order",
          symbol: TOKEN,
          // Shares, the price per share (rounded up) and the most a share is worth: the signer's notional inputs.
          order: {
            qty: shares * 10n ** 12n,
            price: (usdc * 10n ** 18n + shares - 1n) / shares,
            unitCap: 10n ** 18n,
          },
          replayableRead: false,
        },
      });

      const out = await polymarketOrderHandler.sign(payload, secpKey(PRIVATE_KEY, wallet.address));
      expect(out.signature).toBe(signed.signature);
      expect(out.signer_address).toBe(wallet.address);

      // Our digest is the one viem computes from the package's typed data, and the signature recovers to the wallet.
      const decoded = decodePolymarketOrder(payload, new Set(["137"]));
      if (!decoded.ok) throw new Error(decoded.field);
      const digest = `0x${Buffer.from(polymarketOrderDigest(decoded.order)).toString("hex")}` as const;
      expect(digest).toBe(hashTypedData(packageTypedData(payload, version)));
      expect(await recoverAddress({ hash: digest, signature: out.signature as `0x${string}` })).toBe(
        wallet.address,
      );
    },
  );

  it("Amoy (80002) V1 and V2, through a handler built for it", async () => {
    const wallet = new Wallet(PRIVATE_KEY);
    const testnet = createPolymarketOrderHandler({ chainIds: [137n, 80002n] });
    for (const version of [1, 2] as const) {
      const builder = new OrderBuilder(packageSigner("ethers", PRIVATE_KEY), Chain.AMOY);
      const signed = (await builder.buildOrder(
        { tokenID: TOKEN, price: 0.57, size: 10, side: Side.BUY },
        { tickSize: "0.01" },
        version,
      )) as unknown as Signed;
      const payload = toPayload(signed, version, Chain.AMOY, false);
      expect(polymarketOrderHandler.bind(payload, { token_id: TOKEN, side: "BUY", qty: "10" })).toEqual({
        ok: false,
        field: "chain_id",
      });
      expect(testnet.bind(payload, { token_id: TOKEN, side: "BUY", qty: "10", price: "0.57" }).ok).toBe(true);
      const out = await testnet.sign(payload, secpKey(PRIVATE_KEY, wallet.address));
      expect(out.signature).toBe(signed.signature);
    }
  });
});

describe("eip712-order: random keys and salts, against the package with an ethers signer", () => {
  it("same bytes, low-S, recovers to the key", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 32, maxLength: 32 }).filter((k) => secp256k1.utils.isValidSecretKey(k)),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer({ min: 1, max: 2_000_000_000_000 }),
        fc.constantFrom(1 as const, 2 as const),
        fc.constantFrom(Side.BUY, Side.SELL),
        fc.boolean(),
        async (secret, random, now, version, side, negRisk) => {
          const privateKey = `0x${Buffer.from(secret).toString("hex")}`;
          const wallet = new Wallet(privateKey);
          const restore = [
            vi.spyOn(Math, "random").mockReturnValue(random),
            vi.spyOn(Date, "now").mockReturnValue(now),
          ];
          let signed: Signed;
          try {
            signed = (await new OrderBuilder(packageSigner("ethers", privateKey), Chain.POLYGON).buildOrder(
              { tokenID: TOKEN, price: 0.42, size: 17, side },
              { tickSize: "0.01", negRisk },
              version,
            )) as unknown as Signed;
          } finally {
            for (const spy of restore) spy.mockRestore();
          }
          const payload = toPayload(signed, version, Chain.POLYGON, negRisk);
          const out = await polymarketOrderHandler.sign(payload, secpKey(privateKey, wallet.address));
          expect(out.signature).toBe(signed.signature);
          expect(out.signer_address).toBe(wallet.address);
          expect(BigInt(`0x${out.signature.slice(66, 130)}`) <= SECP256K1_HALF_N).toBe(true);
        },
      ),
      { numRuns: 60 },
    );
  });
});

/** The typed data the package signs, rebuilt from a payload with the package's own struct lists (for viem). */
function packageTypedData(payload: OrderPayload, version: 1 | 2): Parameters<typeof hashTypedData>[0] {
  const struct = CTF_ORDER_VERSIONS[String(version) as OrderVersion].struct; // equal to the package's, checked above
  const message: Record<string, unknown> = {};
  for (const { name, type } of struct) {
    const raw = String(payload.order[name]);
    message[name] = type === "uint256" || type === "uint8" ? BigInt(raw) : raw;
  }
  return {
    domain: {
      name: String(payload.domain.name),
      version: String(payload.domain.version),
      chainId: Number(payload.domain.chainId),
      verifyingContract: payload.domain.verifyingContract as `0x${string}`,
    },
    types: { Order: [...struct] },
    primaryType: "Order",
    message,
  } as Parameters<typeof hashTypedData>[0];
}
