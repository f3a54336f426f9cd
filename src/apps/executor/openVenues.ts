import { createBinanceVenue } from "../../adapters/binance/binanceVenue.js";
import type { PolymarketAccountConfig } from "../../adapters/polymarket/accounts.js";
import { createPolymarketVenue } from "../../adapters/polymarket/polymarketVenue.js";
import type { ExecutorConfig } from "../../config/configSchema.js";
import { readConfigCredential } from "../../config/readCredential.js";
import type { SecretBytes } from "../../core/auth/secretBytes.js";
import type { VenueName } from "../../core/plan.js";
import type { Venue } from "../../ports/venue.js";
import type { OpenedPlane } from "../../signer/index.js";

/** What building the live venues needs besides the config. */
export interface OpenVenuesDeps {
  /** The signing plane; without one no live venue is built (the executor holds no keys). */
  readonly plane: OpenedPlane | undefined;
  readonly env: NodeJS.ProcessEnv;
  readonly baseDir: string;
}

/**
 * Builds the live venue adapters the config names, each signing through the
 * plane. With no `signing` section none is built: live-venue plans then fall
 * back as the live guard says. A missing credential is a {@link ConfigError}.
 */
export async function openVenues(
  config: ExecutorConfig,
  deps: OpenVenuesDeps,
): Promise<ReadonlyMap<VenueName, Venue>> {
  const venues = new Map<VenueName, Venue>();
  const { plane } = deps;
  if (plane === undefined) return venues;
  const binance = config.venues["binance-usdm"];
  if (binance !== undefined) {
    const accounts: Record<string, { apiKey: SecretBytes; readApiKey?: SecretBytes }> = {};
    for (const [id, acct] of Object.entries(binance.accounts)) {
      const field = `venues.binance-usdm.accounts.${id}`;
      const apiKey = await readConfigCredential({
        holder: acct,
        name: "api_key",
        field,
        env: deps.env,
        baseDir: deps.baseDir,
      });
      const hasReadKey = acct.read_api_key_env !== undefined || acct.read_api_key_file !== undefined;
      accounts[id] = hasReadKey
        ? {
            apiKey,
            readApiKey: await readConfigCredential({
              holder: acct,
              name: "read_api_key",
              field,
              env: deps.env,
              baseDir: deps.baseDir,
            }),
          }
        : { apiKey };
    }
    venues.set(
      "binance-usdm",
      createBinanceVenue({
        baseUrl: binance.base_url,
        accounts,
        plane: plane.plane,
        caller: plane.caller,
        recvWindowMs: binance.recv_window_ms,
        timeoutMs: binance.timeout_ms,
        countdownMs: binance.countdown_ms,
      }),
    );
  }
  const poly = config.venues.polymarket;
  if (poly !== undefined) {
    const accounts: Record<string, PolymarketAccountConfig> = {};
    for (const [id, acct] of Object.entries(poly.accounts)) {
      const field = `venues.polymarket.accounts.${id}`;
      accounts[id] = {
        apiKey: await readConfigCredential({
          holder: acct,
          name: "api_key",
          field,
          env: deps.env,
          baseDir: deps.baseDir,
        }),
        passphrase: await readConfigCredential({
          holder: acct,
          name: "passphrase",
          field,
          env: deps.env,
          baseDir: deps.baseDir,
        }),
        address: acct.address,
        ...(acct.funder === undefined ? {} : { funder: acct.funder }),
        signatureType: acct.signature_type,
      };
    }
    venues.set(
      "polymarket",
      createPolymarketVenue({
        baseUrl: poly.base_url,
        ...(poly.data_api_url === undefined ? {} : { dataApiUrl: poly.data_api_url }),
        chainId: poly.chain_id,
        orderVersion: poly.order_version,
        accounts,
        plane: plane.plane,
        caller: plane.caller,
        timeoutMs: poly.timeout_ms,
        ...(poly.in_flight_ms === undefined ? {} : { inFlightMs: poly.in_flight_ms }),
        markets: poly.markets,
      }),
    );
  }
  return venues;
}
