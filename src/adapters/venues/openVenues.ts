import type { ExecutorConfig } from "../../config/configSchema.js";
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

/** Builds the live venue adapters the config names (filled in below as adapters land). */
export async function openVenues(
  _config: ExecutorConfig,
  _deps: OpenVenuesDeps,
): Promise<ReadonlyMap<VenueName, Venue>> {
  return new Map();
}
