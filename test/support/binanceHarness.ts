/**
 * A Binance USDⓈ-M test world: the emulator on 127.0.0.1 (real HTTP), a real
 * local signing plane over a vault holding the account's HMAC secret (the
 * same builder the plane conformance suite uses), and the adapter wired to
 * both. The adapter never sees the secret; the emulator verifies what the
 * plane signed, as Binance would.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BINANCE_ROUTE_ACTIONS } from "../../src/adapters/binance/binanceSigning.js";
import { type BinanceVenueOptions, createBinanceVenue } from "../../src/adapters/binance/binanceVenue.js";
import {
  type BinanceEmulator,
  type BinanceEmulatorOptions,
  startBinanceEmulator,
} from "../../src/emulators/binance/binanceEmulator.js";
import type { OrderGuard, Venue } from "../../src/ports/venue.js";
import { type PlaneHarness, type PlaneScenario, setUpLocalPlane } from "./signerPlanes.js";

/** The executor id the plane knows. */
export const BINANCE_CALLER = "exec-binance";
/** The IntentGate (and signer, and emulator) account name. */
export const BINANCE_ACCOUNT = "acct-binance";

/** A fresh 64-character API key. */
export function newApiKey(): string {
  return randomBytes(48)
    .toString("base64")
    .replace(/[^A-Za-z0-9]/g, "")
    .padEnd(64, "k")
    .slice(0, 64);
}

/** What {@link openBinanceHarness} builds. */
export interface BinanceHarness {
  readonly emulator: BinanceEmulator;
  readonly plane: PlaneHarness;
  /** The adapter, built with the account's API key. */
  readonly venue: Venue;
  readonly account: string;
  readonly apiKey: string;
  /** The HMAC secret in the vault (and, unless told otherwise, at the emulator). */
  readonly secret: string;
  /** Another adapter on the same emulator and plane, with some options changed. */
  makeVenue(over?: Partial<BinanceVenueOptions>): Venue;
  close(): Promise<void>;
}

/** Options of {@link openBinanceHarness}. */
export interface BinanceHarnessOptions {
  /** The secret the vault holds (default: random). */
  readonly secret?: string;
  /** The secret the emulator holds for the key (default: the vault's); differ for -1022. */
  readonly emulatorSecret?: string;
  readonly emulator?: Partial<BinanceEmulatorOptions>;
  readonly venue?: Partial<BinanceVenueOptions>;
  /** The signer's policy for `cex_api_signer` (default: only `cancel_rate_per_account_per_s: 10`, which it may override). */
  readonly signerPolicy?: PlaneScenario["policy"]["cex_api_signer"];
  /**
   * Give the account a read-only API key: its secret is the signer's
   * `read_only_entry`, the emulator knows it as read-only, and the adapter
   * sends it with signed reads.
   */
  readonly readOnlyKey?: boolean;
}

/** Starts the emulator, a local plane with a vault, and the adapter. */
export async function openBinanceHarness(opts: BinanceHarnessOptions = {}): Promise<BinanceHarness> {
  const secret = opts.secret ?? `sec-${randomBytes(24).toString("hex")}`;
  const apiKey = newApiKey();
  const readKey =
    opts.readOnlyKey === true
      ? { apiKey: newApiKey(), secret: `ro-${randomBytes(24).toString("hex")}` }
      : undefined;
  const dir = await mkdtemp(join(tmpdir(), "ig-binance-"));
  const scenario: PlaneScenario = {
    callers: [BINANCE_CALLER],
    intents: { cex_api_signer: { routes: BINANCE_ROUTE_ACTIONS } },
    accounts: {
      [BINANCE_ACCOUNT]: {
        cex_api_signer:
          readKey === undefined ? "binance-key" : { entry: "binance-key", read_only_entry: "binance-ro" },
      },
    },
    // The cancel route of BINANCE_ROUTE_ACTIONS needs a cancel rate (a signer config error otherwise).
    policy: { cex_api_signer: { cancel_rate_per_account_per_s: 10, ...opts.signerPolicy } },
    // The signer's own references, at the emulator's mark prices.
    referencePrices: { "binance-usdm": { BTCUSDT: "65000", ETHUSDT: "3000" } },
    keys: [
      { id: "binance-key", kind: "hmac", secret, encoding: "raw" },
      ...(readKey === undefined
        ? []
        : [{ id: "binance-ro", kind: "hmac" as const, secret: readKey.secret, encoding: "raw" as const }]),
    ],
  };
  const plane = await setUpLocalPlane(scenario, dir);
  const emulator = await startBinanceEmulator({
    accounts: [
      { name: BINANCE_ACCOUNT, apiKey, secret: opts.emulatorSecret ?? secret },
      ...(readKey === undefined
        ? []
        : [{ name: BINANCE_ACCOUNT, apiKey: readKey.apiKey, secret: readKey.secret, readOnly: true }]),
    ],
    ...opts.emulator,
  });
  const venues: Venue[] = [];
  const makeVenue = (over: Partial<BinanceVenueOptions> = {}): Venue => {
    const venue = createBinanceVenue({
      baseUrl: emulator.url,
      accounts: {
        [BINANCE_ACCOUNT]: readKey === undefined ? { apiKey } : { apiKey, readApiKey: readKey.apiKey },
      },
      plane: plane.plane,
      caller: BINANCE_CALLER,
      timeoutMs: 2000,
      ...opts.venue,
      ...over,
    });
    venues.push(venue);
    return venue;
  };
  const venue = makeVenue();
  return {
    emulator,
    plane,
    venue,
    account: BINANCE_ACCOUNT,
    apiKey,
    secret,
    makeVenue,
    async close() {
      for (const v of venues) await v.close();
      await emulator.close();
      await plane.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

let guardSeq = 0;
/** An executor guard context for one order. */
export function testGuard(planId = `plan-${++guardSeq}`): OrderGuard {
  return {
    plan_id: planId,
    source: "test_source",
    decision: "EXECUTE",
    trading_state: "ACTIVE",
    permit_id: null,
    mode: "live",
    lane: "main",
    stream_id: `${Date.now()}-${guardSeq}`,
  };
}
