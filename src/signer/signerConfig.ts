import { readFile } from "node:fs/promises";
import { dirname, isAbsolute, resolve } from "node:path";
import { z } from "zod";
import { ConfigError, FILE_FIELD } from "../config/configError.js";
import {
  type ConfigFormat,
  deepFreeze,
  errCode,
  formatOf,
  parseJsonText,
  parseYamlText,
  zodIssues,
} from "../config/configText.js";
import { SecretBytes } from "../core/auth/secretBytes.js";
import { UNSIGNED_DECIMAL_RE } from "../core/decimal.js";
import { DECLARED_INTENTS, INTENT_PAYLOAD_KIND, type Intent } from "../ports/signingPlane.js";
import { normalizeAccount } from "./signRequest.js";

/**
 * The signer's own config file (signing-plane-v1 §5), separate from the
 * executor's and validated just as strictly: an unknown key at any level is an
 * error. Secrets (the vault passphrase, caller tokens) are never inline: a
 * field names an environment variable (`*_env`) or a file (`*_file`).
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

/** Exactly one of `<name>_env` and `<name>_file` (never an inline secret). */
function exactlyOneSecretRef(name: "passphrase" | "token", what: string) {
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

const vaultSchema = z
  .strictObject({ path: nonEmpty, passphrase_env: envName.optional(), passphrase_file: nonEmpty.optional() })
  .superRefine(exactlyOneSecretRef("passphrase", "the vault"));

const callerSchema = z
  .strictObject({ token_env: envName.optional(), token_file: nonEmpty.optional() })
  .superRefine(exactlyOneSecretRef("token", "a caller"));

const intentKey = z.string().superRefine((s, ctx) => {
  if ((CONFIGURABLE_INTENTS as readonly string[]).includes(s)) return;
  ctx.addIssue({
    code: "custom",
    message: (DECLARED_INTENTS as readonly string[]).includes(s)
      ? `intent "${s}" is declared but cannot be enabled in v1 (configurable: ${CONFIGURABLE_INTENTS.join(", ")})`
      : `unknown intent "${s}" (configurable: ${CONFIGURABLE_INTENTS.join(", ")})`,
  });
});

const intentSchema = z.strictObject({
  routes: z
    .array(
      z
        .string({ error: "must be a string" })
        .regex(ROUTE_RE, { error: "must be 1-128 chars of [A-Za-z0-9._:/-]" }),
    )
    .min(1, { error: "must list at least one route" })
    .refine((r) => new Set(r).size === r.length, { error: "must not repeat a route" }),
});

const policySchema = z.strictObject({
  max_notional: z
    .string({ error: 'must be a decimal string such as "1000"' })
    .regex(UNSIGNED_DECIMAL_RE, { error: 'must be a decimal string such as "1000" (no sign, no exponent)' })
    .refine((s) => /[1-9]/.test(s), { error: "must be greater than 0" })
    .optional(),
  symbols: z
    .array(nonEmpty)
    .min(1, { error: "must list at least one symbol (omit it to allow every symbol)" })
    .refine((s) => new Set(s).size === s.length, { error: "must not repeat a symbol" })
    .optional(),
  rate_per_account_per_s: posInt.optional(),
});

const pathRef = z.strictObject({ path: nonEmpty });

const auditSchema = z.strictObject({
  path: nonEmpty,
  sync: z.enum(["line", "group", "never"], { error: 'must be "line", "group" or "never"' }).optional(),
});

const pkcs11Schema = z
  .strictObject({
    module: nonEmpty,
    token_label: nonEmpty,
    pin_env: envName.optional(),
    pin_file: nonEmpty.optional(),
  })
  .superRefine((v, ctx) => {
    const n = Number(v.pin_env !== undefined) + Number(v.pin_file !== undefined);
    if (n !== 1) {
      ctx.addIssue({
        code: "custom",
        path: [n === 0 ? "pin_env" : "pin_file"],
        message:
          n === 0
            ? "the token PIN needs pin_env or pin_file (never inline)"
            : "give exactly one of pin_env and pin_file, not both",
      });
    }
  });

/** The whole signer config file. */
export const signerConfigSchema = z
  .strictObject({
    live: z.boolean({ error: "must be true or false" }).default(false),
    vault: vaultSchema,
    audit: auditSchema,
    socket: pathRef.optional(),
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
        z.record(
          intentKey,
          z.string({ error: "must be a vault entry id" }).regex(ENTRY_ID_RE, {
            error: "must be a vault entry id (1-128 chars of [A-Za-z0-9._:-])",
          }),
        ),
      )
      .default({}),
    policy: z.record(intentKey, policySchema).default({}),
  })
  .superRefine((cfg, ctx) => {
    const seen = new Map<string, string>();
    for (const [account, byIntent] of Object.entries(cfg.accounts)) {
      const norm = normalizeAccount(account);
      const other = seen.get(norm);
      if (other !== undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["accounts", account],
          message: `is the same UUID as "${other}" (UUIDs are compared in lowercase)`,
        });
      }
      seen.set(norm, account);
      for (const intent of Object.keys(byIntent)) {
        if (cfg.intents[intent] === undefined) {
          ctx.addIssue({
            code: "custom",
            path: ["accounts", account, intent],
            message: `intent "${intent}" is not listed under intents`,
          });
        }
      }
    }
    for (const intent of Object.keys(cfg.policy)) {
      if (cfg.intents[intent] === undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["policy", intent],
          message: `intent "${intent}" is not listed under intents`,
        });
      }
    }
  })
  .transform((cfg) => ({
    ...cfg,
    accounts: Object.fromEntries(
      Object.entries(cfg.accounts).map(([account, byIntent]) => [normalizeAccount(account), byIntent]),
    ),
  }));

/** A validated signer config with defaults filled in and UUID account ids lowercased (secrets not loaded). */
export interface SignerConfig {
  readonly live: boolean;
  readonly vault: {
    readonly path: string;
    readonly passphrase_env?: string | undefined;
    readonly passphrase_file?: string | undefined;
  };
  /** The audit log; `sync` is its durability policy (`auditLog.ts`, default `group`). */
  readonly audit: { readonly path: string; readonly sync?: "line" | "group" | "never" | undefined };
  readonly socket?: { readonly path: string } | undefined;
  /**
   * Keys in a PKCS#11 token instead of the vault: the entry ids under
   * `accounts` are then key labels in that token (see `signerPipeline.ts`).
   */
  readonly pkcs11?: SignerPkcs11Config | undefined;
  readonly callers: Readonly<
    Record<string, { readonly token_env?: string | undefined; readonly token_file?: string | undefined }>
  >;
  readonly intents: Readonly<Partial<Record<Intent, { readonly routes: readonly string[] }>>>;
  readonly accounts: Readonly<Record<string, Readonly<Partial<Record<Intent, string>>>>>;
  readonly policy: Readonly<Partial<Record<Intent, SignerPolicyConfig>>>;
}

/** The `pkcs11` section: the module, the token and where its user PIN is read from. */
export interface SignerPkcs11Config {
  readonly module: string;
  readonly token_label: string;
  readonly pin_env?: string | undefined;
  readonly pin_file?: string | undefined;
}

/** One intent's entry under `policy`: the signer's own hard limits (absent = not checked). */
export interface SignerPolicyConfig {
  readonly max_notional?: string | undefined;
  readonly symbols?: readonly string[] | undefined;
  readonly rate_per_account_per_s?: number | undefined;
}

export type SignerConfigFormat = ConfigFormat;

/**
 * Validates an already-parsed config value. Paths are kept as written.
 * Every failure is a {@link ConfigError} naming the field.
 * @example parseSignerConfig({ vault: { path: "v.json", passphrase_env: "P" }, audit: { path: "a.jsonl" } })
 */
export function parseSignerConfig(raw: unknown): SignerConfig {
  const parsed = signerConfigSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(zodIssues(parsed.error.issues));
  return deepFreeze(parsed.data as SignerConfig);
}

/**
 * Reads and validates the signer config file at `path` (YAML for `.yaml` /
 * `.yml`, JSON otherwise). Relative paths in it (`vault.path`,
 * `vault.passphrase_file`, `audit.path`, `socket.path`, `callers.*.token_file`,
 * `pkcs11.module`, `pkcs11.pin_file`)
 * are resolved against the file's directory. No secret is read.
 */
export async function loadSignerConfig(path: string): Promise<SignerConfig> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new ConfigError({
      field: FILE_FIELD,
      message: `cannot read signer config file ${path} (${errCode(err)})`,
    });
  }
  const config = await parseSignerConfigText(text, formatOf(path));
  return resolveSignerPaths(config, dirname(resolve(path)));
}

/** Like {@link loadSignerConfig} on text in memory (paths kept as written). */
export async function parseSignerConfigText(text: string, format: SignerConfigFormat): Promise<SignerConfig> {
  return parseSignerConfig(format === "yaml" ? await parseYamlText(text) : parseJsonText(text));
}

/** The config with every relative path resolved against `baseDir`. */
export function resolveSignerPaths(config: SignerConfig, baseDir: string): SignerConfig {
  const abs = (p: string): string => (isAbsolute(p) ? p : resolve(baseDir, p));
  const vault = { ...config.vault, path: abs(config.vault.path) };
  if (vault.passphrase_file !== undefined) vault.passphrase_file = abs(vault.passphrase_file);
  const callers = Object.fromEntries(
    Object.entries(config.callers).map(([id, c]) => [
      id,
      c.token_file === undefined ? c : { ...c, token_file: abs(c.token_file) },
    ]),
  );
  const pkcs11 = config.pkcs11;
  return deepFreeze({
    ...config,
    vault,
    audit: { ...config.audit, path: abs(config.audit.path) },
    ...(config.socket === undefined ? {} : { socket: { path: abs(config.socket.path) } }),
    ...(pkcs11 === undefined
      ? {}
      : {
          pkcs11: {
            ...pkcs11,
            module: abs(pkcs11.module),
            ...(pkcs11.pin_file === undefined ? {} : { pin_file: abs(pkcs11.pin_file) }),
          },
        }),
    callers,
  });
}

/**
 * Loads one secret a config field names (`vault` → passphrase, `callers.<id>`
 * → token) from the environment or a file, as {@link SecretBytes}. One
 * trailing line break of a file is not part of the secret. A missing or empty
 * secret is a {@link ConfigError} naming the field (never the value).
 * @example await loadSignerSecret(config.vault, "passphrase", "vault", process.env)
 */
export async function loadSignerSecret<N extends "passphrase" | "token">(
  ref: { readonly [K in `${N}_env` | `${N}_file`]?: string | undefined },
  name: N,
  field: string,
  env: Readonly<Record<string, string | undefined>>,
): Promise<SecretBytes> {
  const envName = ref[`${name}_env` as `${N}_env`];
  const file = ref[`${name}_file` as `${N}_file`];
  if (envName !== undefined) {
    const value = env[envName];
    if (value === undefined || value === "") {
      throw new ConfigError({
        field: `${field}.${name}_env`,
        message: `environment variable ${envName} is not set or is empty`,
      });
    }
    return new SecretBytes(Buffer.from(value, "utf8"));
  }
  if (file !== undefined) {
    let content: Buffer;
    try {
      content = await readFile(file);
    } catch (err) {
      throw new ConfigError({
        field: `${field}.${name}_file`,
        message: `cannot read ${file} (${errCode(err)})`,
      });
    }
    let end = content.length;
    if (end > 0 && content[end - 1] === 0x0a) end--;
    if (end > 0 && content[end - 1] === 0x0d) end--;
    const value = Buffer.from(content.subarray(0, end));
    content.fill(0);
    if (value.length === 0)
      throw new ConfigError({ field: `${field}.${name}_file`, message: `${file} is empty` });
    return new SecretBytes(value);
  }
  throw new ConfigError({ field, message: `needs ${name}_env or ${name}_file` });
}
