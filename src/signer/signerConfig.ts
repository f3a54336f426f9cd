import { readFile } from "node:fs/promises";
import { dirname, isAbsolute, resolve } from "node:path";
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
import { readConfigCredential } from "../config/readCredential.js";
import type { SecretBytes } from "../core/auth/secretBytes.js";
import type { Intent } from "../ports/signingPlane.js";
import { type ParsedSignerConfig, signerConfigSchema } from "./signerConfigSchema.js";
import { normalizeAccount } from "./signRequest.js";

/**
 * The signer's own config file (signing-plane-v1 §5), separate from the
 * executor's and validated just as strictly: an unknown key at any level is an
 * error (the schema is `signerConfigSchema.ts`). Secrets (the vault
 * passphrase, caller tokens, the audit key, the token PIN) are never inline:
 * a field names an environment variable (`*_env`) or a file (`*_file`).
 */

export {
  ACCOUNT_ID_RE,
  CALLER_ID_RE,
  CONFIGURABLE_INTENTS,
  ENTRY_ID_RE,
  ROUTE_RE,
} from "./signerConfigSchema.js";

/** What a route does: exactly one action of its intent's payload kind; a probe route is audited once per change of outcome. */
export interface RouteBinding {
  readonly action: string;
  readonly probe: boolean;
}

/** A caller: where its token is, and what it may sign for. */
export interface SignerCallerConfig {
  readonly token_env?: string | undefined;
  readonly token_file?: string | undefined;
  /** Accounts this caller may sign for (UUIDs lowercased); any other is `caller_not_allowed`. */
  readonly accounts: readonly string[];
  /** Intents this caller may ask for; any other is `caller_not_allowed`. */
  readonly intents: readonly Intent[];
}

/** A validated signer config with defaults filled in and UUID account ids lowercased (secrets not loaded). */
export interface SignerConfig {
  readonly live: boolean;
  readonly vault: {
    readonly path: string;
    readonly passphrase_env?: string | undefined;
    readonly passphrase_file?: string | undefined;
  };
  /** The audit log: `sync` is its durability policy (`auditLog.ts`, default `group`); `key_*` its HMAC chain key. */
  readonly audit: {
    readonly path: string;
    readonly sync?: "line" | "group" | "never" | undefined;
    readonly key_env?: string | undefined;
    readonly key_file?: string | undefined;
  };
  readonly socket?: SignerSocketConfig | undefined;
  /**
   * Keys in a PKCS#11 token instead of the vault: the entry ids under
   * `accounts` are then key labels in that token (see `signerPipeline.ts`).
   */
  readonly pkcs11?: SignerPkcs11Config | undefined;
  readonly callers: Readonly<Record<string, SignerCallerConfig>>;
  readonly intents: Readonly<
    Partial<Record<Intent, { readonly routes: Readonly<Record<string, RouteBinding>> }>>
  >;
  /** Account → intent → the entry id of its key. */
  readonly accounts: Readonly<Record<string, Readonly<Partial<Record<Intent, string>>>>>;
  /** Account → intent → the entry id of its read-only key (replayable reads are signed with it, §3a). */
  readonly read_only_entries: Readonly<Record<string, Readonly<Partial<Record<Intent, string>>>>>;
  /** The signer's own clock limits (§3a). */
  readonly clock: { readonly max_clock_skew_ms: number; readonly max_recv_window_ms: number };
  /** The signer's own reference prices (§3a): static ones, and a file it re-reads (with a maximum age). */
  readonly reference_prices: SignerReferencePricesConfig;
  readonly policy: Readonly<Partial<Record<Intent, SignerPolicyConfig>>>;
}

/** The `socket` section: the path, and the limits that keep a caller from exhausting the signer (§7). */
export interface SignerSocketConfig {
  readonly path: string;
  readonly max_connections?: number | undefined;
  readonly max_connections_per_caller?: number | undefined;
  readonly idle_timeout_ms?: number | undefined;
  readonly frame_timeout_ms?: number | undefined;
  readonly unread_timeout_ms?: number | undefined;
  readonly max_unread_bytes?: number | undefined;
}

/** The `reference_prices` section. */
export interface SignerReferencePricesConfig {
  /** A price read from `file` older than this is no reference. */
  readonly max_age_ms: number;
  /** JSON `{ "<venue>": { "<symbol or token>": { "price": "…", "as_of_ms": … } } }`, re-read every `reload_ms`. */
  readonly file?: string | undefined;
  readonly reload_ms: number;
  /** Static prices by venue and symbol (or token id); they do not age. */
  readonly prices: Readonly<Partial<Record<"binance-usdm" | "polymarket", Readonly<Record<string, string>>>>>;
}

/** The `pkcs11` section: the module, the token and where its user PIN is read from. */
export interface SignerPkcs11Config {
  readonly module: string;
  readonly token_label: string;
  readonly pin_env?: string | undefined;
  readonly pin_file?: string | undefined;
}

/** One rolling window of a policy: its length and what it allows per account. */
export interface SignerWindowConfig {
  /** As written (`"1m"`, `"24h"`). */
  readonly window: string;
  readonly max_notional?: string | undefined;
  readonly max_orders?: number | undefined;
}

/** One intent's entry under `policy`: the signer's own hard limits (absent = not checked, except the keep-alive rate and countdown bound: defaults). */
export interface SignerPolicyConfig {
  readonly max_notional?: string | undefined;
  readonly symbols?: readonly string[] | undefined;
  readonly rate_per_account_per_s?: number | undefined;
  /** Cancels and cancel-capable reads (a replayable read signed with the trade key) per account per second. */
  readonly cancel_rate_per_account_per_s?: number | undefined;
  /** Dead-man keep-alives (countdowns, heartbeats) per account per second; 10 when absent. */
  readonly keepalive_rate_per_account_per_s?: number | undefined;
  /** The longest dead-man countdown (Binance `countdownTime`) signed, ms; 300 000 when absent. */
  readonly max_countdown_ms?: number | undefined;
  readonly windows?: readonly SignerWindowConfig[] | undefined;
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
  return deepFreeze(fromParsed(parsed.data));
}

/** The parsed file as a {@link SignerConfig}: account ids lowercased where UUIDs, entries split by key. */
function fromParsed(cfg: ParsedSignerConfig): SignerConfig {
  const accounts: Record<string, Partial<Record<Intent, string>>> = {};
  const readOnly: Record<string, Partial<Record<Intent, string>>> = {};
  for (const [account, byIntent] of Object.entries(cfg.accounts)) {
    const id = normalizeAccount(account);
    const entries: Partial<Record<Intent, string>> = {};
    const ro: Partial<Record<Intent, string>> = {};
    for (const [intent, entry] of Object.entries(byIntent) as [Intent, (typeof byIntent)[string]][]) {
      if (typeof entry === "string") {
        entries[intent] = entry;
      } else {
        entries[intent] = entry.entry;
        if (entry.read_only_entry !== undefined) ro[intent] = entry.read_only_entry;
      }
    }
    accounts[id] = entries;
    if (Object.keys(ro).length > 0) readOnly[id] = ro;
  }
  const callers: Record<string, SignerCallerConfig> = {};
  for (const [id, c] of Object.entries(cfg.callers)) {
    callers[id] = { ...c, accounts: c.accounts.map(normalizeAccount), intents: c.intents as Intent[] };
  }
  return {
    ...cfg,
    callers,
    intents: cfg.intents as SignerConfig["intents"],
    accounts,
    read_only_entries: readOnly,
    policy: cfg.policy as SignerConfig["policy"],
  };
}

/**
 * Reads and validates the signer config file at `path` (YAML for `.yaml` /
 * `.yml`, JSON otherwise). Relative paths in it (`vault.path`,
 * `vault.passphrase_file`, `audit.path`, `audit.key_file`, `socket.path`,
 * `callers.*.token_file`, `reference_prices.file`, `pkcs11.module`, `pkcs11.pin_file`)
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
  const audit = { ...config.audit, path: abs(config.audit.path) };
  if (audit.key_file !== undefined) audit.key_file = abs(audit.key_file);
  const prices = config.reference_prices;
  return deepFreeze({
    ...config,
    vault,
    audit,
    reference_prices: prices.file === undefined ? prices : { ...prices, file: abs(prices.file) },
    ...(config.socket === undefined ? {} : { socket: { ...config.socket, path: abs(config.socket.path) } }),
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
 * Loads one secret a signer config section names (`vault` → passphrase,
 * `callers.<id>` → token, `audit` → key, `pkcs11` → pin) from the environment
 * or a file, as {@link SecretBytes}, with the shared reader
 * (`config/readCredential.ts`: one trailing line break of a file is not part
 * of the secret). A missing, empty or unreadable secret is a
 * {@link ConfigError} naming the field (never the value). `requirePrivate`
 * refuses a file open to group or others (the signer process's files).
 * @example await loadSignerSecret({ ref: config.vault, name: "passphrase", field: "vault", env: process.env })
 */
export function loadSignerSecret<N extends SignerSecretName>(
  opts: SignerSecretOptions<N>,
): Promise<SecretBytes> {
  const { ref, name, field, env, requirePrivate } = opts;
  return readConfigCredential({ holder: ref, name, field, env, requirePrivate });
}

/** Which signer secret to load, and from where. */
export interface SignerSecretOptions<N extends SignerSecretName> {
  /** The config section naming it (`config.vault`, `config.callers[id]`, …). */
  readonly ref: SignerSecretRef<N>;
  readonly name: N;
  /** The section's dotted path; errors name `<field>.<name>_env` or `_file`. */
  readonly field: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Refuse a file open to group or others (the signer process's own files). */
  readonly requirePrivate?: boolean | undefined;
}

/** The secrets a signer config names. */
export type SignerSecretName = "passphrase" | "token" | "key" | "pin";

/** A config section naming secret `N` by `<N>_env` or `<N>_file`. */
export type SignerSecretRef<N extends SignerSecretName> = {
  readonly [K in `${N}_env` | `${N}_file`]?: string | undefined;
};
