import { inspect } from "node:util";
import { formatDecimal } from "../core/decimal.js";
import {
  PLANE_PROTOCOL_VERSION,
  type SignerDenyReason,
  type SigningPlane,
  type SignOutcome,
} from "../ports/signingPlane.js";
import type { AuditSink } from "./audit/auditLog.js";
import { type AuditEntry, auditFieldsOf } from "./audit/auditRecord.js";
import { type AuthorizeContext, type Authorized, authorize, createAuthorizeContext } from "./authorize.js";
import { createEcdsaSigner } from "./ecdsaWorkers.js";
import { assertHandlerRegistry, type PayloadHandlers } from "./intents.js";
import type { KeyStore } from "./keyStore.js";
import { PayloadKeyMismatch, type SignatureOut } from "./payloadKind.js";
import type { PolicyFacts } from "./policy/intentPolicy.js";
import { PolicyLedger } from "./policy/policyLedger.js";
import { type ReferencePriceSource, ReferencePrices } from "./policy/referencePrices.js";
import type { SignerConfig } from "./signerConfig.js";
import { DEFAULT_ECDSA, type EcdsaSigner, signWithKey } from "./signInput.js";
import { boundedReason, type RequestView, readRequest } from "./signRequest.js";

/**
 * Signs a request that passed authorization and its stateful limits; throws
 * on any failure ({@link PayloadKeyMismatch} when the payload names another
 * signer). The vault's is {@link keyStoreSigner}; the PKCS#11 plane signs
 * inside a token.
 */
export type AuthorizedSigner = (auth: Authorized) => Promise<SignatureOut>;

/**
 * Reads the authorized entry's key from a KeyStore and signs what was bound
 * (`auth.input`, see `signInput.ts`), ECDSA through `ecdsa`; a handler
 * without `bindInput` signs the payload itself.
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
  /** Milliseconds since the epoch (default `Date.now`): the signer's own clock (§3a), audit times, the limits. */
  readonly clock?: () => number;
  /**
   * The signer's reference prices (default: the config's static prices;
   * a config naming a price file needs `openReferencePrices`). The engine
   * closes it on `close()` when it has a `close`.
   */
  readonly referencePrices?: ReferencePriceSource & { close?(): void };
  /** The stateful limits (default: empty), e.g. rebuilt from the audit log by `openAuditLog`'s `onRecord`. */
  readonly ledger?: PolicyLedger;
  /** Runs on `close()` once requests in flight settled, before the audit log closes (e.g. to close a token session). */
  readonly onClose?: () => void | Promise<void>;
  /**
   * Who computes ECDSA signatures for keys read from the KeyStore: a number
   * of worker threads (`ecdsaWorkers.ts`; 0 = this thread), or `"auto"`
   * (default: one per CPU, at most 4, started on the first ECDSA request).
   */
  readonly ecdsaWorkers?: number | "auto";
}

export type SignerEngineErrorCode = "live" | "closed";

/** The local plane refused to start (live trading on) or a plane was used after `close()`. */
export class LocalPlaneError extends Error {
  override readonly name = "LocalPlaneError";
  constructor(
    readonly code: SignerEngineErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Printed for any object holding the engine. */
export const redactedView = (name: string): string =>
  `${name} { plane_version: '${PLANE_PROTOCOL_VERSION}', [REDACTED] }`;

/** What a line adds to the request's own fields. */
type Decision = Omit<AuditEntry, keyof ReturnType<typeof auditFieldsOf> | "time">;

/**
 * The transport-independent signing pipeline, shared by the local plane,
 * the remote signer process and the PKCS#11 plane: validate → authorize (§3,
 * in order, with the signer's own clock and prices) → claim the stateful
 * limits (rates, windows) → sign (read the key and sign, or sign in a
 * token) → audit → answer. Every call appends exactly one audit line,
 * granted or denied, except a probe route's (§6: audited once per change of
 * its outcome per caller, account, intent and route; a cancel-capable read
 * always is); a grant is returned only once its line is written (and, when
 * it counts in a rolling window, synced), so an audit failure turns it into
 * `signer_unavailable`.
 */
export class SignerEngine implements SigningPlane {
  readonly #ctx: AuthorizeContext;
  readonly #signAuthorized: AuthorizedSigner;
  readonly #onClose: (() => void | Promise<void>) | undefined;
  readonly #audit: AuditSink;
  readonly #clock: () => number;
  readonly #prices: ReferencePriceSource & { close?(): void };
  readonly #ledger: PolicyLedger;
  readonly #probeOutcomes = new Map<string, string>();
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
    this.#prices = opts.referencePrices ?? ReferencePrices.fromConfig(opts.config.reference_prices);
    this.#ledger = opts.ledger ?? new PolicyLedger();
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
    return this.#track(this.#deny(fields, view, "unknown_caller", undefined, undefined));
  }

  #track(run: Promise<SignOutcome>): Promise<SignOutcome> {
    this.#inFlight.add(run);
    void run.then(
      () => this.#inFlight.delete(run),
      () => this.#inFlight.delete(run),
    );
    return run;
  }

  #facts(nowMs: number): PolicyFacts {
    const { clock } = this.#ctx.config;
    return {
      nowMs,
      maxClockSkewMs: clock.max_clock_skew_ms,
      maxRecvWindowMs: clock.max_recv_window_ms,
      prices: this.#prices,
    };
  }

  async #deny(
    fields: ReturnType<typeof auditFieldsOf>,
    view: RequestView,
    reasonIn: SignerDenyReason,
    action: string | undefined,
    probeKey: string | undefined,
  ): Promise<SignOutcome> {
    const reason = boundedReason(reasonIn);
    const decision: Decision = {
      action: action ?? null,
      key: null,
      cancel_capable: false,
      notional: null,
      reference_price: null,
      decision: "denied",
      reason,
    };
    await this.#record(fields, decision, probeKey, false).catch(() => undefined);
    return { granted: false, request_id: view.requestIdEcho, reason };
  }

  async #handle(caller: string, raw: unknown): Promise<SignOutcome> {
    const now = this.#clock();
    const view = readRequest(raw);
    const fields = auditFieldsOf(caller, raw, view);

    let auth: ReturnType<typeof authorize>;
    try {
      auth = authorize(caller, view, this.#ctx, this.#facts(now));
    } catch {
      return this.#deny(fields, view, "signer_unavailable", undefined, undefined); // a bug must not sign
    }
    if (!auth.ok) {
      const probe = auth.binding?.probe === true && auth.knownAccount === true;
      return this.#deny(
        fields,
        view,
        auth.reason,
        auth.binding?.action,
        probe ? probeKey(caller, view) : undefined,
      );
    }
    const probe = auth.binding.probe && !auth.cancelCapable ? probeKey(caller, view) : undefined;
    const deny = (reason: SignerDenyReason) => this.#deny(fields, view, reason, auth.binding.action, probe);
    // The last policy checks, stateful: claimed here, before the key is read (see PolicyLedger).
    if (auth.claim !== undefined) {
      const refused = this.#ledger.tryClaim(auth.claim, now);
      if (refused !== undefined) return deny(refused);
    }

    let out: SignatureOut;
    try {
      out = await this.#signAuthorized(auth);
    } catch (err) {
      // The payload names another signer than the account's key: the payload is wrong, not the signer.
      if (err instanceof PayloadKeyMismatch) return deny(`payload_mismatch:${err.field}`);
      return deny("signer_unavailable");
    }
    if (typeof out?.signature !== "string" || out.signature === "") return deny("signer_unavailable");

    const decision: Decision = {
      action: auth.binding.action,
      key: auth.key,
      cancel_capable: auth.cancelCapable,
      notional: auth.notional === undefined ? null : formatDecimal(auth.notional),
      reference_price: auth.reference === undefined ? null : formatDecimal(auth.reference),
      decision: "granted",
      reason: "ok",
    };
    try {
      // An order counted in a rolling window is durable before its signature leaves (§3a).
      await this.#record(fields, decision, probe, (auth.claim?.windows.length ?? 0) > 0);
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

  /** Appends the line, unless it is a probe route's with the same outcome as its last line. */
  async #record(
    fields: ReturnType<typeof auditFieldsOf>,
    decision: Decision,
    probe: string | undefined,
    durable: boolean,
  ): Promise<unknown> {
    const entry: AuditEntry = { ...fields, time: new Date(this.#clock()).toISOString(), ...decision };
    if (probe === undefined) return this.#audit.append(entry, { durable });
    const outcome = `${decision.decision}\n${decision.reason}`;
    if (this.#probeOutcomes.get(probe) === outcome) return undefined;
    this.#probeOutcomes.set(probe, outcome);
    try {
      return await this.#audit.append(entry, { durable });
    } catch (err) {
      this.#probeOutcomes.delete(probe);
      throw err;
    }
  }

  /**
   * Starts the ECDSA workers now (a signer process serving EIP-712 orders):
   * the first orders after a start then do not wait for them to load.
   */
  warmUp(): void {
    this.#ecdsa?.warmUp?.();
  }

  /** Stops taking requests, waits for those in flight, closes the audit log. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled([...this.#inFlight]);
    try {
      this.#prices.close?.();
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
    return redactedView("SignerEngine");
  }
}

/** The key of a probe route's last outcome: caller, account, intent and route (all known by then). */
function probeKey(caller: string, view: RequestView): string {
  return `${caller}\n${view.account}\n${view.intent}\n${view.route}`;
}
