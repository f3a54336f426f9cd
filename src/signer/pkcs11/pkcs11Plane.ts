import { inspect } from "node:util";
import { toRsvHex } from "../../core/evm/ecdsa.js";
import {
  PLANE_PROTOCOL_VERSION,
  type SigningPlane,
  type SignOutcome,
  type SignRequest,
} from "../../ports/signingPlane.js";
import type { AuditSink } from "../audit/auditLog.js";
import type { Authorized } from "../authorize.js";
import type { PayloadHandlers } from "../intents.js";
import { PayloadKeyMismatch, type SignatureOut } from "../payloadKind.js";
import type { SignerConfig } from "../signerConfig.js";
import { SignerEngine, type SignerEngineOptions } from "../signerEngine.js";
import { encodeMac } from "../signInput.js";
import { Pkcs11Token, Pkcs11TokenError, type Pkcs11TokenOptions } from "./pkcs11Token.js";
import { tokenSigningInput, tokenSigningProblem } from "./tokenSigning.js";

/** What the PKCS#11 plane is built from. Like the local plane's options, with a token instead of a KeyStore. */
export interface Pkcs11PlaneOptions {
  /** The validated signer config: callers, intents, routes, accounts (entry id = the key's label in the token), policy. */
  readonly config: SignerConfig;
  /** One handler per payload kind; each must be signable in a token (see `tokenSigning.ts`). */
  readonly handlers: PayloadHandlers;
  /** The audit log; the plane owns it from now on and closes it on `close()`. */
  readonly audit: AuditSink;
  /** The token: module path, token label, user PIN. */
  readonly token: Pkcs11TokenOptions;
  /** Milliseconds since the epoch (default `Date.now`): the signer's clock, audit times, the limits, reopen back-off. */
  readonly clock?: () => number;
  /** See `SignerEngineOptions.referencePrices`. */
  readonly referencePrices?: SignerEngineOptions["referencePrices"];
  /** See `SignerEngineOptions.ledger`. */
  readonly ledger?: SignerEngineOptions["ledger"];
  /** Least milliseconds between two attempts to open the token after a failure (default 1000). */
  readonly reopenAfterMs?: number;
}

export type Pkcs11PlaneErrorCode = "unsupported_kind" | "closed";

/** The plane refused to start (a handler it cannot sign with a token key) or was used after `close()`. */
export class Pkcs11PlaneError extends Error {
  override readonly name = "Pkcs11PlaneError";
  constructor(
    readonly code: Pkcs11PlaneErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Token failures after which the session is dropped and the token reopened on a later request. */
const SESSION_LOST = new Set(["token_error", "closed"]);

/**
 * The PKCS#11 plane (signing-plane-v1 §5 `pkcs11`): the shared `SignerEngine`
 * pipeline (validate → authorize in §3 order → claim the stateful limits → sign →
 * audit → answer, one audit line per request, a grant only once its line is
 * written) with a signer that keeps keys in the token: HMAC kinds
 * sign with `CKM_SHA256_HMAC`, EIP-712 with `CKM_ECDSA` on the digest computed
 * here. The signer config's entry id is the key's label in the token.
 *
 * The token is opened on the first request, not at construction, so a plane
 * whose token is missing or whose PIN is wrong still answers (and audits)
 * every request: `signer_unavailable`. A refused PIN is never retried (HSMs
 * lock a user after a few wrong PINs): every later request is
 * `signer_unavailable` until the plane is rebuilt with the right PIN. Other
 * failures to open are retried at most once per `reopenAfterMs`.
 */
export class Pkcs11Plane implements SigningPlane {
  readonly #engine: SignerEngine;
  readonly #clock: () => number;
  readonly #tokenOptions: Pkcs11TokenOptions;
  readonly #reopenAfterMs: number;
  #token: Pkcs11Token | undefined;
  #pinRefused: Pkcs11TokenError | undefined;
  #lastFailure: { readonly at: number; readonly error: Pkcs11TokenError } | undefined;
  #closed = false;

  constructor(opts: Pkcs11PlaneOptions) {
    for (const handler of opts.handlers.values()) {
      const problem = tokenSigningProblem(handler);
      if (problem !== undefined) throw new Pkcs11PlaneError("unsupported_kind", problem);
    }
    this.#clock = opts.clock ?? Date.now;
    this.#tokenOptions = opts.token;
    this.#reopenAfterMs = opts.reopenAfterMs ?? 1000;
    this.#engine = new SignerEngine({
      config: opts.config,
      handlers: opts.handlers,
      audit: opts.audit,
      clock: this.#clock,
      ...(opts.referencePrices === undefined ? {} : { referencePrices: opts.referencePrices }),
      ...(opts.ledger === undefined ? {} : { ledger: opts.ledger }),
      signAuthorized: async (auth) => this.#signInToken(auth),
      onClose: () => {
        this.#closed = true;
        this.#token?.close();
        this.#token = undefined;
      },
    });
  }

  /** Authorizes and, if allowed, signs one request in the token; `caller` comes from the transport. */
  sign(caller: string, request: SignRequest | unknown): Promise<SignOutcome> {
    if (this.#closed) return Promise.reject(new Pkcs11PlaneError("closed", "signing plane is closed"));
    return this.#engine.sign(caller, request);
  }

  /** See {@link SignerEngine.denyClaimedCaller} (the remote signer serving this plane). */
  denyClaimedCaller(claimedCaller: string, request: unknown): Promise<SignOutcome> {
    if (this.#closed) return Promise.reject(new Pkcs11PlaneError("closed", "signing plane is closed"));
    return this.#engine.denyClaimedCaller(claimedCaller, request);
  }

  /**
   * Opens the token now (a start-up or health check); throws the
   * {@link Pkcs11TokenError} a request would be denied `signer_unavailable` for.
   */
  async connect(): Promise<void> {
    this.#openToken();
  }

  /** Signs an authorized request with the key labelled `auth.entryId`; throws on any failure. */
  #signInToken(auth: Authorized): SignatureOut {
    const input = tokenSigningInput(auth);
    const token = this.#openToken();
    try {
      if (input.mechanism === "hmac-sha256") {
        return { signature: encodeMac(token.hmacSha256(auth.entryId, input.data), input) };
      }
      if (input.signer !== undefined && token.addressNumberOf(auth.entryId) !== input.signer) {
        throw new PayloadKeyMismatch("signer");
      }
      const sig = token.signDigest(auth.entryId, input.digest);
      return { signature: toRsvHex(sig), signer_address: sig.address };
    } catch (err) {
      if (err instanceof Pkcs11TokenError && SESSION_LOST.has(err.code)) this.#dropToken(err);
      throw err;
    }
  }

  #openToken(): Pkcs11Token {
    if (this.#closed) throw new Pkcs11TokenError("closed", "signing plane is closed");
    if (this.#pinRefused !== undefined) throw this.#pinRefused;
    if (this.#token !== undefined && !this.#token.closed) return this.#token;
    const now = this.#clock();
    const last = this.#lastFailure;
    if (last !== undefined && now - last.at < this.#reopenAfterMs) throw last.error;
    try {
      this.#token = Pkcs11Token.open(this.#tokenOptions);
      this.#lastFailure = undefined;
      return this.#token;
    } catch (err) {
      const error =
        err instanceof Pkcs11TokenError
          ? err
          : new Pkcs11TokenError("token_error", "opening the token failed");
      if (error.code === "bad_pin") this.#pinRefused = error;
      this.#lastFailure = { at: now, error };
      throw error;
    }
  }

  #dropToken(error: Pkcs11TokenError): void {
    this.#token?.close();
    this.#token = undefined;
    this.#lastFailure = { at: this.#clock(), error };
  }

  /** Stops taking requests, waits for those in flight, closes the token session and the audit log. */
  async close(): Promise<void> {
    await this.#engine.close();
    this.#closed = true;
  }

  toJSON(): { plane: "pkcs11"; plane_version: string } {
    return { plane: "pkcs11", plane_version: PLANE_PROTOCOL_VERSION };
  }

  [inspect.custom](): string {
    return `Pkcs11Plane { plane_version: '${PLANE_PROTOCOL_VERSION}', [REDACTED] }`;
  }
}

/**
 * The PKCS#11 plane. Unlike the local plane it may run with `live: true`.
 * `close()` closes the audit log it was given and the token session.
 * @example const plane = createPkcs11Plane({ config, handlers, audit, token: { module: SOFTHSM2_MODULE, tokenLabel: "signer", pin } })
 */
export function createPkcs11Plane(opts: Pkcs11PlaneOptions): Pkcs11Plane {
  return new Pkcs11Plane(opts);
}
