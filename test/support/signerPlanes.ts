/**
 * Builds signing planes for the plane conformance suite (test/conformance/planeConformance.ts)
 * from ONE shared scenario: callers, enabled intents and routes, accounts →
 * key ids, the signer's policy, and the key material to provision. Each
 * builder turns the scenario into a real signer config file and real key
 * storage (a vault file, or a PKCS#11 token), so every plane is asked the same
 * questions about the same keys.
 */
import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { SecretBytes } from "../../src/core/auth/secretBytes.js";
import type { Intent, SigningPlane } from "../../src/ports/signingPlane.js";
import { openAuditLog } from "../../src/signer/audit/auditLog.js";
import { createLocalPlane } from "../../src/signer/localPlane.js";
import { defaultPayloadHandlers } from "../../src/signer/payloads/registry.js";
import { createRemotePlane } from "../../src/signer/remote/remotePlaneClient.js";
import { loadSignerConfig, type SignerPolicyConfig } from "../../src/signer/signerConfig.js";
import { Vault } from "../../src/signer/vault/vault.js";
import { startSigner } from "./signerProcess.js";

const ROOT = resolve(import.meta.dirname, "../..");
/** The preload that pins a signer child's clock (`IG_TEST_FIXED_CLOCK_MS`). */
export const FIXED_CLOCK_PRELOAD = join(ROOT, "test/support/fixedClock.ts");

/** One key to provision. `state: "corrupted"` provisions it damaged (each plane in its own way). */
export type ScenarioKey =
  | {
      readonly id: string;
      readonly kind: "hmac";
      /** The secret as the venue hands it out (text); `base64` secrets are decoded before use (Polymarket L2). */
      readonly secret: string;
      readonly encoding: "raw" | "base64";
      readonly state?: "corrupted";
    }
  | {
      readonly id: string;
      readonly kind: "secp256k1";
      /** 32 bytes, hex without 0x. */
      readonly privateKeyHex: string;
      readonly state?: "corrupted";
    };

/** A route's binding as the signer config writes it: its action, or `{ action, probe }`. */
export type ScenarioRoute = string | { readonly action: string; readonly probe?: boolean };

/** An account's key for one intent: an entry id, or `{ entry, read_only_entry }`. */
export type ScenarioEntry = string | { readonly entry: string; readonly read_only_entry?: string };

/** Everything a plane is built from; a key id an account names but `keys` lacks is provisioned nowhere. */
export interface PlaneScenario {
  /** Caller ids the signer knows; the first is the one the suite signs as. */
  readonly callers: readonly [string, ...string[]];
  /**
   * What each caller may sign for (signing-plane-v1 §3 `caller_not_allowed`);
   * a caller not listed may sign for every account and intent of the scenario.
   */
  readonly callerScopes?: Readonly<
    Record<string, { readonly accounts: readonly string[]; readonly intents: readonly Intent[] }>
  >;
  /** Route → its one action, per intent. */
  readonly intents: Readonly<
    Partial<Record<Intent, { readonly routes: Readonly<Record<string, ScenarioRoute>> }>>
  >;
  readonly accounts: Readonly<Record<string, Readonly<Partial<Record<Intent, ScenarioEntry>>>>>;
  readonly policy: Readonly<Partial<Record<Intent, SignerPolicyConfig>>>;
  /** The signer's own reference prices (static, by venue and symbol or token id). */
  readonly referencePrices?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** The signer's clock limits (`clock` section). */
  readonly clock?: { readonly max_clock_skew_ms?: number; readonly max_recv_window_ms?: number };
  readonly keys: readonly ScenarioKey[];
}

/** Options of a {@link PlaneSetup}. */
export interface PlaneSetupOptions {
  /** Pins the plane's clock (every plane, the signer process too) at this time, for documented vectors. */
  readonly clockMs?: number;
}

/** A ready plane plus what the suite needs to check it. */
export interface PlaneHarness {
  readonly plane: SigningPlane;
  /** The audit log the plane writes (read by the suite, never written). */
  readonly auditPath: string;
  /** The key its lines are MACed with (for `verifyAuditFile`). */
  readonly auditKey: Buffer;
  /**
   * Whether a request naming a caller other than the authenticated one reaches
   * the audited pipeline. Every plane here does: the remote client sends the
   * claimed caller along and the signer denies and audits it (`unknown_caller`,
   * under the claimed caller), never signing as anyone but the token's caller.
   */
  readonly auditsUnknownCaller: boolean;
  /**
   * Whose name that audit line carries: the caller the request claimed (an
   * in-process plane, where the claim is the transport's identity), or the
   * caller the transport authenticated (the remote plane: its signer never
   * trusts a claimed name).
   */
  readonly unknownCallerAuditedAs?: "claimed" | "authenticated";
  /** Harness-held secrets (caller tokens, vault passphrase, PIN) that must never show up anywhere. */
  readonly harnessSecrets: readonly string[];
  /** Output of a signer process, if any (checked for secrets too). */
  readonly logs?: () => string;
  /**
   * A second plane from the same scenario whose key storage cannot be opened
   * at all (pkcs11: a wrong PIN), with its own audit file. Absent where such a
   * plane refuses to start instead (local, remote: the vault is opened and
   * its passphrase checked at start-up).
   */
  readonly openWithStorageFailure?: () => Promise<{
    readonly plane: SigningPlane;
    readonly auditPath: string;
    readonly auditKey: Buffer;
  }>;
  close(): Promise<void>;
}

export type PlaneSetup = (
  scenario: PlaneScenario,
  dir: string,
  opts?: PlaneSetupOptions,
) => Promise<PlaneHarness>;

/** The environment variable the scenario's signer config reads the audit key from. */
export const AUDIT_KEY_ENV = "IG_CONF_AUDIT_KEY";

/**
 * The signer config file for a scenario (callers' tokens, the passphrase and
 * the audit key come from the named env vars: `IG_CONF_TOKEN_<i>`,
 * `IG_CONF_VAULT_PASS`, {@link AUDIT_KEY_ENV}).
 */
export function signerConfigFor(
  scenario: PlaneScenario,
  paths: { vault: string; audit: string; socket?: string },
): Record<string, unknown> {
  const allAccounts = Object.keys(scenario.accounts);
  const allIntents = Object.keys(scenario.intents);
  return {
    live: false,
    vault: { path: paths.vault, passphrase_env: "IG_CONF_VAULT_PASS" },
    audit: { path: paths.audit, key_env: AUDIT_KEY_ENV },
    ...(paths.socket === undefined ? {} : { socket: { path: paths.socket } }),
    callers: Object.fromEntries(
      scenario.callers.map((c, i) => [
        c,
        {
          token_env: `IG_CONF_TOKEN_${i}`,
          accounts: scenario.callerScopes?.[c]?.accounts ?? allAccounts,
          intents: scenario.callerScopes?.[c]?.intents ?? allIntents,
        },
      ]),
    ),
    intents: scenario.intents,
    accounts: scenario.accounts,
    ...(scenario.referencePrices === undefined
      ? {}
      : { reference_prices: { prices: scenario.referencePrices } }),
    ...(scenario.clock === undefined ? {} : { clock: scenario.clock }),
    policy: scenario.policy,
  };
}

/** A fresh caller token or audit key: 32 random bytes, base64url (the signer's strength rule). */
export function freshSecret(): string {
  return randomBytes(32).toString("base64url");
}

/** The bytes a vault entry holds for a key (an L2 secret is stored as its base64 text, as the venue issues it). */
function vaultBytes(key: ScenarioKey): Buffer {
  return key.kind === "hmac" ? Buffer.from(key.secret, "utf8") : Buffer.from(key.privateKeyHex, "hex");
}

/**
 * Writes a vault with every key of the scenario (cheap scrypt). A
 * `corrupted` key is added, then its ciphertext is damaged on disk (still
 * well-formed base64, so the vault opens and only that entry fails).
 */
export async function provisionVault(
  scenario: PlaneScenario,
  path: string,
  passphrase: string,
): Promise<void> {
  const vault = await Vault.init(path, passphrase, { scrypt: { N: 1024 } });
  try {
    for (const key of scenario.keys) await vault.add(key.id, key.kind, vaultBytes(key));
  } finally {
    vault.close();
  }
  const corrupted = new Set(scenario.keys.filter((k) => k.state === "corrupted").map((k) => k.id));
  if (corrupted.size === 0) return;
  const doc = JSON.parse(await readFile(path, "utf8")) as { entries: { id: string; ct: string }[] };
  for (const entry of doc.entries) {
    if (!corrupted.has(entry.id)) continue;
    const ct = Buffer.from(entry.ct, "base64");
    ct[0] = (ct[0] ?? 0) ^ 0xff;
    entry.ct = ct.toString("base64");
  }
  await writeFile(path, `${JSON.stringify(doc, null, 2)}\n`, { mode: 0o600 });
}

/** Fresh harness secrets for one plane. */
function freshSecrets(scenario: PlaneScenario): { passphrase: string; tokens: string[]; auditKey: string } {
  return {
    passphrase: `pass-${randomBytes(12).toString("hex")}`,
    tokens: scenario.callers.map(() => freshSecret()),
    auditKey: freshSecret(),
  };
}

/** The local plane: `createLocalPlane` over a real vault file and audit log, config loaded from its file. */
export const setUpLocalPlane: PlaneSetup = async (scenario, dir, opts = {}) => {
  const { passphrase, tokens, auditKey } = freshSecrets(scenario);
  const vaultPath = join(dir, "vault.json");
  const auditPath = join(dir, "audit.jsonl");
  await provisionVault(scenario, vaultPath, passphrase);
  const configPath = join(dir, "signer.json");
  await writeFile(
    configPath,
    JSON.stringify(signerConfigFor(scenario, { vault: vaultPath, audit: auditPath })),
  );
  const config = await loadSignerConfig(configPath);
  const vault = await Vault.open(config.vault.path, passphrase);
  const fixed = opts.clockMs;
  const plane = createLocalPlane({
    config,
    keyStore: vault,
    handlers: defaultPayloadHandlers(),
    audit: await openAuditLog(config.audit.path, { sync: "never", key: Buffer.from(auditKey) }),
    ...(fixed === undefined ? {} : { clock: () => fixed }),
  });
  return {
    plane,
    auditPath,
    auditKey: Buffer.from(auditKey),
    auditsUnknownCaller: true,
    harnessSecrets: [passphrase, ...tokens, auditKey],
    async close() {
      await plane.close();
      vault.close();
    },
  };
};

/**
 * The remote plane: a real `intentgate signer --config F` child process with
 * its own vault and audit file, reached through `createRemotePlane` as the
 * scenario's first caller.
 */
export const setUpRemotePlane: PlaneSetup = async (scenario, dir, opts = {}) => {
  const { passphrase, tokens, auditKey } = freshSecrets(scenario);
  const vaultPath = join(dir, "vault.json");
  const auditPath = join(dir, "audit.jsonl");
  const socketPath = join(dir, "signer.sock");
  await provisionVault(scenario, vaultPath, passphrase);
  const env: Record<string, string> = { IG_CONF_VAULT_PASS: passphrase, [AUDIT_KEY_ENV]: auditKey };
  tokens.forEach((t, i) => {
    env[`IG_CONF_TOKEN_${i}`] = t;
  });
  if (opts.clockMs !== undefined) env.IG_TEST_FIXED_CLOCK_MS = String(opts.clockMs);
  const signer = await startSigner({
    dir,
    config: signerConfigFor(scenario, { vault: "vault.json", audit: "audit.jsonl", socket: "signer.sock" }),
    env,
    ...(opts.clockMs === undefined ? {} : { preload: [FIXED_CLOCK_PRELOAD] }),
  });
  const plane = createRemotePlane({
    socketPath,
    caller: scenario.callers[0],
    token: new SecretBytes(Buffer.from(tokens[0]!, "utf8")),
    timeoutMs: 5000,
  });
  return {
    plane,
    auditPath,
    auditKey: Buffer.from(auditKey),
    auditsUnknownCaller: true,
    unknownCallerAuditedAs: "authenticated",
    harnessSecrets: [passphrase, ...tokens, auditKey],
    logs: () => signer.output(),
    async close() {
      await plane.close();
      const code = await signer.stop();
      if (code !== 0) throw new Error(`signer exited with ${code}; output:\n${signer.output()}`);
    },
  };
};
