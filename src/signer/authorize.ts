import {
  INTENT_PAYLOAD_KIND,
  type Intent,
  type SignerDenyCode,
  type SignerDenyReason,
  type SignPayload,
} from "../ports/signingPlane.js";
import { enabledIntents, type PayloadHandlers } from "./intents.js";
import type { PayloadEffect, PayloadKindHandler, PrepareOutcome, SigningInput } from "./payloadKind.js";
import type { SignerConfig } from "./signerConfig.js";
import {
  checkStatelessPolicy,
  compilePolicies,
  type IntentPolicy,
  type RateClaim,
  rateClaim,
} from "./signerPolicy.js";
import { parsePayload, type RequestView } from "./signRequest.js";

/** What {@link authorize} reads: the validated config and what was built from it once at start. */
export interface AuthorizeContext {
  readonly config: SignerConfig;
  readonly handlers: PayloadHandlers;
  /** Listed in config AND with a registered handler (see `intents.ts`). */
  readonly enabled: ReadonlySet<Intent>;
  readonly policies: ReadonlyMap<Intent, IntentPolicy>;
}

/** Builds the {@link AuthorizeContext} for a config and a handler registry. */
export function createAuthorizeContext(config: SignerConfig, handlers: PayloadHandlers): AuthorizeContext {
  return Object.freeze({
    config,
    handlers,
    enabled: enabledIntents(config, handlers),
    policies: compilePolicies(config),
  });
}

/** A request that passed every check {@link authorize} makes: what the plane needs to sign it. */
export interface Authorized {
  readonly ok: true;
  readonly requestId: string;
  readonly intent: Intent;
  readonly account: string;
  /** The vault entry holding the account's key for this intent. */
  readonly entryId: string;
  readonly handler: PayloadKindHandler;
  readonly payload: SignPayload;
  readonly effect: PayloadEffect;
  /** What to sign, from the same decode that was bound to `target` (handlers with `prepare`). */
  readonly input: SigningInput | undefined;
  /** The stateful rate limit still to be claimed (last policy check), or `undefined`. */
  readonly rate: RateClaim | undefined;
}

export type Authorization = Authorized | { readonly ok: false; readonly reason: SignerDenyReason };

/** Fields the steps fill in as they pass. */
interface Draft {
  readonly caller: string;
  readonly view: RequestView;
  intent?: Intent;
  entryId?: string;
  handler?: PayloadKindHandler;
  payload?: SignPayload;
  effect?: PayloadEffect;
  input?: SigningInput;
}

/** One named authorization step: `undefined` passes, a reason denies. */
export interface AuthorizationStep {
  readonly code: SignerDenyCode;
  check(draft: Draft, ctx: AuthorizeContext): SignerDenyReason | undefined;
}

const has = Object.hasOwn;

/**
 * The checks of signing-plane-v1 §3 in order; the first failure decides.
 * `signer_unavailable` is not here: it is the plane's, when reading the key
 * or signing fails after every step passed.
 */
export const AUTHORIZATION_STEPS: readonly AuthorizationStep[] = Object.freeze([
  {
    code: "unknown_caller",
    check: (d, ctx) => (d.caller !== "" && has(ctx.config.callers, d.caller) ? undefined : "unknown_caller"),
  },
  {
    code: "unknown_intent",
    check: (d) => {
      if (d.view.intent === undefined) return "unknown_intent";
      d.intent = d.view.intent;
      return undefined;
    },
  },
  {
    code: "intent_not_enabled",
    check: (d, ctx) => {
      const intent = d.intent!;
      const kind = INTENT_PAYLOAD_KIND[intent];
      const handler = kind === undefined ? undefined : ctx.handlers.get(kind);
      if (!ctx.enabled.has(intent) || handler === undefined) return "intent_not_enabled";
      d.handler = handler;
      return undefined;
    },
  },
  {
    code: "route_not_allowed",
    check: (d, ctx) => {
      const routes = ctx.config.intents[d.intent!]?.routes;
      return d.view.route !== undefined && routes?.includes(d.view.route) ? undefined : "route_not_allowed";
    },
  },
  { code: "missing_target", check: (d) => (d.view.target === undefined ? "missing_target" : undefined) },
  {
    code: "missing_guard_context",
    check: (d) => (d.view.guardContext === undefined ? "missing_guard_context" : undefined),
  },
  {
    code: "unknown_account",
    check: (d, ctx) => {
      const account = d.view.account;
      if (account === undefined || !has(ctx.config.accounts, account)) return "unknown_account";
      const byIntent = ctx.config.accounts[account]!;
      const entryId = has(byIntent, d.intent!) ? byIntent[d.intent!] : undefined;
      if (entryId === undefined) return "unknown_account";
      d.entryId = entryId;
      return undefined;
    },
  },
  {
    code: "payload_mismatch",
    check: (d) => {
      const handler = d.handler!;
      const parsed = parsePayload(handler.kind, d.view.payload);
      if (!parsed.ok) return `payload_mismatch:${parsed.field}`;
      let bound: ReturnType<PayloadKindHandler["bind"]> | PrepareOutcome;
      try {
        bound =
          handler.prepare === undefined
            ? handler.bind(parsed.payload, d.view.target!)
            : handler.prepare(parsed.payload, d.view.target!);
      } catch {
        // A handler that cannot decode the payload must not let it through.
        return "payload_mismatch:payload";
      }
      if (!bound.ok) return `payload_mismatch:${bound.field}`;
      d.payload = parsed.payload;
      d.effect = bound.effect;
      if ("input" in bound && bound.input !== undefined) d.input = bound.input as SigningInput;
      return undefined;
    },
  },
  {
    code: "policy",
    check: (d, ctx) => {
      if (d.view.requestId === undefined) return "policy:request_id";
      return checkStatelessPolicy(ctx.policies.get(d.intent!), d.effect!);
    },
  },
]);

/**
 * Runs {@link AUTHORIZATION_STEPS} on one request: pure (no I/O, no key, no
 * state changed). A grant still has to claim its {@link Authorized.rate}
 * (`policy:rate`, the last policy check, stateful) before the plane reads the
 * key; `caller` is the transport-authenticated identity.
 */
export function authorize(caller: string, view: RequestView, ctx: AuthorizeContext): Authorization {
  const draft: Draft = { caller, view };
  for (const step of AUTHORIZATION_STEPS) {
    const reason = step.check(draft, ctx);
    if (reason !== undefined) return { ok: false, reason };
  }
  const intent = draft.intent!;
  const account = view.account!;
  const effect = draft.effect!;
  return {
    ok: true,
    requestId: view.requestId!,
    intent,
    account,
    entryId: draft.entryId!,
    handler: draft.handler!,
    payload: draft.payload!,
    effect,
    input: draft.input,
    rate: rateClaim(ctx.policies.get(intent), account, intent, effect),
  };
}
