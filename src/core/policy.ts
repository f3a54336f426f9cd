import type { KeyObject } from "node:crypto";
import type { SecretBytes } from "./auth/secretBytes.js";
import type { Decimal } from "./decimal.js";
import type { Lane, VenueName } from "./plan.js";
import type { LivePrice } from "./referencePrice.js";

/** Signature algorithms for plans and permits (wire-v1 §2, §5). */
export type AuthAlg = "hmac-sha256" | "ed25519";
export const AUTH_ALGS: readonly AuthAlg[] = ["hmac-sha256", "ed25519"];

/** A verification key from config, its secret already loaded. */
export type VerifyKey =
  | {
      readonly keyId: string;
      readonly alg: "hmac-sha256";
      readonly secret: SecretBytes;
      /** The one source this key may sign for; absent for a permit issuer's key. */
      readonly source: string | undefined;
      readonly role: "producer" | "permit_issuer";
    }
  | {
      readonly keyId: string;
      readonly alg: "ed25519";
      readonly publicKey: KeyObject;
      readonly source: string | undefined;
      readonly role: "producer" | "permit_issuer";
    };

/** Per-source policy (wire-v1 §8 `sources`). */
export interface SourcePolicy {
  readonly lanes: ReadonlySet<Lane>;
  /** Overrides {@link Policy.requireAuth} for this source when set. */
  readonly requireAuth: boolean | undefined;
}

/** Limits checked at gate 9; an absent limit is not checked. */
export interface Limits {
  readonly maxQty: ReadonlyMap<string, Decimal>;
  readonly maxNotional: Decimal | undefined;
  readonly ratePerSourcePerS: number | undefined;
  readonly maxKellyFraction: number | undefined;
  readonly maxPlanAgeMs: number | undefined;
  readonly maxClockSkewMs: number;
  /** A live venue's price older than this is stale (`limit:stale_price`). */
  readonly maxPriceAgeMs: number;
  /** Per symbol (`*`: every other), the most a LIMIT price may be from the reference, in percent. */
  readonly priceBandPct: ReadonlyMap<string, Decimal>;
  /** How long after a plan executed another with the same content (`duplicateKeyOf`) is `limit:duplicate_order`. */
  readonly duplicateWindowMs: number | undefined;
  /** Per account (`*`: every other), the most notional it may place in one UTC day (`limit:daily_notional`). */
  readonly maxDailyNotional: ReadonlyMap<string, Decimal>;
  /** Per account (`*`: every other), the most orders it may have open at once (`limit:open_orders`). */
  readonly maxOpenOrders: ReadonlyMap<string, number>;
  /**
   * Per symbol (`*`: every other), the most an account may hold long or
   * short in one book, counting its same-side orders that may still fill
   * (`limit:max_position`).
   */
  readonly maxPosition: ReadonlyMap<string, Decimal>;
  /**
   * Per account (`*`: every other), the most gross notional it may have open
   * in one mode (paper or live): |position| and what may still fill of each
   * order, at reference prices, with this plan's (`limit:max_gross_notional`).
   */
  readonly maxGrossNotional: ReadonlyMap<string, Decimal>;
}

/**
 * The frozen policy snapshot every gate reads: built once from a validated
 * config (and rebuilt on reload), never from module-level state.
 */
export interface Policy {
  readonly requireAuth: boolean;
  readonly keys: ReadonlyMap<string, VerifyKey>;
  readonly sources: ReadonlyMap<string, SourcePolicy>;
  /** The only source allowed to send `reduce_only` plans; none means every `reduce_only` plan is denied. */
  readonly exitOwner: string | undefined;
  readonly permits: { readonly required: boolean; readonly issuers: ReadonlySet<string> };
  readonly limits: Limits;
  /** What entering `HALTED` does to working orders (wire-v1 §7 `on_halt`). */
  readonly onHalt: "cancel" | "keep";
  /** What entering `REDUCING` does to working orders that are not `reduce_only` (`on_reducing`). */
  readonly onReducing: "cancel" | "keep";
  /** `venues.paper.rest_limits`: paper LIMIT orders that do not cross the reference price rest as working orders. */
  readonly paperRestLimits: boolean;
  /** Reference prices per symbol (`venues.paper.prices`). */
  readonly referencePrices: ReadonlyMap<string, Decimal>;
  /**
   * Prices read from the live venues, per `livePriceKey(venue, symbol)`;
   * the executor fills it in at decision time from its price feed.
   */
  readonly livePrices: ReadonlyMap<string, LivePrice>;
  /** Venues configured under `venues` (`paper` always). */
  readonly enabledVenues: ReadonlySet<VenueName>;
  /** Live trading switch in the config (key one of two); with it off every live venue falls back. */
  readonly live: boolean;
  /** `INTENTGATE_LIVE=1` in the executor's environment (key two of two). */
  readonly liveEnv: boolean;
  /**
   * Live venues whose readiness check passed, each with the accounts that may
   * trade live (`"*"`: every account); the executor fills it in at decision time.
   */
  readonly readyVenues: ReadonlyMap<VenueName, ReadonlySet<string>>;
  /** A live-venue plan that may not go live: `paper` executes it on the paper venue (`mode: "paper"`), `deny` denies it. */
  readonly liveFallback: "paper" | "deny";
}
