import type { SigningPlane, SignOutcome } from "../ports/signingPlane.js";
import { type AuditSink, openAuditLog } from "./audit/auditLog.js";
import type { PayloadHandlers } from "./intents.js";
import { SignerEngine } from "./localPlane.js";
import { defaultPayloadHandlers } from "./payloads/registry.js";
import { loadSignerSecret, type SignerConfig } from "./signerConfig.js";

/**
 * What a signer process serves, built from its config alone: the signing
 * engine with the config's audit policy (`audit.sync`), over the vault, or,
 * when the config has a `pkcs11` section, over that token (the account
 * entry ids are then key labels in the token; the vault is not opened).
 * `intentgate signer` serves `plane` on its socket.
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
}

/**
 * Opens the config's key storage and audit log and builds the plane. Secrets
 * (vault passphrase, token PIN) are read from the environment or the files
 * the config names. Throws what the storage or the audit log throws
 * (`KeyStoreError`, `Pkcs11TokenError`, `AuditLogError`, `ConfigError`): a
 * signer whose keys cannot be reached does not start.
 */
export async function openSignerPipeline(
  config: SignerConfig,
  env: Readonly<Record<string, string | undefined>>,
  opts: SignerPipelineOptions = {},
): Promise<SignerPipeline> {
  const handlers = opts.handlers ?? defaultPayloadHandlers();
  if (config.pkcs11 !== undefined) {
    const [{ createPkcs11Plane }, { loadPkcs11Pin }] = await Promise.all([
      import("./pkcs11/pkcs11Plane.js"),
      import("./pkcs11/pkcs11Token.js"),
    ]);
    const p11 = config.pkcs11;
    const pin = await loadPkcs11Pin(p11, env);
    const audit = await openAuditLog(config.audit.path, { sync: config.audit.sync });
    const plane = createPkcs11Plane({
      config,
      handlers,
      audit,
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

  const { Vault } = await import("./vault/vault.js");
  const passphrase = await loadSignerSecret(config.vault, "passphrase", "vault", env);
  const vault = await Vault.open(config.vault.path, passphrase);
  let audit: AuditSink | undefined;
  try {
    audit = await openAuditLog(config.audit.path, { sync: config.audit.sync });
    const engine = new SignerEngine({
      config,
      keyStore: vault,
      handlers,
      audit,
      ...(opts.ecdsaWorkers === undefined ? {} : { ecdsaWorkers: opts.ecdsaWorkers }),
    });
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
    await audit?.close().catch(() => undefined);
    vault.close();
    throw err;
  }
}

function auditSync(config: SignerConfig): string {
  return config.audit.sync ?? "group";
}
