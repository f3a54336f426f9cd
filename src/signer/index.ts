/**
 * The signer's public entry: the only `src/signer/` module code outside the
 * signer may import (test/architecture/importBoundaries.test.ts). It hands
 * out {@link SigningPlane}s; the vault, key stores and plane internals stay
 * behind it (loaded lazily, so a process using the remote plane never even
 * loads the vault code).
 */
import { resolve } from "node:path";
import { readCredential } from "../config/readCredential.js";
import type { SigningPlane } from "../ports/signingPlane.js";
import type { RemoteLogger } from "./remote/logger.js";

export type { RemoteLogger } from "./remote/logger.js";
export { createRemotePlane, type RemotePlaneOptions } from "./remote/remotePlaneClient.js";

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
    const token = await readCredential(settings, "token", "signing", opts.env, opts.baseDir);
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
