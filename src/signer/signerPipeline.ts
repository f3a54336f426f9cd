import type { SecretBytes } from "../core/auth/secretBytes.js";
import type { SigningPlane, SignOutcome } from "../ports/signingPlane.js";
import { type AuditSink, openAuditLog } from "./audit/auditLog.js";
import type { PayloadHandlers } from "./intents.js";
import { defaultPayloadHandlers } from "./payloads/registry.js";
import { PolicyLedger } from "./policy/policyLedger.js";
import { openReferencePrices, type ReferencePrices } from "./policy/referencePrices.js";
import { windowRestorer } from "./policy/restoreWindows.js";
import { type RemoteLogger, SILENT_LOGGER } from "./remote/logger.js";
import { loadStrongSecret } from "./secretStrength.js";
import { loadSignerSecret, type SignerConfig } from "./signerConfig.js";
import { SignerEngine } from "./signerEngine.js";
import { checkSignerFiles } from "./signerFiles.js";

/** The signer reads its secrets only from files no group or other may read or write (checked on the open file). */
const PRIVATE = { requirePrivate: true } as const;

/**
 * What a signer process serves, built from its config alone: the signing
 * engine with the config's audit policy (`audit.sync`) and key, over the
 * vault, or, when the config has a `pkcs11` section, over that token (the
 * account entry ids are then key labels in the token; the vault is not
 * opened). `intentgate signer` serves `plane` on its socket.
 */
export interface SignerPipeline {
  /** The engine or the PKCS#11 plane; both audit a request whose client claims another caller. */
  readonly plane: SigningPlane & {
    denyClaimedCaller(claimedCaller: string, request: unknown): Promise<SignOutcome>;
  };
  /** Where the keys are. */
  readonly keys: "vault" | "pkcs11";
  /** For the ready log line: names and counts, never a secret. */
  readonly summary: Readonly<Record<string, unknown>>;
  /** Stops the plane (answering what is in flight), closes the audit log, the token or the vault. */
  close(): Promise<void>;
}

/** Options of {@link openSignerPipeline}. */
export interface SignerPipelineOptions {
  /** Handlers by payload kind (default: every built-in kind). */
  readonly handlers?: PayloadHandlers;
  /** ECDSA worker threads for vault keys (default `"auto"`, see `SignerEngineOptions.ecdsaWorkers`). */
  readonly ecdsaWorkers?: number | "auto";
  /** Where warnings go (a reference price file that stopped parsing, …). */
  readonly logger?: RemoteLogger;
  /** The signer's clock (default `Date.now`). */
  readonly clock?: () => number;
}

/**
 * Opens the config's key storage and audit log and builds the plane. Before
 * any secret is read, every signer file is checked (`signerFiles.ts`: none
 * may be open to group or others). Secrets (vault passphrase, token PIN,
 * audit key) are read from the environment or the files the config names.
 * The audit log is verified whole under its key and locked, and the rolling
 * windows are rebuilt from it. Throws what the checks, the storage or the
 * audit log throw (`FilePermissionError`, `KeyStoreError`,
 * `Pkcs11TokenError`, `AuditLogError`, `ReferencePriceFileError`,
 * `ConfigError`): a signer whose keys or records cannot be trusted does not
 * start.
 */
export async function openSignerPipeline(
  config: SignerConfig,
  env: Readonly<Record<string, string | undefined>>,
  opts: SignerPipelineOptions = {},
): Promise<SignerPipeline> {
  const handlers = opts.handlers ?? defaultPayloadHandlers();
  const logger = opts.logger ?? SILENT_LOGGER;
  const clock = opts.clock ?? Date.now;
  await checkSignerFiles(config);
  const auditKey = await loadStrongSecret({
    ref: config.audit,
    name: "key",
    field: "audit",
    env,
    ...PRIVATE,
  });
  let prices: ReferencePrices | undefined;
  let audit: AuditSink | undefined;
  const cleanup = async () => {
    await audit?.close().catch(() => undefined);
    prices?.close();
    auditKey.expose().fill(0);
  };
  try {
    prices = await openReferencePrices(config.reference_prices, { logger });
    const ledger = new PolicyLedger();
    const openAudit = async () =>
      openAuditLog(config.audit.path, {
        key: auditKey,
        sync: config.audit.sync,
        onRecord: windowRestorer(config, ledger, clock()),
      });
    if (config.pkcs11 !== undefined) {
      return await openPkcs11(config, env, { handlers, clock, prices, ledger, openAudit, auditKey });
    }
    const { Vault } = await import("./vault/vault.js");
    const passphrase = await loadSignerSecret({
      ref: config.vault,
      name: "passphrase",
      field: "vault",
      env,
      ...PRIVATE,
    });
    const vault = await Vault.open(config.vault.path, passphrase);
    try {
      audit = await openAudit();
      const engine = new SignerEngine({
        config,
        keyStore: vault,
        handlers,
        audit,
        clock,
        referencePrices: prices,
        ledger,
        ...(opts.ecdsaWorkers === undefined ? {} : { ecdsaWorkers: opts.ecdsaWorkers }),
      });
      auditKey.expose().fill(0);
      if (config.intents.per_user_clob_signer !== undefined) engine.warmUp();
      return {
        plane: engine,
        keys: "vault",
        summary: { keys: "vault", vault_entries: vault.list().length, audit_sync: auditSync(config) },
        async close() {
          try {
            await engine.close();
          } finally {
            vault.close();
          }
        },
      };
    } catch (err) {
      vault.close();
      throw err;
    }
  } catch (err) {
    await cleanup();
    throw err;
  }
}

async function openPkcs11(
  config: SignerConfig,
  env: Readonly<Record<string, string | undefined>>,
  o: {
    readonly handlers: PayloadHandlers;
    readonly clock: () => number;
    readonly prices: ReferencePrices;
    readonly ledger: PolicyLedger;
    readonly openAudit: () => Promise<AuditSink>;
    readonly auditKey: SecretBytes;
  },
): Promise<SignerPipeline> {
  const { createPkcs11Plane } = await import("./pkcs11/pkcs11Plane.js");
  const p11 = config.pkcs11!;
  const pin = await loadSignerSecret({ ref: p11, name: "pin", field: "pkcs11", env, ...PRIVATE });
  const audit = await o.openAudit();
  o.auditKey.expose().fill(0);
  const plane = createPkcs11Plane({
    config,
    handlers: o.handlers,
    audit,
    clock: o.clock,
    referencePrices: o.prices,
    ledger: o.ledger,
    token: { module: p11.module, tokenLabel: p11.token_label, pin },
  });
  try {
    await plane.connect();
  } catch (err) {
    await plane.close().catch(() => undefined);
    throw err;
  }
  return {
    plane,
    keys: "pkcs11",
    summary: { keys: "pkcs11", token: p11.token_label, audit_sync: auditSync(config) },
    close: () => plane.close(),
  };
}

function auditSync(config: SignerConfig): string {
  return config.audit.sync ?? "group";
}
