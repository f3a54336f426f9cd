import { inspect } from "node:util";
import {
  PLANE_PROTOCOL_VERSION,
  type SigningPlane,
  type SignOutcome,
  type SignRequest,
} from "../ports/signingPlane.js";
import { LocalPlaneError, redactedView, SignerEngine, type SignerEngineOptions } from "./signerEngine.js";

export { LocalPlaneError };

/** The in-process plane (signing-plane-v1 §5 `local`). */
class LocalPlane implements SigningPlane {
  readonly #engine: SignerEngine;

  constructor(engine: SignerEngine) {
    this.#engine = engine;
  }

  sign(caller: string, request: SignRequest): Promise<SignOutcome> {
    return this.#engine.sign(caller, request);
  }

  close(): Promise<void> {
    return this.#engine.close();
  }

  toJSON(): { plane: "local"; plane_version: string } {
    return { plane: "local", plane_version: PLANE_PROTOCOL_VERSION };
  }

  [inspect.custom](): string {
    return redactedView("LocalPlane");
  }
}

/**
 * The local plane: keys are decrypted inside the calling process, on demand,
 * for development and tests only. Refuses to start ({@link LocalPlaneError}
 * `live`) when the signer config has `live: true`. `close()` closes the audit
 * log it was given.
 * @example const plane = createLocalPlane({ config, keyStore, handlers, audit: await openAuditLog(config.audit.path, { key }) })
 */
export function createLocalPlane(opts: SignerEngineOptions): SigningPlane {
  if (opts.config.live) {
    throw new LocalPlaneError(
      "live",
      "the local signing plane refuses to start with live: true (use the remote or pkcs11 plane)",
    );
  }
  // In-process development plane: ECDSA on the calling thread unless asked otherwise.
  return new LocalPlane(new SignerEngine({ ...opts, ecdsaWorkers: opts.ecdsaWorkers ?? 0 }));
}
