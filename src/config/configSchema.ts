import { z } from "zod";
import { UNSIGNED_DECIMAL_RE } from "../core/decimal.js";
import { LANES, LIVE_VENUES, type VenueName } from "../core/plan.js";
import { AUTH_ALGS } from "../core/policy.js";
import { watchSchema } from "./watchSchema.js";

/**
 * The executor config file (wire-v1 §8), validated strictly: an unknown key at
 * any level is an error, so a typo can never silently drop a safety setting.
 * Secrets are never inline: a key names an environment variable
 * (`secret_env`) or a file (`secret_file`) holding its secret.
 */

/** pino's levels, plus `silent`. */
export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Key ids appear inside `<alg>:<key_id>:<sig>`, so they must not hold `:`. */
export const KEY_ID_RE = /^[A-Za-z0-9._-]{1,64}$/;
/** Portable environment variable names. */
export const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Unpadded base64url of exactly 32 bytes is 43 characters. */
const B64URL_32_RE = /^[A-Za-z0-9_-]{43}$/;

const decimalString = z
  .string({ error: 'must be a decimal string such as "1.5"' })
  .regex(UNSIGNED_DECIMAL_RE, {
    error: 'must be a decimal string such as "1.5" (no sign, no exponent, at most 18 decimals)',
  });
const positiveDecimalString = decimalString.refine((s) => /[1-9]/.test(s), {
  error: "must be greater than 0",
});
const posInt = z.int({ error: "must be an integer" }).positive({ error: "must be a positive integer" });
const nonNegInt = z
  .int({ error: "must be an integer" })
  .nonnegative({ error: "must be a non-negative integer" });
const nonEmpty = z.string().min(1, { error: "must be a non-empty string" });

/** True when `text` is canonical unpadded base64url of exactly 32 bytes. */
export function isBase64Url32(text: string): boolean {
  if (!B64URL_32_RE.test(text)) return false;
  const bytes = Buffer.from(text, "base64url");
  return bytes.length === 32 && bytes.toString("base64url") === text;
}

const keySchema = z
  .strictObject({
    alg: z.enum(AUTH_ALGS as [string, ...string[]] as ["hmac-sha256", "ed25519"], {
      error: 'must be "hmac-sha256" or "ed25519"',
    }),
    secret_env: z
      .string()
      .regex(ENV_NAME_RE, { error: "must be an environment variable name ([A-Za-z_][A-Za-z0-9_]*)" })
      .optional(),
    secret_file: nonEmpty.optional(),
    public_key: z.string().optional(),
    source: nonEmpty.optional(),
    role: z
      .literal("permit_issuer", { error: 'must be "permit_issuer" (omit it for a producer key)' })
      .optional(),
  })
  .superRefine((key, ctx) => {
    if (key.alg === "hmac-sha256") {
      const n = Number(key.secret_env !== undefined) + Number(key.secret_file !== undefined);
      if (n !== 1) {
        ctx.addIssue({
          code: "custom",
          path: [n === 0 ? "secret_env" : "secret_file"],
          message:
            n === 0
              ? "an hmac-sha256 key needs secret_env or secret_file (never an inline secret)"
              : "give exactly one of secret_env and secret_file, not both",
        });
      }
      if (key.public_key !== undefined) {
        ctx.addIssue({ code: "custom", path: ["public_key"], message: "not allowed for an hmac-sha256 key" });
      }
    } else {
      if (key.public_key === undefined) {
        ctx.addIssue({ code: "custom", path: ["public_key"], message: "an ed25519 key needs public_key" });
      } else if (!isBase64Url32(key.public_key)) {
        ctx.addIssue({
          code: "custom",
          path: ["public_key"],
          message: "must be unpadded base64url of the 32-byte Ed25519 public key (43 characters)",
        });
      }
      for (const f of ["secret_env", "secret_file"] as const) {
        if (key[f] !== undefined) {
          ctx.addIssue({
            code: "custom",
            path: [f],
            message: "not allowed for an ed25519 key (it needs only public_key)",
          });
        }
      }
    }
    if (key.role === "permit_issuer" && key.source !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["source"],
        message: "a permit_issuer key must not have a source",
      });
    }
    if (key.role === undefined && key.source === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["source"],
        message: 'a producer key needs the source it signs for (or role: "permit_issuer")',
      });
    }
  });

const sourceSchema = z.strictObject({
  lanes: z
    .array(
      z.enum(LANES as [string, ...string[]] as ["main", "manual"], { error: 'must be "main" or "manual"' }),
    )
    .min(1, { error: "must list at least one lane" })
    .refine((l) => new Set(l).size === l.length, { error: "must not repeat a lane" }),
  require_auth: z.boolean().optional(),
});

const limitsSchema = z.strictObject({
  max_qty: z.record(nonEmpty, positiveDecimalString).optional(),
  max_notional: positiveDecimalString.optional(),
  rate_per_source_per_s: posInt.optional(),
  max_kelly_fraction: z
    .number({ error: "must be a number from 0 to 1" })
    .min(0, { error: "must be a number from 0 to 1" })
    .max(1, { error: "must be a number from 0 to 1" })
    .optional(),
  /** Default 60000, so a `created_at` in seconds (or one from a stuck producer) is stale, never accepted. */
  max_plan_age_ms: posInt.default(60000),
  /** A live venue's price older than this is stale: `limit:stale_price` for a plan that needs it. */
  max_price_age_ms: posInt.max(3_600_000, { error: "must be at most 3600000" }).default(10000),
  /** How long after a plan executed another with the same source, account, symbol, side, qty, price (a LIMIT plan's) and reduce_only is denied. */
  duplicate_window_ms: posInt.max(86_400_000, { error: "must be at most 86400000 (a day)" }).optional(),
  /** Per symbol (`*` for the rest): how far, in percent, a LIMIT price may be from the reference. */
  price_band_pct: z.record(nonEmpty, positiveDecimalString).optional(),
  max_clock_skew_ms: nonNegInt.default(5000),
  /** The most notional an account may place in one UTC day, kept on the bus: one value for every account (wire-v1 §8), or per account with `*` for the rest. */
  max_daily_notional: z.union([positiveDecimalString, z.record(nonEmpty, positiveDecimalString)]).optional(),
  /** The most orders an account may have open at once: one value for every account (wire-v1 §8), or per account with `*` for the rest. */
  max_open_orders: z.union([posInt, z.record(nonEmpty, posInt)]).optional(),
  /** Per symbol (`*` for the rest): the most an account may hold long or short in one book, counting its same-side orders that may still fill. */
  max_position: z.record(nonEmpty, positiveDecimalString).optional(),
  /** The most gross notional an account may have open in one mode (positions and orders at reference prices): one value for every account, or per account with `*` for the rest. */
  max_gross_notional: z.union([positiveDecimalString, z.record(nonEmpty, positiveDecimalString)]).optional(),
});

const envName = z
  .string()
  .regex(ENV_NAME_RE, { error: "must be an environment variable name ([A-Za-z_][A-Za-z0-9_]*)" });

/**
 * A credential the executor itself must send (an API key header, a
 * passphrase): never inline, exactly one of `<name>_env` and `<name>_file`.
 */
function credential<N extends string>(name: N) {
  return { [`${name}_env`]: envName.optional(), [`${name}_file`]: nonEmpty.optional() } as Record<
    `${N}_env` | `${N}_file`,
    z.ZodOptional<z.ZodString>
  >;
}

/** Requires exactly one of `<name>_env` / `<name>_file` on an object. */
function oneCredential(name: string) {
  return (obj: Record<string, unknown>, ctx: z.core.$RefinementCtx) => {
    const n = Number(obj[`${name}_env`] !== undefined) + Number(obj[`${name}_file`] !== undefined);
    if (n !== 1)
      ctx.addIssue({
        code: "custom",
        path: [`${name}_env`],
        message: `give exactly one of ${name}_env and ${name}_file (never the value inline)`,
      });
  };
}

const httpUrl = z.string().refine((u) => /^https?:\/\/[^\s/]+/.test(u), {
  error: "must be an http(s) URL such as https://fapi.binance.com",
});

/** How often a live venue's prices are read: 100 ms to 60 s, default 1 s (well inside `limits.max_price_age_ms`). */
const pricePollMs = posInt
  .min(100, { error: "must be at least 100" })
  .max(60_000, { error: "must be at most 60000" })
  .default(1000);

/**
 * Binance USDⓈ-M: per account, the API key sent as `X-MBX-APIKEY`; its HMAC
 * secret lives in the signer. `read_api_key_*` names the account's read-only
 * API key, sent with signed reads (signing-plane-v1 §3a: the signer signs
 * reads with that key's secret, so a read signature cannot be replayed as a
 * cancel); give it exactly when the signer has a read-only key for the account.
 */
const binanceAccountSchema = z
  .strictObject({ ...credential("api_key"), ...credential("read_api_key") })
  .superRefine(oneCredential("api_key"))
  .superRefine((acct, ctx) => {
    if (acct.read_api_key_env !== undefined && acct.read_api_key_file !== undefined)
      ctx.addIssue({
        code: "custom",
        path: ["read_api_key_env"],
        message: "give at most one of read_api_key_env and read_api_key_file (never the value inline)",
      });
  });

const binanceSchema = z.strictObject({
  base_url: httpUrl,
  recv_window_ms: posInt.max(60000, { error: "must be at most 60000 (Binance's limit)" }).default(5000),
  timeout_ms: posInt.default(5000),
  /**
   * The dead-man countdown armed per symbol with working orders
   * (`countdownCancelAll`), refreshed every third of it: if every executor
   * dies, Binance cancels the symbol's open orders once it runs out.
   */
  countdown_ms: posInt
    .min(3000, { error: "must be at least 3000 (a shorter countdown cannot be refreshed in time)" })
    .max(300000, { error: "must be at most 300000 (the signer's default max_countdown_ms)" })
    .default(60000),
  /** How often the executor reads every symbol's mark price (`GET /fapi/v1/premiumIndex`), the reference of gate 9. */
  price_poll_ms: pricePollMs,
  accounts: z.record(nonEmpty, binanceAccountSchema),
});

/** Polymarket CLOB: per account, the L2 API key and passphrase the executor sends; the L2 secret and the wallet key live in the signer. */
const polymarketSchema = z.strictObject({
  base_url: httpUrl,
  /** The data API for positions (`https://data-api.polymarket.com`); default `base_url`. */
  data_api_url: httpUrl.optional(),
  /** Token ids whose market rules the readiness check loads, and whose books the executor reads for reference prices. */
  markets: z
    .array(z.string().regex(/^(0|[1-9][0-9]{0,77})$/, { error: "must be a token id (decimal)" }))
    .default([]),
  chain_id: posInt.default(137),
  order_version: z.enum(["1", "2"], { error: 'must be "1" or "2"' }).default("2"),
  timeout_ms: posInt.default(5000),
  /**
   * How long after a send an order the CLOB does not know might still appear
   * (a request in flight); default timeout_ms + 60000. Keep it above the
   * CLOB's L2 timestamp tolerance.
   */
  in_flight_ms: posInt.optional(),
  /**
   * How often heartbeats are sent while the account has working orders; the
   * CLOB cancels all of the account's open orders when none arrives for
   * about 10 s, so it must stay well inside that.
   */
  heartbeat_every_ms: posInt
    .min(500, { error: "must be at least 500" })
    .max(8000, { error: "must be at most 8000 (the CLOB's heartbeat window is about 10 s)" })
    .default(4000),
  /** How often the executor reads each `markets` token's book (midpoint, best bid and ask), the reference of gate 9. */
  price_poll_ms: pricePollMs,
  accounts: z.record(
    nonEmpty,
    z
      .strictObject({
        ...credential("api_key"),
        ...credential("passphrase"),
        address: z.string().regex(/^0x[0-9a-fA-F]{40}$/, { error: "must be a 0x-prefixed 20-byte address" }),
        funder: z
          .string()
          .regex(/^0x[0-9a-fA-F]{40}$/, { error: "must be a 0x-prefixed 20-byte address" })
          .optional(),
        signature_type: z.union([z.literal(0), z.literal(1), z.literal(2)]).default(0),
      })
      .superRefine(oneCredential("api_key"))
      .superRefine(oneCredential("passphrase")),
  ),
});

const venuesSchema = z.strictObject({
  paper: z
    .strictObject({
      prices: z.record(nonEmpty, positiveDecimalString).default({}),
      rest_limits: z.boolean().default(false),
    })
    .optional(),
  "binance-usdm": binanceSchema.optional(),
  polymarket: polymarketSchema.optional(),
});

/**
 * How the executor reaches the signing plane (signing-plane-v1 §5). `remote`
 * is the production plane; `local` (a signer config with a vault, in this
 * process) is for development and refuses live trading.
 */
const signingSchema = z.discriminatedUnion("plane", [
  z
    .strictObject({
      plane: z.literal("remote"),
      socket: nonEmpty,
      caller: nonEmpty,
      ...credential("token"),
      timeout_ms: posInt.default(2000),
      /** The uid the signer's socket must be owned by before the token is sent (default: the executor's own). */
      socket_owner_uid: z.int().nonnegative().optional(),
    })
    .superRefine(oneCredential("token")),
  z.strictObject({
    plane: z.literal("local"),
    signer_config: nonEmpty,
    caller: nonEmpty,
  }),
]);

const busSchema = z.string().refine((u) => /^sqlite:.+/.test(u) || /^rediss?:\/\/.+/.test(u), {
  error: "must be sqlite:<path> or redis://host:port[/db] (rediss:// for TLS)",
});

/** The whole executor config file. */
export const configSchema = z
  .strictObject({
    bus: busSchema.default("sqlite:./data/intentgate.db"),
    prefix: nonEmpty.default("intentgate:"),
    exit_owner: nonEmpty.optional(),
    require_auth: z.boolean().default(true),
    keys: z
      .record(z.string().regex(KEY_ID_RE, { error: "key ids are 1-64 chars of [A-Za-z0-9._-]" }), keySchema)
      .default({}),
    sources: z.record(nonEmpty, sourceSchema).default({}),
    permits: z
      .strictObject({
        required: z.boolean().default(false),
        issuers: z.array(nonEmpty).default([]),
      })
      .prefault({}),
    limits: limitsSchema.prefault({}),
    claim_idle_ms: posInt.default(15000),
    /**
     * The most the executor's clock may differ from the bus's (Redis `TIME`)
     * before it stops deciding: freshness, permit expiry, rate windows and the
     * UTC day all read the executor's clock, and must mean the same on every
     * executor. Not checked on the embedded bus (one host, one clock). A
     * value above `limits.max_plan_age_ms` lets a host far enough behind take
     * stale plans for fresh ones: raise it only knowingly.
     */
    max_bus_clock_skew_ms: posInt
      .max(86_400_000, { error: "must be at most 86400000 (a day)" })
      .default(1000),
    max_deliveries: posInt.default(10),
    batch_size: posInt.max(10000, { error: "must be at most 10000" }).default(100),
    venues: venuesSchema.default({}),
    live: z.boolean().default(false),
    live_fallback: z.enum(["paper", "deny"], { error: 'must be "paper" or "deny"' }).default("paper"),
    on_halt: z.enum(["cancel", "keep"], { error: 'must be "cancel" or "keep"' }).default("cancel"),
    on_reducing: z.enum(["cancel", "keep"], { error: 'must be "cancel" or "keep"' }).default("cancel"),
    signing: signingSchema.optional(),
    reconcile_interval_ms: posInt.default(2000),
    metrics_port: z.int().min(0).max(65535, { error: "must be a TCP port (0-65535)" }).optional(),
    log_level: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(", ")}` }).default("info"),
    watch: watchSchema.prefault({}),
  })
  .superRefine((cfg, ctx) => {
    if (cfg.exit_owner !== undefined && !Object.hasOwn(cfg.sources, cfg.exit_owner)) {
      ctx.addIssue({
        code: "custom",
        path: ["exit_owner"],
        message: `names no configured source ("${cfg.exit_owner}"); every reduce_only plan would be denied`,
      });
    }
    const liveVenues = configuredLiveVenues(cfg);
    if (cfg.live && liveVenues.length > 0 && cfg.signing === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["signing"],
        message: `live: true with ${liveVenues.join(", ")} configured needs a signing section (the executor holds no keys)`,
      });
    }
    if (cfg.live && cfg.signing?.plane === "local") {
      ctx.addIssue({
        code: "custom",
        path: ["signing", "plane"],
        message: "the local signing plane refuses live trading (live: true): use the remote plane",
      });
    }
    cfg.permits.issuers.forEach((id, i) => {
      const key = cfg.keys[id];
      if (key === undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["permits", "issuers", i],
          message: `names no key in keys ("${id}")`,
        });
      } else if (key.role !== "permit_issuer") {
        ctx.addIssue({
          code: "custom",
          path: ["permits", "issuers", i],
          message: `key "${id}" does not have role "permit_issuer"`,
        });
      }
    });
  });

/** The live venues a config configures under `venues`. */
export function configuredLiveVenues(config: { readonly venues: ExecutorConfig["venues"] }): VenueName[] {
  return LIVE_VENUES.filter((v) => config.venues[v] !== undefined);
}

/** A validated config with its defaults filled in (secrets not yet loaded). */
export type ExecutorConfig = z.output<typeof configSchema>;
/** One entry of {@link ExecutorConfig.keys}. */
export type KeyConfig = z.output<typeof keySchema>;
