/**
 * The signer's public entry: the only `src/signer/` module code outside the
 * signer may import (test/architecture/importBoundaries.test.ts), the CLI
 * included. It hands out {@link SigningPlane}s, and the operations the
 * `signer`, `vault` and `audit` commands run; the vault, key stores and plane
 * internals stay behind it (loaded lazily, so a process using the remote
 * plane never even loads the vault code).
 */
import { resolve } from "node:path";
import { readConfigCredential } from "../config/readCredential.js";
import type { SecretBytes } from "../core/auth/secretBytes.js";
import type { SigningPlane } from "../ports/signingPlane.js";
import type { AuditVerifyResult } from "./audit/verifyAudit.js";
import type { RemoteLogger } from "./remote/logger.js";
import type { SignerServer, SignerServerOptions } from "./remote/signerServer.js";
import type { SignerConfig } from "./signerConfig.js";
import type { SignerPipeline, SignerPipelineOptions } from "./signerPipeline.js";
import type { Passphrase, Vault } from "./vault/vault.js";

export type { AuditVerifyResult } from "./audit/verifyAudit.js";
export type { RemoteLogger } from "./remote/logger.js";
export { createRemotePlane, type RemotePlaneOptions } from "./remote/remotePlaneClient.js";
export type { SignerServer, SignerServerOptions } from "./remote/signerServer.js";
export type { SignerConfig } from "./signerConfig.js";
export type { SignerPipeline, SignerPipelineOptions } from "./signerPipeline.js";
export type { Passphrase, Vault } from "./vault/vault.js";

/** How a process reaches its signing plane (the executor config's `signing` section). */
export type PlaneSettings =
  | {
      readonly plane: "remote";
      readonly socket: string;
      readonly caller: string;
      readonly token_env?: string | undefined;
      readonly token_file?: string | undefined;
      readonly timeout_ms: number;
      /** The uid the signer's socket must be owned by before the token is sent (default: this process's). */
      readonly socket_owner_uid?: number | undefined;
    }
  | { readonly plane: "local"; readonly signer_config: string; readonly caller: string };

/** A plane and the caller id to sign as. */
export interface OpenedPlane {
  readonly plane: SigningPlane;
  readonly caller: string;
}

/** Why a plane could not be opened; the message never holds a secret. */
export class PlaneOpenError extends Error {
  override readonly name = "PlaneOpenError";
}

/**
 * Opens the plane `settings` name. Relative paths resolve against `baseDir`.
 * A missing or unreadable token is a `ConfigError` naming `signing.token_*`.
 * `remote` connects lazily (a signer that is down gives
 * `signer_denied:signer_unavailable` per request, never a failed start);
 * `local` opens the signer config's vault and audit log in this process (the
 * signer process's pipeline, `signerPipeline.ts`) and refuses when `live` is
 * true (signing-plane-v1 §5).
 */
export async function openSigningPlane(
  settings: PlaneSettings,
  opts: {
    readonly env: NodeJS.ProcessEnv;
    readonly baseDir: string;
    readonly live: boolean;
    /** Where the remote client logs (a pino logger fits); default JSON lines on stderr. */
    readonly logger?: RemoteLogger;
  },
): Promise<OpenedPlane> {
  if (settings.plane === "remote") {
    const token = await readConfigCredential({
      holder: settings,
      name: "token",
      field: "signing",
      env: opts.env,
      baseDir: opts.baseDir,
    });
    const [{ createRemotePlane }, { STDERR_LOGGER }] = await Promise.all([
      import("./remote/remotePlaneClient.js"),
      import("./remote/logger.js"),
    ]);
    return {
      plane: createRemotePlane({
        socketPath: resolve(opts.baseDir, settings.socket),
        caller: settings.caller,
        token,
        timeoutMs: settings.timeout_ms,
        ...(settings.socket_owner_uid === undefined ? {} : { socketOwnerUid: settings.socket_owner_uid }),
        logger: opts.logger ?? STDERR_LOGGER,
      }),
      caller: settings.caller,
    };
  }
  if (opts.live) {
    throw new PlaneOpenError(
      "signing.plane local refuses live trading (live: true): use the remote or pkcs11 plane",
    );
  }
  const [{ loadSignerConfig }, { openSignerPipeline }, { LocalPlaneError }] = await Promise.all([
    import("./signerConfig.js"),
    import("./signerPipeline.js"),
    import("./signerEngine.js"),
  ]);
  const config = await loadSignerConfig(resolve(opts.baseDir, settings.signer_config));
  if (config.live) {
    throw new LocalPlaneError(
      "live",
      "the local signing plane refuses to start with live: true (use the remote or pkcs11 plane)",
    );
  }
  // The same pipeline as a signer process (file checks, audit key, lock, windows), on this thread.
  const pipeline = await openSignerPipeline(config, opts.env, { ecdsaWorkers: 0 });
  const plane: SigningPlane = {
    sign: (caller, request) => pipeline.plane.sign(caller, request),
    close: () => pipeline.close(),
  };
  return { plane, caller: settings.caller };
}

// ---------------------------------------------------------------------------
// The signer process, the vault and the audit log, for the CLI (each module
// loaded on first use).

/**
 * Reads and validates the signer config file at `path`, relative paths
 * resolved against its folder; reads no secret. Throws `ConfigError`.
 */
export async function loadSignerConfig(path: string): Promise<SignerConfig> {
  return (await import("./signerConfig.js")).loadSignerConfig(path);
}

/**
 * Reads the token of every caller `config` names (environment or file; a
 * file open to group or others is refused), each held to the strength rule
 * (`secretStrength.ts`). Throws `ConfigError` naming the field, never a token.
 */
export async function loadCallerTokens(
  config: SignerConfig,
  env: Readonly<Record<string, string | undefined>>,
): Promise<Map<string, SecretBytes>> {
  const { loadStrongSecret } = await import("./secretStrength.js");
  const callers = new Map<string, SecretBytes>();
  for (const [id, ref] of Object.entries(config.callers)) {
    callers.set(
      id,
      await loadStrongSecret({ ref, name: "token", field: `callers.${id}`, env, requirePrivate: true }),
    );
  }
  return callers;
}

/** Opens the keys (vault or token) and the audit log `config` names: see `signerPipeline.ts`. */
export async function openSignerPipeline(
  config: SignerConfig,
  env: Readonly<Record<string, string | undefined>>,
  opts: SignerPipelineOptions = {},
): Promise<SignerPipeline> {
  return (await import("./signerPipeline.js")).openSignerPipeline(config, env, opts);
}

/** Serves a plane on a 0600 Unix socket: see `remote/signerServer.ts`. Throws `SignerServerError`. */
export async function startSignerServer(opts: SignerServerOptions): Promise<SignerServer> {
  return (await import("./remote/signerServer.js")).startSignerServer(opts);
}

/** Creates a new, empty vault file (mode 0600) at `path`, which must not exist. */
export async function initVault(path: string, passphrase: Passphrase): Promise<Vault> {
  return (await import("./vault/vault.js")).Vault.init(path, passphrase);
}

/** Opens the vault at `path`. Throws `KeyStoreError` (`unreadable`, `corrupted`, `bad_passphrase`). */
export async function openVault(path: string, passphrase: Passphrase): Promise<Vault> {
  return (await import("./vault/vault.js")).Vault.open(path, passphrase);
}

/** A fresh secp256k1 private key (32 bytes; the caller zeroes it). */
export async function generateSecp256k1Key(): Promise<Buffer> {
  return (await import("./vault/vaultFile.js")).generateSecp256k1Key();
}

/** Checks an audit log's keyed chain under `key`: see `audit/verifyAudit.ts`. Rejects when unreadable. */
export async function verifyAuditFile(path: string, key: Uint8Array): Promise<AuditVerifyResult> {
  return (await import("./audit/verifyAudit.js")).verifyAuditFile(path, key);
}
