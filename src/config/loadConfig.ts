import { createPublicKey } from "node:crypto";
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { ed25519PublicKeyWeakness, MIN_HMAC_SECRET_BYTES } from "../core/auth/keyStrength.js";
import type { SecretBytes } from "../core/auth/secretBytes.js";
import { type Decimal, parseDecimal } from "../core/decimal.js";
import type { Lane, VenueName } from "../core/plan.js";
import type { Limits, Policy, SourcePolicy, VerifyKey } from "../core/policy.js";
import type { LivePrice } from "../core/referencePrice.js";
import { ConfigError, type ConfigIssue, FILE_FIELD } from "./configError.js";
import { configSchema, type ExecutorConfig, type KeyConfig } from "./configSchema.js";
import {
  type ConfigFormat,
  deepFreeze,
  errCode,
  formatOf,
  parseJsonText,
  parseYamlText,
  zodIssues,
} from "./configText.js";
import { readConfigCredential } from "./readCredential.js";

export type { ConfigFormat };
export { formatOf };

/** A validated config, its secrets loaded into the frozen {@link Policy} the gates read. */
export interface LoadedConfig {
  /** The validated config with defaults filled in; holds secret names and paths, never secret values. */
  readonly config: ExecutorConfig;
  /** The policy snapshot built from it (secrets wrapped in {@link SecretBytes}). */
  readonly policy: Policy;
  /** The file it came from, when loaded from a file. */
  readonly path: string | undefined;
  /** The directory relative paths in the config (secret files, the signer socket) resolve against. */
  readonly baseDir: string;
}

/** Environment variable that overrides `exit_owner` (wire-v1 §8). */
export const EXIT_OWNER_ENV = "INTENTGATE_EXIT_OWNER";
/** The second key of the live guard: live orders need `live: true` in the config AND this set to `1`. */
export const LIVE_ENV = "INTENTGATE_LIVE";

/**
 * Reads, validates and resolves the config file at `path` (YAML for `.yaml` /
 * `.yml`, JSON otherwise). Relative `secret_file` paths are resolved against
 * the config file's directory. Every failure is a {@link ConfigError}.
 */
export async function loadConfig(
  path: string,
  env: Record<string, string | undefined>,
): Promise<LoadedConfig> {
  const text = await readConfigText(path);
  return parseConfigText(text, formatOf(path), env, { baseDir: dirname(resolve(path)), path });
}

/**
 * Reads and validates the config file without loading any secret or building
 * the policy: for tools (the CLI's `state`, `submit`, `results`, `positions`)
 * that need only the bus settings and key algorithms, and must not need every
 * executor secret in their environment.
 */
export async function readConfigFile(path: string): Promise<ExecutorConfig> {
  return validateConfigText(await readConfigText(path), formatOf(path), dirname(resolve(path)));
}

/** The config file's text; an unreadable file is a {@link ConfigError} on the file. */
async function readConfigText(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    throw new ConfigError({
      field: FILE_FIELD,
      message: `cannot read config file ${path} (${errCode(err)})`,
    });
  }
}

/**
 * Parses and validates config text (no secrets loaded). A relative
 * `sqlite:` bus path is resolved against `baseDir` (the config file's folder),
 * so every process reading one config file uses one bus, wherever it was
 * started.
 */
export async function validateConfigText(
  text: string,
  format: ConfigFormat,
  baseDir: string = process.cwd(),
): Promise<ExecutorConfig> {
  const raw = format === "yaml" ? await parseYamlText(text) : parseJsonText(text);
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(zodIssues(parsed.error.issues));
  return deepFreeze({ ...parsed.data, bus: resolveBusUrl(parsed.data.bus, baseDir) });
}

/** `sqlite:<relative path>` → `sqlite:<absolute path>` against `baseDir`; other URLs unchanged. */
export function resolveBusUrl(bus: string, baseDir: string): string {
  if (!bus.startsWith("sqlite:")) return bus;
  return `sqlite:${resolve(baseDir, bus.slice("sqlite:".length))}`;
}

/**
 * Like {@link loadConfig} on text already in memory. `baseDir` (default: the
 * working directory) resolves relative `secret_file` paths.
 */
export async function parseConfigText(
  text: string,
  format: ConfigFormat,
  env: Record<string, string | undefined>,
  opts: { baseDir?: string; path?: string } = {},
): Promise<LoadedConfig> {
  const baseDir = opts.baseDir ?? process.cwd();
  const config = await validateConfigText(text, format, baseDir);
  const policy = await buildPolicy(config, env, baseDir);
  return Object.freeze({ config, policy, path: opts.path, baseDir });
}

// ---------------------------------------------------------------------------
// Parsing. Parser messages can quote the offending text, which might be a
// secret someone pasted inline, so only positions are reported.

// ---------------------------------------------------------------------------
// Schema issues → ConfigIssues with dotted field paths.

// ---------------------------------------------------------------------------
// Policy.

/**
 * The policy a producer pre-checks its plans against (wire-v1 §8 `check`):
 * built as the executor builds it, except that an HMAC key whose secret this
 * process cannot read is left out (a producer holds its own key, not every
 * other one) and named in `omittedKeys`, so a pre-check can tell a denial
 * it is sure of from one it cannot judge. Every other problem is a
 * {@link ConfigError}, as for the executor.
 */
export async function producerPolicy(
  config: ExecutorConfig,
  env: Record<string, string | undefined>,
  baseDir: string,
): Promise<{ readonly policy: Policy; readonly omittedKeys: ReadonlySet<string> }> {
  const omittedKeys = new Set<string>();
  const policy = await buildPolicy(config, env, baseDir, omittedKeys);
  return { policy, omittedKeys };
}

/** `omitUnreadable`: collects HMAC keys whose secret cannot be read instead of failing on them. */
async function buildPolicy(
  config: ExecutorConfig,
  env: Record<string, string | undefined>,
  baseDir: string,
  omitUnreadable?: Set<string>,
): Promise<Policy> {
  const issues: ConfigIssue[] = [];
  const keys = new Map<string, VerifyKey>();
  for (const [keyId, kc] of Object.entries(config.keys)) {
    const keyIssues: ConfigIssue[] = [];
    const key = await buildKey(keyId, kc, { env, baseDir, issues: keyIssues });
    if (key !== undefined) keys.set(keyId, Object.freeze(key));
    else if (omitUnreadable !== undefined && kc.alg === "hmac-sha256" && unreadableSecret(keyIssues))
      omitUnreadable.add(keyId);
    else issues.push(...keyIssues);
  }
  if (issues.length > 0) throw new ConfigError(issues);

  const sources = new Map<string, SourcePolicy>();
  for (const [name, sc] of Object.entries(config.sources)) {
    sources.set(
      name,
      Object.freeze({ lanes: frozenSet<Lane>(sc.lanes as Lane[]), requireAuth: sc.require_auth }),
    );
  }

  const maxQty = new Map<string, Decimal>();
  for (const [symbol, text] of Object.entries(config.limits.max_qty ?? {})) maxQty.set(symbol, dec(text));
  const limits: Limits = Object.freeze({
    maxQty: frozenMap(maxQty),
    maxNotional: config.limits.max_notional === undefined ? undefined : dec(config.limits.max_notional),
    ratePerSourcePerS: config.limits.rate_per_source_per_s,
    maxKellyFraction: config.limits.max_kelly_fraction,
    maxPlanAgeMs: config.limits.max_plan_age_ms,
    maxClockSkewMs: config.limits.max_clock_skew_ms,
    maxPriceAgeMs: config.limits.max_price_age_ms,
    duplicateWindowMs: config.limits.duplicate_window_ms,
    priceBandPct: frozenMap(
      new Map(Object.entries(config.limits.price_band_pct ?? {}).map(([s, text]) => [s, dec(text)])),
    ),
    maxDailyNotional: frozenMap(
      new Map(
        Object.entries(perAccount(config.limits.max_daily_notional)).map(([a, text]) => [a, dec(text)]),
      ),
    ),
    maxOpenOrders: frozenMap(new Map(Object.entries(perAccount(config.limits.max_open_orders)))),
    maxPosition: frozenMap(
      new Map(Object.entries(config.limits.max_position ?? {}).map(([s, text]) => [s, dec(text)])),
    ),
    maxGrossNotional: frozenMap(
      new Map(
        Object.entries(perAccount(config.limits.max_gross_notional)).map(([a, text]) => [a, dec(text)]),
      ),
    ),
  });

  const referencePrices = new Map<string, Decimal>();
  for (const [symbol, text] of Object.entries(config.venues.paper?.prices ?? {}))
    referencePrices.set(symbol, dec(text));

  const enabledVenues = new Set<VenueName>(["paper"]);
  for (const v of Object.keys(config.venues)) enabledVenues.add(v as VenueName);

  const envOwner = env[EXIT_OWNER_ENV];
  const exitOwner = envOwner !== undefined && envOwner !== "" ? envOwner : config.exit_owner;
  if (exitOwner !== undefined && !sources.has(exitOwner)) {
    // The schema already checked exit_owner itself: this is the environment override.
    throw new ConfigError({
      field: "exit_owner",
      message: `${EXIT_OWNER_ENV} names no configured source ("${exitOwner}"); every reduce_only plan would be denied`,
    });
  }

  return Object.freeze({
    requireAuth: config.require_auth,
    keys: frozenMap(keys),
    sources: frozenMap(sources),
    exitOwner,
    permits: Object.freeze({ required: config.permits.required, issuers: frozenSet(config.permits.issuers) }),
    limits,
    paperRestLimits: config.venues.paper?.rest_limits ?? false,
    onHalt: config.on_halt,
    onReducing: config.on_reducing,
    referencePrices: frozenMap(referencePrices),
    livePrices: frozenMap(new Map<string, LivePrice>()),
    enabledVenues: frozenSet(enabledVenues),
    live: config.live,
    liveEnv: env[LIVE_ENV] === "1",
    readyVenues: frozenMap(new Map<VenueName, ReadonlySet<string>>()),
    liveFallback: config.live_fallback,
  });
}

/** Whether a key's only problem is that its secret could not be read (not one that is there but too short). */
function unreadableSecret(issues: readonly ConfigIssue[]): boolean {
  return issues.length > 0 && issues.every((i) => !/must be at least/.test(i.message));
}

/** Builds one verify key; a problem is pushed onto `issues` (every key is checked before the config fails). */
async function buildKey(
  keyId: string,
  kc: KeyConfig,
  ctx: {
    readonly env: Record<string, string | undefined>;
    readonly baseDir: string;
    readonly issues: ConfigIssue[];
  },
): Promise<VerifyKey | undefined> {
  const { env, baseDir, issues } = ctx;
  const role = kc.role ?? "producer";
  const field = `keys.${keyId}`;
  if (kc.alg === "hmac-sha256") {
    let secret: SecretBytes;
    try {
      secret = await readConfigCredential({ holder: kc, name: "secret", field, env, baseDir });
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      issues.push(...err.issues);
      return undefined;
    }
    if (secret.length < MIN_HMAC_SECRET_BYTES) {
      const where = kc.secret_env !== undefined ? "secret_env" : "secret_file";
      issues.push({
        field: `${field}.${where}`,
        message: `the secret is ${secret.length} bytes; an HMAC secret must be at least ${MIN_HMAC_SECRET_BYTES} bytes (intentgate keys gen makes one)`,
      });
      secret.expose().fill(0);
      return undefined;
    }
    return { keyId, alg: "hmac-sha256", secret, source: kc.source, role };
  }
  const weakness = ed25519PublicKeyWeakness(Buffer.from(kc.public_key ?? "", "base64url"));
  if (weakness !== undefined) {
    issues.push({
      field: `${field}.public_key`,
      message:
        weakness === "small_order"
          ? "is a small-order Ed25519 point (signatures under it can be forged without a private key)"
          : "is not the canonical encoding of an Ed25519 public key",
    });
    return undefined;
  }
  try {
    const publicKey = createPublicKey({
      key: { kty: "OKP", crv: "Ed25519", x: kc.public_key ?? "" },
      format: "jwk",
    });
    return { keyId, alg: "ed25519", publicKey, source: kc.source, role };
  } catch {
    issues.push({ field: `${field}.public_key`, message: "is not a usable Ed25519 public key" });
    return undefined;
  }
}

function dec(text: string): Decimal {
  const d = parseDecimal(text);
  if (d === undefined) throw new Error("unreachable: decimal validated by the schema");
  return d;
}

// ---------------------------------------------------------------------------
// Immutability: Object.freeze does not stop Map.set / Set.add, so the
// mutators of these instances throw.

function readOnly(): never {
  throw new TypeError("policy is read-only");
}

function frozenMap<K, V>(map: Map<K, V>): ReadonlyMap<K, V> {
  const m = new Map(map);
  for (const name of ["set", "delete", "clear"]) Object.defineProperty(m, name, { value: readOnly });
  return Object.freeze(m);
}

function frozenSet<T>(items: Iterable<T>): ReadonlySet<T> {
  const s = new Set(items);
  for (const name of ["add", "delete", "clear"]) Object.defineProperty(s, name, { value: readOnly });
  return Object.freeze(s);
}

/** An account cap as a map: one value for every account becomes `{"*": value}`. */
function perAccount<T extends string | number>(cap: T | Record<string, T> | undefined): Record<string, T> {
  if (cap === undefined) return {};
  return typeof cap === "object" ? cap : { "*": cap };
}
