import { z } from "zod";
import { UNSIGNED_DECIMAL_RE } from "../core/decimal.js";
import { LANES } from "../core/plan.js";
import { AUTH_ALGS } from "../core/policy.js";

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
  max_plan_age_ms: posInt.optional(),
  max_clock_skew_ms: nonNegInt.default(5000),
});

/** Reserved for the live-venue work: accepts only `{}` for now. */
const liveVenueSchema = z.strictObject({});

const venuesSchema = z.strictObject({
  paper: z.strictObject({ prices: z.record(nonEmpty, positiveDecimalString).default({}) }).optional(),
  "binance-usdm": liveVenueSchema.optional(),
  polymarket: liveVenueSchema.optional(),
});

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
    max_deliveries: posInt.default(10),
    batch_size: posInt.max(10000, { error: "must be at most 10000" }).default(100),
    venues: venuesSchema.default({}),
    live: z.boolean().default(false),
    metrics_port: z.int().min(0).max(65535, { error: "must be a TCP port (0-65535)" }).optional(),
    log_level: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(", ")}` }).default("info"),
  })
  .superRefine((cfg, ctx) => {
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

/** A validated config with its defaults filled in (secrets not yet loaded). */
export type ExecutorConfig = z.output<typeof configSchema>;
/** One entry of {@link ExecutorConfig.keys}. */
export type KeyConfig = z.output<typeof keySchema>;
