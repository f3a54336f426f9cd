import { inspect } from "node:util";
import {
  PLANE_PROTOCOL_VERSION,
  type SignerDenyReason,
  type SigningPlane,
  type SignOutcome,
  type SignRequest,
} from "../ports/signingPlane.js";
import type { AuditSink } from "./audit/auditLog.js";
import { type AuditEntry, auditFieldsOf } from "./audit/auditRecord.js";
import { type AuthorizeContext, type Authorized, authorize, createAuthorizeContext } from "./authorize.js";
import { createEcdsaSigner } from "./ecdsaWorkers.js";
import { assertHandlerRegistry, type PayloadHandlers } from "./intents.js";
import type { KeyStore } from "./keyStore.js";
import { PayloadKeyMismatch, type SignatureOut } from "./payloadKind.js";
import type { SignerConfig } from "./signerConfig.js";
import { RateLimiter } from "./signerPolicy.js";
import { DEFAULT_ECDSA, type EcdsaSigner, signWithKey } from "./signInput.js";
import { readRequest } from "./signRequest.js";

/**
 * Signs a request that passed authorization and the rate limit; throws on any
 * failure ({@link PayloadKeyMismatch} when the payload names another signer).
 * The vault's is {@link keyStoreSigner}; the PKCS#11 plane signs inside a token.
 */
export type AuthorizedSigner = (auth: Authorized) => Promise<SignatureOut>;

/**
 * Reads the authorized entry's key from a KeyStore and signs what was bound
 * (`auth.input`, see `signInput.ts`), ECDSA through `ecdsa`; a handler
 * without `prepare` signs the payload itself.
 */
export function keyStoreSigner(keyStore: KeyStore, ecdsa: EcdsaSigner = DEFAULT_ECDSA): AuthorizedSigner {
  return async (auth) => {
    const key = await keyStore.reveal(auth.entryId);
    return auth.input === undefined
      ? auth.handler.sign(auth.payload, key)
      : signWithKey(auth.input, key, ecdsa);
  };
}

/** Where a plane's keys are: a KeyStore (decrypted on demand), or its own signer (keys that never leave a token). */
export type SignerKeySource =
  | { readonly keyStore: KeyStore; readonly signAuthorized?: never }
  | { readonly signAuthorized: AuthorizedSigner; readonly keyStore?: never };

/** What a plane (or the remote signer process) is built from. Passed in, never reached through module state. */
export type SignerEngineOptions = SignerEngineBase & SignerKeySource;

interface SignerEngineBase {
  /** The validated signer config (`parseSignerConfig` / `loadSignerConfig`). */
  readonly config: SignerConfig;
  /** One handler per implemented payload kind; an intent whose kind has none is `intent_not_enabled`. */
  readonly handlers: PayloadHandlers;
  /** The audit log; the engine owns it from now on and closes it on `close()`. */
  readonly audit: AuditSink;
  /** Milliseconds since the epoch (default `Date.now`), for audit times and the rate window. */
  readonly clock?: () => number;
  /** Runs on `close()` once requests in flight settled, before the audit log closes (e.g. to close a token session). */
  readonly onClose?: () => void | Promise<void>;
  /**
   * Who computes ECDSA signatures for keys read from the KeyStore: a number
   * of worker threads (`ecdsaWorkers.ts`; 0 = this thread), or `"auto"`
   * (default: one per CPU, at most 4, started on the first ECDSA request).
   */
  readonly ecdsaWorkers?: number | "auto";
}

export type LocalPlaneErrorCode = "live" | "closed";

/** The local plane refused to start (live trading on) or was used after `close()`. */
export class LocalPlaneError extends Error {
  override readonly name = "LocalPlaneError";
  constructor(
    readonly code: LocalPlaneErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const REDACTED_VIEW = (name: string) => `${name} { plane_version: '${PLANE_PROTOCOL_VERSION}', [REDACTED] }`;

/**
 * The transport-independent signing pipeline, shared by the local plane and
 * the remote signer process and the PKCS#11 plane: validate → authorize (§3,
 * in order) → claim the rate limit → sign (read the key and sign, or sign in
 * a token) → audit → answer. Every call appends
 * exactly one audit line, granted or denied; a grant is returned only once
 * its line is written, so an audit failure turns it into `signer_unavailable`.
 */
export class SignerEngine implements SigningPlane {
  readonly #ctx: AuthorizeContext;
  readonly #signAuthorized: AuthorizedSigner;
  readonly #onClose: (() => void | Promise<void>) | undefined;
  readonly #audit: AuditSink;
  readonly #clock: () => number;
  readonly #rate = new RateLimiter();
  readonly #inFlight = new Set<Promise<unknown>>();
  readonly #ecdsa: EcdsaSigner | undefined;
  #closed = false;

  constructor(opts: SignerEngineOptions) {
    assertHandlerRegistry(opts.handlers);
    this.#ctx = createAuthorizeContext(opts.config, opts.handlers);
    if (opts.signAuthorized === undefined) {
      this.#ecdsa = createEcdsaSigner(opts.ecdsaWorkers ?? "auto");
      this.#signAuthorized = keyStoreSigner(opts.keyStore, this.#ecdsa);
    } else {
      this.#signAuthorized = opts.signAuthorized;
    }
    this.#onClose = opts.onClose;
    this.#audit = opts.audit;
    this.#clock = opts.clock ?? Date.now;
  }

  /** Authorizes and, if allowed, signs one request; `caller` comes from the transport, never from the body. */
  sign(caller: string, request: unknown): Promise<SignOutcome> {
    if (this.#closed) return Promise.reject(new LocalPlaneError("closed", "signing plane is closed"));
    return this.#track(this.#handle(caller, request));
  }

  /**
   * Denies `unknown_caller` a request whose client claimed a caller other
   * than the one its transport authenticated (the remote signer's
   * connections), audited under `authenticatedCaller`. Never signs, never
   * reads a key.
   */
  denyClaimedCaller(authenticatedCaller: string, request: unknown): Promise<SignOutcome> {
    if (this.#closed) return Promise.reject(new LocalPlaneError("closed", "signing plane is closed"));
    const view = readRequest(request);
    const fields = auditFieldsOf(authenticatedCaller, request, view);
    return this.#track(this.#deny(fields, view, "unknown_caller"));
  }

  #track(run: Promise<SignOutcome>): Promise<SignOutcome> {
    this.#inFlight.add(run);
    void run.then(
      () => this.#inFlight.delete(run),
      () => this.#inFlight.delete(run),
    );
    return run;
  }

  async #deny(
    fields: ReturnType<typeof auditFieldsOf>,
    view: ReturnType<typeof readRequest>,
    reason: SignerDenyReason,
  ): Promise<SignOutcome> {
    await this.#record({ ...fields, time: this.#now(), decision: "denied", reason }).catch(() => undefined);
    return { granted: false, request_id: view.requestIdEcho, reason };
  }

  async #handle(caller: string, raw: unknown): Promise<SignOutcome> {
    const view = readRequest(raw);
    const fields = auditFieldsOf(caller, raw, view);
    const deny = (reason: SignerDenyReason): Promise<SignOutcome> => this.#deny(fields, view, reason);

    let auth: ReturnType<typeof authorize>;
    try {
      auth = authorize(caller, view, this.#ctx);
    } catch {
      return deny("signer_unavailable"); // a bug must not sign, nor skip its audit line
    }
    if (!auth.ok) return deny(auth.reason);
    // Last policy check, stateful: recorded here, before the key is read (see RateLimiter).
    if (auth.rate !== undefined && !this.#rate.tryRecord(auth.rate, this.#clock()))
      return deny("policy:rate");

    let out: SignatureOut;
    try {
      out = await this.#signAuthorized(auth);
    } catch (err) {
      // The payload names another signer than the account's key: the payload is wrong, not the signer.
      if (err instanceof PayloadKeyMismatch) return deny(`payload_mismatch:${err.field}`);
      return deny("signer_unavailable");
    }
    if (typeof out?.signature !== "string" || out.signature === "") return deny("signer_unavailable");

    try {
      await this.#record({ ...fields, time: this.#now(), decision: "granted", reason: "ok" });
    } catch {
      // No line, no signature: the grant is withheld (the log refuses further appends).
      return { granted: false, request_id: view.requestIdEcho, reason: "signer_unavailable" };
    }
    return out.signer_address === undefined
      ? {
          granted: true,
          request_id: auth.requestId,
          signature: out.signature,
          plane_version: PLANE_PROTOCOL_VERSION,
        }
      : {
          granted: true,
          request_id: auth.requestId,
          signature: out.signature,
          signer_address: out.signer_address,
          plane_version: PLANE_PROTOCOL_VERSION,
        };
  }

  #record(entry: AuditEntry): Promise<unknown> {
    return this.#audit.append(entry);
  }

  #now(): string {
    return new Date(this.#clock()).toISOString();
  }

  /** Stops taking requests, waits for those in flight, closes the audit log. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled([...this.#inFlight]);
    try {
      await this.#onClose?.();
      await this.#ecdsa?.close();
    } finally {
      await this.#audit.close();
    }
  }

  toJSON(): { plane_version: string } {
    return { plane_version: PLANE_PROTOCOL_VERSION };
  }

  [inspect.custom](): string {
    return REDACTED_VIEW("SignerEngine");
  }
}

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
    return REDACTED_VIEW("LocalPlane");
  }
}

/**
 * The local plane: keys are decrypted inside the calling process, on demand,
 * for development and tests only. Refuses to start ({@link LocalPlaneError}
 * `live`) when the signer config has `live: true`. `close()` closes the audit
 * log it was given.
 * @example const plane = createLocalPlane({ config, keyStore, handlers, audit: await openAuditLog(config.audit.path) })
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
