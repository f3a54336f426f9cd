import { z } from "zod";
import { UNSIGNED_DECIMAL_RE } from "../core/decimal.js";
import { DECLARED_INTENTS, INTENT_PAYLOAD_KIND, type Intent } from "../ports/signingPlane.js";
import { actionSpec, PAYLOAD_ACTIONS } from "./payloads/actions.js";
import { normalizeAccount } from "./signRequest.js";

/**
 * The zod schema of the signer's config file (see `signerConfig.ts` for the
 * validated type and the loaders). Strict at every level: an unknown key is
 * an error. Secrets are never inline: `*_env` or `*_file`.
 */

/** Caller ids, as the transport authenticates them. */
export const CALLER_ID_RE = /^[A-Za-z0-9._-]{1,64}$/;
/** Route names such as `executor.binance-usdm.order`. */
export const ROUTE_RE = /^[A-Za-z0-9._:/-]{1,128}$/;
/** Account ids (a UUID is one of them; it is lowercased on load). */
export const ACCOUNT_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/;
/** Vault entry ids. */
export const ENTRY_ID_RE = /^[A-Za-z0-9._:-]{1,128}$/;
const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** A rolling window's length: a whole number of seconds, minutes, hours or days. */
export const WINDOW_RE = /^([1-9][0-9]{0,6})(s|m|h|d)$/;
const WINDOW_UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
/** The longest rolling window (7 days). */
export const MAX_WINDOW_MS = 7 * 86_400_000;
/** Venues the signer keeps reference prices for. */
export const REFERENCE_VENUES = ["binance-usdm", "polymarket"] as const;

/**
 * Intents a config may switch on: declared and with a payload kind (§1). An
 * intent listed here is still denied `intent_not_enabled` while no handler for
 * its payload kind is registered (see `intents.ts`).
 */
export const CONFIGURABLE_INTENTS: readonly Intent[] = DECLARED_INTENTS.filter(
  (i) => INTENT_PAYLOAD_KIND[i] !== undefined,
);

const nonEmpty = z.string({ error: "must be a string" }).min(1, { error: "must be a non-empty string" });
const posInt = z.int({ error: "must be an integer" }).positive({ error: "must be a positive integer" });
const envName = z
  .string({ error: "must be a string" })
  .regex(ENV_NAME_RE, { error: "must be an environment variable name ([A-Za-z_][A-Za-z0-9_]*)" });
const decimalText = z
  .string({ error: 'must be a decimal string such as "1000"' })
  .regex(UNSIGNED_DECIMAL_RE, { error: 'must be a decimal string such as "1000" (no sign, no exponent)' })
  .refine((s) => /[1-9]/.test(s), { error: "must be greater than 0" });

/** Exactly one of `<name>_env` and `<name>_file` (never an inline secret). */
function exactlyOneSecretRef(name: string, what: string) {
  const envKey = `${name}_env`;
  const fileKey = `${name}_file`;
  return (v: Readonly<Record<string, unknown>>, ctx: z.RefinementCtx): void => {
    const n = Number(v[envKey] !== undefined) + Number(v[fileKey] !== undefined);
    if (n !== 1) {
      ctx.addIssue({
        code: "custom",
        path: [n === 0 ? envKey : fileKey],
        message:
          n === 0
            ? `${what} needs ${envKey} or ${fileKey} (never inline)`
            : `give exactly one of ${envKey} and ${fileKey}, not both`,
      });
    }
  };
}

const intentKey = z.string().superRefine((s, ctx) => {
  if ((CONFIGURABLE_INTENTS as readonly string[]).includes(s)) return;
  ctx.addIssue({
    code: "custom",
    message: (DECLARED_INTENTS as readonly string[]).includes(s)
      ? `intent "${s}" is declared but cannot be enabled in v1 (configurable: ${CONFIGURABLE_INTENTS.join(", ")})`
      : `unknown intent "${s}" (configurable: ${CONFIGURABLE_INTENTS.join(", ")})`,
  });
});

const vaultSchema = z
  .strictObject({ path: nonEmpty, passphrase_env: envName.optional(), passphrase_file: nonEmpty.optional() })
  .superRefine(exactlyOneSecretRef("passphrase", "the vault"));

const callerSchema = z
  .strictObject({
    token_env: envName.optional(),
    token_file: nonEmpty.optional(),
    accounts: z
      .array(nonEmpty, { error: "must list the accounts this caller may sign for" })
      .min(1, { error: "must list at least one account" }),
    intents: z
      .array(intentKey, { error: "must list the intents this caller may ask for" })
      .min(1, { error: "must list at least one intent" }),
  })
  .superRefine(exactlyOneSecretRef("token", "a caller"));

const routeBinding = z.union(
  [
    nonEmpty.transform((action) => ({ action, probe: false })),
    z.strictObject({ action: nonEmpty, probe: z.boolean().default(false) }),
  ],
  { error: 'must be an action name or { "action": …, "probe": true }' },
);

const intentSchema = z.strictObject({
  routes: z.record(
    z.string().regex(ROUTE_RE, { error: "route names are 1-128 chars of [A-Za-z0-9._:/-]" }),
    routeBinding,
    {
      error:
        'must map each route to its one action, e.g. {"executor.binance-usdm.order": "order"} (signing-plane-v1 §2)',
    },
  ),
});

const accountEntry = z.union(
  [
    z.string().regex(ENTRY_ID_RE, { error: "must be a vault entry id (1-128 chars of [A-Za-z0-9._:-])" }),
    z.strictObject({
      entry: z.string().regex(ENTRY_ID_RE, { error: "must be a vault entry id" }),
      read_only_entry: z.string().regex(ENTRY_ID_RE, { error: "must be a vault entry id" }).optional(),
    }),
  ],
  { error: 'must be a vault entry id or { "entry": …, "read_only_entry": … }' },
);

const windowSchema = z
  .strictObject({
    window: z
      .string({ error: 'must be a duration such as "1m", "1h" or "24h"' })
      .regex(WINDOW_RE, { error: 'must be a duration such as "30s", "1m", "1h" or "24h"' })
      .refine((w) => windowMs(w) <= MAX_WINDOW_MS, { error: "must be at most 7d" }),
    max_notional: decimalText.optional(),
    max_orders: posInt.optional(),
  })
  .refine((w) => w.max_notional !== undefined || w.max_orders !== undefined, {
    error: "needs max_notional, max_orders or both",
  });

const policySchema = z.strictObject({
  max_notional: decimalText.optional(),
  symbols: z
    .array(nonEmpty)
    .min(1, { error: "must list at least one symbol (omit it to allow every symbol)" })
    .refine((s) => new Set(s).size === s.length, { error: "must not repeat a symbol" })
    .optional(),
  rate_per_account_per_s: posInt.optional(),
  cancel_rate_per_account_per_s: posInt.optional(),
  keepalive_rate_per_account_per_s: posInt.max(1000, { error: "must be at most 1000" }).optional(),
  max_countdown_ms: posInt.max(86_400_000, { error: "must be at most 86400000 (24 h)" }).optional(),
  windows: z
    .array(windowSchema)
    .min(1, { error: "must list at least one window (omit it for none)" })
    .refine((ws) => new Set(ws.map((w) => windowMs(w.window))).size === ws.length, {
      error: "must not repeat a window length",
    })
    .optional(),
});

const auditSchema = z
  .strictObject({
    path: nonEmpty,
    sync: z.enum(["line", "group", "never"], { error: 'must be "line", "group" or "never"' }).optional(),
    key_env: envName.optional(),
    key_file: nonEmpty.optional(),
  })
  .superRefine(exactlyOneSecretRef("key", "the audit log (its HMAC chain key)"));

const socketSchema = z.strictObject({
  path: nonEmpty,
  max_connections: posInt.max(4096, { error: "must be at most 4096" }).optional(),
  max_connections_per_caller: posInt.max(4096, { error: "must be at most 4096" }).optional(),
  idle_timeout_ms: posInt.optional(),
  frame_timeout_ms: posInt.optional(),
  unread_timeout_ms: posInt.optional(),
  max_unread_bytes: posInt.min(65_536, { error: "must be at least 65536" }).optional(),
});

const clockSchema = z.strictObject({
  max_clock_skew_ms: posInt.max(60_000, { error: "must be at most 60000" }).default(5000),
  max_recv_window_ms: posInt.max(60_000, { error: "must be at most 60000 (Binance's limit)" }).default(5000),
});

const referencePricesSchema = z.strictObject({
  max_age_ms: posInt.default(60_000),
  file: nonEmpty.optional(),
  reload_ms: posInt.min(100, { error: "must be at least 100" }).default(1000),
  prices: z
    .partialRecord(
      z.enum(REFERENCE_VENUES, { error: `venues are ${REFERENCE_VENUES.join(", ")}` }),
      z.record(nonEmpty, decimalText),
    )
    .default({}),
});

const pkcs11Schema = z
  .strictObject({
    module: nonEmpty,
    token_label: nonEmpty,
    pin_env: envName.optional(),
    pin_file: nonEmpty.optional(),
  })
  .superRefine(exactlyOneSecretRef("pin", "the token PIN"));

/** Milliseconds of a {@link WINDOW_RE} duration. */
export function windowMs(text: string): number {
  const m = WINDOW_RE.exec(text);
  if (m === null) return Number.NaN;
  return Number(m[1]) * WINDOW_UNIT_MS[m[2] as keyof typeof WINDOW_UNIT_MS];
}

/** The signer config file's sections, before the checks between them. */
const signerConfigObject = z.strictObject({
  live: z.boolean({ error: "must be true or false" }).default(false),
  vault: vaultSchema,
  audit: auditSchema,
  socket: socketSchema.optional(),
  pkcs11: pkcs11Schema.optional(),
  callers: z
    .record(
      z.string().regex(CALLER_ID_RE, { error: "caller ids are 1-64 chars of [A-Za-z0-9._-]" }),
      callerSchema,
    )
    .default({}),
  intents: z.record(intentKey, intentSchema).default({}),
  accounts: z
    .record(
      z.string().regex(ACCOUNT_ID_RE, { error: "account ids are 1-128 chars of [A-Za-z0-9._:@-]" }),
      z.record(intentKey, accountEntry),
    )
    .default({}),
  clock: clockSchema.prefault({}),
  reference_prices: referencePricesSchema.prefault({}),
  policy: z.record(intentKey, policySchema).default({}),
});

/** The parsed file, as zod returns it (`signerConfig.ts` turns it into a {@link SignerConfig}). */
export type ParsedSignerConfig = z.infer<typeof signerConfigObject>;

/** The whole signer config file. */
export const signerConfigSchema = signerConfigObject.superRefine(crossChecks);

/** Checks between sections: what a route, an account, a caller or a policy names exists and fits. */
function crossChecks(cfg: ParsedSignerConfig, ctx: z.RefinementCtx): void {
  const issue = (path: PropertyKey[], message: string) => ctx.addIssue({ code: "custom", path, message });
  for (const [intent, spec] of Object.entries(cfg.intents) as [
    Intent,
    ParsedSignerConfig["intents"][string],
  ][]) {
    const kind = INTENT_PAYLOAD_KIND[intent];
    if (kind === undefined) continue;
    for (const [route, binding] of Object.entries(spec.routes)) {
      const action = actionSpec(kind, binding.action);
      if (action === undefined) {
        issue(
          ["intents", intent, "routes", route],
          `action "${binding.action}" is not one ${intent} can do (${Object.keys(PAYLOAD_ACTIONS[kind]).join(", ")})`,
        );
      } else if (binding.probe && !action.read) {
        issue(["intents", intent, "routes", route, "probe"], "only a read can be a probe route");
      } else if (
        action.rate === "cancel" &&
        cfg.policy[intent]?.cancel_rate_per_account_per_s === undefined
      ) {
        // Cancels have no other limit: enabling one means choosing its rate.
        issue(
          ["intents", intent, "routes", route],
          `a ${binding.action} route needs policy.${intent}.cancel_rate_per_account_per_s`,
        );
      }
    }
  }
  const seen = new Map<string, string>();
  for (const [account, byIntent] of Object.entries(cfg.accounts)) {
    const norm = normalizeAccount(account);
    const other = seen.get(norm);
    if (other !== undefined) {
      issue(["accounts", account], `is the same UUID as "${other}" (UUIDs are compared in lowercase)`);
    }
    seen.set(norm, account);
    for (const [intent, entry] of Object.entries(byIntent)) {
      if (cfg.intents[intent] === undefined) {
        issue(["accounts", account, intent], `intent "${intent}" is not listed under intents`);
      }
      const kind = INTENT_PAYLOAD_KIND[intent as Intent];
      const replayable = kind !== undefined && Object.values(PAYLOAD_ACTIONS[kind]).some((a) => a.replayable);
      if (typeof entry === "object" && entry.read_only_entry !== undefined && !replayable) {
        issue(
          ["accounts", account, intent, "read_only_entry"],
          `${intent} has no read whose signature could act: no read-only key to give`,
        );
      }
    }
  }
  for (const [caller, c] of Object.entries(cfg.callers)) {
    c.accounts.forEach((a, i) => {
      if (!seen.has(normalizeAccount(a)))
        issue(["callers", caller, "accounts", i], `names no account ("${a}")`);
    });
    c.intents.forEach((intent, i) => {
      if (cfg.intents[intent] === undefined)
        issue(["callers", caller, "intents", i], `intent "${intent}" is not listed under intents`);
    });
  }
  for (const intent of Object.keys(cfg.policy)) {
    if (cfg.intents[intent] === undefined) {
      issue(["policy", intent], `intent "${intent}" is not listed under intents`);
    }
  }
  for (const [token, price] of Object.entries(cfg.reference_prices.prices.polymarket ?? {})) {
    if (/^(1(\.0*)?|0(\.[0-9]+)?)$/.test(price)) continue;
    issue(
      ["reference_prices", "prices", "polymarket", token],
      "a Polymarket share is worth at most 1 (USDC)",
    );
  }
}
