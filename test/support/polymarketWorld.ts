/**
 * A Polymarket test world: a real local signing plane over a vault holding
 * one account's EOA key (`per_user_clob_signer`) and L2 secret
 * (`clob_api_signer`), a Polymarket CLOB emulator on 127.0.0.1 that knows
 * the account's API key, and adapters built against both. Secrets are
 * canaries, so a test can assert none of them shows up anywhere.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { POLYMARKET_ROUTE_ACTIONS, POLYMARKET_ROUTES } from "../../src/adapters/polymarket/planeSigning.js";
import {
  createPolymarketVenue,
  type PolymarketVenueOptions,
} from "../../src/adapters/polymarket/polymarketVenue.js";
import { toChecksumAddress } from "../../src/core/evm/address.js";
import {
  type PolymarketEmulator,
  type PolymarketEmulatorOptions,
  startPolymarketEmulator,
} from "../../src/emulators/polymarket/polymarketEmulator.js";
import type { SigningPlane } from "../../src/ports/signingPlane.js";
import type { OrderGuard, Venue, VenueOrder } from "../../src/ports/venue.js";
import { type PlaneHarness, type PlaneScenario, setUpLocalPlane } from "./signerPlanes.js";

export const PM_CALLER = "exec-pm";
export const PM_ACCOUNT = "acct-pm";
export const PM_ROUTE_ORDER = POLYMARKET_ROUTES.order;
export const PM_ROUTE_L2 = POLYMARKET_ROUTES.l2Order;

/** A standard market (tick 0.01), a neg-risk one, a fine-tick one (0.001). */
export const PM_TOKEN = "71321045679252212594626385532706912750332728571942532289631379312455583992563";
export const PM_NEG_TOKEN = "52114319501245915516055106046884209969926127482827954674443846427813813222426";
export const PM_FINE_TOKEN = "21742633143463906290569050155826241533067272736897614950488156847949938836455";
/** A market that never fills (GTC rests, FOK is killed). */
export const PM_DRY_TOKEN = "48331043336612883890938759509493159234755048973500640148014422747788308965732";

/** Canary secrets: none may appear in any outcome, log, error or inspect output. */
export const PM_CANARY = {
  apiKey: "pmkey-CANARY-7f1e2d3c-aaaa-4bbb-8ccc-000000000001",
  passphrase: "pmpass-CANARY-9a8b7c6d5e4f",
  /** The L2 secret as the CLOB issues it (urlsafe base64). */
  secret: Buffer.from("CANARY-l2-secret-bytes-0123456789abcdef", "utf8").toString("base64url"),
  privateKeyHex: "8f2a55949038a9610f50fb23b5883af3b4ecb3c3bb792cbcefbd1542c692be63",
} as const;

/** A second key, for planes whose key is not the account's. */
export const PM_OTHER_KEY_HEX = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/** The EIP-55 address of a secp256k1 private key (hex without 0x). */
export function addressOf(privateKeyHex: string): string {
  const pub = secp256k1.getPublicKey(Buffer.from(privateKeyHex, "hex"), false);
  return toChecksumAddress(`0x${Buffer.from(keccak_256(pub.subarray(1)).subarray(12)).toString("hex")}`);
}

export const PM_ADDRESS = addressOf(PM_CANARY.privateKeyHex);

/** The signer's own cancel rate in the world (a `cancel` route needs one): roomy enough for any test but the one about it. */
export const PM_SIGNER_POLICY: PlaneScenario["policy"] = {
  clob_api_signer: { cancel_rate_per_account_per_s: 50 },
};

/** The signer scenario: one account with both Polymarket intents. */
export function polymarketScenario(
  privateKeyHex: string = PM_CANARY.privateKeyHex,
  policy: PlaneScenario["policy"] = PM_SIGNER_POLICY,
): PlaneScenario {
  return {
    callers: [PM_CALLER],
    intents: {
      per_user_clob_signer: { routes: POLYMARKET_ROUTE_ACTIONS.per_user_clob_signer },
      clob_api_signer: { routes: POLYMARKET_ROUTE_ACTIONS.clob_api_signer },
    },
    accounts: { [PM_ACCOUNT]: { per_user_clob_signer: "pm-eoa", clob_api_signer: "pm-l2" } },
    policy,
    keys: [
      { id: "pm-eoa", kind: "secp256k1", privateKeyHex },
      { id: "pm-l2", kind: "hmac", secret: PM_CANARY.secret, encoding: "base64" },
    ],
  };
}

/** The emulator's markets and the account's API key, as the world sets them up. */
export function worldEmulatorOptions(): PolymarketEmulatorOptions {
  return {
    apiKeys: [
      {
        key: PM_CANARY.apiKey,
        secret: PM_CANARY.secret,
        passphrase: PM_CANARY.passphrase,
        address: PM_ADDRESS,
      },
    ],
    // The tests' orders are meant to fill: a counterparty for any price (the emulator's default is an empty book).
    markets: {
      [PM_TOKEN]: { tickSize: "0.01", minOrderSize: "5", liquidity: "unlimited" },
      [PM_NEG_TOKEN]: { tickSize: "0.01", negRisk: true, minOrderSize: "5", liquidity: "unlimited" },
      [PM_FINE_TOKEN]: { tickSize: "0.001", minOrderSize: "1", liquidity: "unlimited" },
      [PM_DRY_TOKEN]: { tickSize: "0.01", minOrderSize: "5", liquidity: "none" },
    },
  };
}

export interface PolymarketWorld {
  readonly dir: string;
  readonly emulator: PolymarketEmulator;
  readonly plane: SigningPlane;
  readonly harness: PlaneHarness;
  /** The default adapter (V2, 2 s timeout). */
  readonly venue: Venue;
  /** Another adapter on the same plane and emulator; closed with the world. */
  openVenue(over?: Partial<PolymarketVenueOptions>): Venue;
  /** POST /order requests the emulator saw. */
  orderPosts(): number;
  close(): Promise<void>;
}

/** Opens a world; `planeKeyHex` is the EOA key the plane holds (default: the account's own). */
export async function openPolymarketWorld(
  opts: {
    readonly emulator?: Partial<PolymarketEmulatorOptions>;
    readonly venue?: Partial<PolymarketVenueOptions>;
    readonly planeKeyHex?: string;
    /** The signer's policy; default {@link PM_SIGNER_POLICY}. */
    readonly signerPolicy?: PlaneScenario["policy"];
  } = {},
): Promise<PolymarketWorld> {
  const dir = await mkdtemp(join(tmpdir(), "ig-pm-"));
  const harness = await setUpLocalPlane(polymarketScenario(opts.planeKeyHex, opts.signerPolicy), dir);
  const emulator = await startPolymarketEmulator({ ...worldEmulatorOptions(), ...opts.emulator });
  const venues: Venue[] = [];
  const openVenue = (over: Partial<PolymarketVenueOptions> = {}): Venue => {
    const v = createPolymarketVenue({
      baseUrl: emulator.url,
      accounts: {
        [PM_ACCOUNT]: { apiKey: PM_CANARY.apiKey, passphrase: PM_CANARY.passphrase, address: PM_ADDRESS },
      },
      plane: harness.plane,
      caller: PM_CALLER,
      timeoutMs: 2_000,
      ...opts.venue,
      ...over,
    });
    venues.push(v);
    return v;
  };
  const venue = openVenue();
  return {
    dir,
    emulator,
    plane: harness.plane,
    harness,
    venue,
    openVenue,
    orderPosts: () => emulator.requests().filter((r) => r.method === "POST" && r.path === "/order").length,
    async close() {
      for (const v of venues) await v.close();
      await emulator.close();
      await harness.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

let seq = 0;

/** A venue order for the world's account. */
export function pmOrder(over: Partial<VenueOrder> = {}): VenueOrder {
  seq += 1;
  return {
    account: PM_ACCOUNT,
    symbol: PM_TOKEN,
    side: "BUY",
    type: "LIMIT",
    qty: "10",
    price: "0.57",
    referencePrice: undefined,
    reduceOnly: false,
    clientOrderId: `ig-pm-plan-${seq}`,
    ...over,
  };
}

/** The guard context the executor would pass. */
export function pmGuard(over: Partial<OrderGuard> = {}): OrderGuard {
  return {
    plan_id: `pm-plan-${seq}`,
    source: "exitbrain_v3_5",
    decision: "EXECUTE",
    trading_state: "ACTIVE",
    permit_id: null,
    mode: "live",
    lane: "main",
    stream_id: `1-${seq}`,
    ...over,
  };
}
