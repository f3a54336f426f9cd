import type { Decimal } from "../core/decimal.js";
import {
  INTENT_PAYLOAD_KIND,
  type Intent,
  type SignerDenyCode,
  type SignerDenyReason,
  type SignPayload,
} from "../ports/signingPlane.js";
import { enabledIntents, type PayloadHandlers } from "./intents.js";
import type { BoundInput, PayloadEffect, PayloadKindHandler, SigningInput } from "./payloadKind.js";
import { actionSpec } from "./payloads/actions.js";
import {
  checkStatelessPolicy,
  compilePolicies,
  type IntentPolicy,
  ledgerClaim,
  type PolicyFacts,
  policyOf,
} from "./policy/intentPolicy.js";
import type { LedgerClaim } from "./policy/policyLedger.js";
import type { RouteBinding, SignerConfig } from "./signerConfig.js";
import { parsePayload, type RequestView } from "./signRequest.js";

/** What {@link authorize} reads: the validated config and what was built from it once at start. */
export interface AuthorizeContext {
  readonly config: SignerConfig;
  readonly handlers: PayloadHandlers;
  /** Listed in config AND with a registered handler (see `intents.ts`). */
  readonly enabled: ReadonlySet<Intent>;
  readonly policies: ReadonlyMap<Intent, IntentPolicy>;
  /** Caller → the accounts and intents it may sign for (§3 `caller_not_allowed`). */
  readonly scopes: ReadonlyMap<
    string,
    { readonly accounts: ReadonlySet<string>; readonly intents: ReadonlySet<string> }
  >;
}

/** Builds the {@link AuthorizeContext} for a config and a handler registry. */
export function createAuthorizeContext(config: SignerConfig, handlers: PayloadHandlers): AuthorizeContext {
  const scopes = new Map<string, { accounts: ReadonlySet<string>; intents: ReadonlySet<string> }>();
  for (const [caller, c] of Object.entries(config.callers)) {
    scopes.set(caller, { accounts: new Set(c.accounts), intents: new Set(c.intents) });
  }
  return Object.freeze({
    config,
    handlers,
    enabled: enabledIntents(config, handlers),
    policies: compilePolicies(config),
    scopes,
  });
}

/** A request that passed every check {@link authorize} makes: what the plane needs to sign it. */
export interface Authorized {
  readonly ok: true;
  readonly requestId: string;
  readonly intent: Intent;
  readonly account: string;
  /** The route's binding: its one action, and whether it is a probe route. */
  readonly binding: RouteBinding;
  /** The vault entry (or token label) of the key that signs: the read-only one for a replayable read when configured. */
  readonly entryId: string;
  /** Which of the account's keys signs. */
  readonly key: "trade" | "read_only";
  /**
   * The signature can cancel orders at the venue, audited `cancel_capable`: a
   * cancel, a cancel-all, a dead-man countdown, or a replayable read signed
   * with the trade key (which also counts against the cancel rate, §3a).
   */
  readonly cancelCapable: boolean;
  readonly handler: PayloadKindHandler;
  readonly payload: SignPayload;
  readonly effect: PayloadEffect;
  /** The signer's notional for an order (its own reference price), and that reference. */
  readonly notional: Decimal | undefined;
  readonly reference: Decimal | undefined;
  /** What to sign, from the same decode that was bound to `target` (handlers with `bindInput`). */
  readonly input: SigningInput | undefined;
  /** The stateful limits still to be claimed (last policy checks), or `undefined`. */
  readonly claim: LedgerClaim | undefined;
}

/** A denial, with what authorization had learnt by then (for the audit line). */
export interface Denied {
  readonly ok: false;
  readonly reason: SignerDenyReason;
  /** The route's binding once the route was found. */
  readonly binding?: RouteBinding | undefined;
  /** True once the account's key for the intent was found (a known account). */
  readonly knownAccount?: boolean;
}

export type Authorization = Authorized | Denied;

/** Fields the steps fill in as they pass. */
interface Draft {
  readonly caller: string;
  readonly view: RequestView;
  readonly facts: PolicyFacts;
  intent?: Intent;
  binding?: RouteBinding;
  entryId?: string;
  handler?: PayloadKindHandler;
  payload?: SignPayload;
  effect?: PayloadEffect;
  input?: SigningInput;
  notional?: Decimal | undefined;
  reference?: Decimal | undefined;
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
      const route = d.view.route;
      if (routes === undefined || route === undefined || !has(routes, route)) return "route_not_allowed";
      d.binding = routes[route]!;
      return undefined;
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
    code: "caller_not_allowed",
    check: (d, ctx) => {
      const scope = ctx.scopes.get(d.caller);
      return scope?.accounts.has(d.view.account!) && scope.intents.has(d.intent!)
        ? undefined
        : "caller_not_allowed";
    },
  },
  {
    code: "payload_mismatch",
    check: (d) => {
      const handler = d.handler!;
      const target = d.view.target!;
      // The route does exactly one action; what the target says and the payload does must be it.
      if (!has(target, "action") || target.action !== d.binding!.action) return "payload_mismatch:action";
      const parsed = parsePayload(handler.kind, d.view.payload);
      if (!parsed.ok) return `payload_mismatch:${parsed.field}`;
      let bound: ReturnType<PayloadKindHandler["bind"]> | BoundInput;
      try {
        bound =
          handler.bindInput === undefined
            ? handler.bind(parsed.payload, target)
            : handler.bindInput(parsed.payload, target);
      } catch {
        // A handler that cannot decode the payload must not let it through.
        return "payload_mismatch:payload";
      }
      if (!bound.ok) return `payload_mismatch:${bound.field}`;
      if (bound.effect.action !== d.binding!.action) return "payload_mismatch:action";
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
      const verdict = checkStatelessPolicy(policyOf(ctx.policies, d.intent!), d.effect!, d.facts);
      if (!verdict.ok) return verdict.reason;
      d.notional = verdict.notional;
      d.reference = verdict.reference;
      return undefined;
    },
  },
]);

/**
 * Runs {@link AUTHORIZATION_STEPS} on one request: pure (no I/O, no key, no
 * state changed; `facts` holds the signer's clock reading and prices). A
 * grant still has to claim its {@link Authorized.claim} (the stateful
 * limits, last) before the plane reads the key; `caller` is the
 * transport-authenticated identity.
 */
export function authorize(
  caller: string,
  view: RequestView,
  ctx: AuthorizeContext,
  facts: PolicyFacts,
): Authorization {
  const draft: Draft = { caller, view, facts };
  for (const step of AUTHORIZATION_STEPS) {
    const reason = step.check(draft, ctx);
    if (reason !== undefined) {
      return { ok: false, reason, binding: draft.binding, knownAccount: draft.entryId !== undefined };
    }
  }
  const intent = draft.intent!;
  const account = view.account!;
  const effect = draft.effect!;
  const readOnly = effect.replayableRead ? ctx.config.read_only_entries[account]?.[intent] : undefined;
  const spec = actionSpec(draft.handler!.kind, draft.binding!.action);
  // A read replayable as a cancel counts and is audited as one unless the read-only key signs it (§3a).
  const actsAsCancel = effect.replayableRead && readOnly === undefined;
  const cancelCapable = actsAsCancel || spec?.cancels === true;
  return {
    ok: true,
    requestId: view.requestId!,
    intent,
    account,
    binding: draft.binding!,
    entryId: readOnly ?? draft.entryId!,
    key: readOnly === undefined ? "trade" : "read_only",
    cancelCapable,
    handler: draft.handler!,
    payload: draft.payload!,
    effect,
    notional: draft.notional,
    reference: draft.reference,
    input: draft.input,
    claim: ledgerClaim(policyOf(ctx.policies, intent), {
      intent,
      account,
      effect,
      cancelCapable: actsAsCancel || spec?.rate === "cancel",
      keepAlive: spec?.rate === "keepalive",
      notional: draft.notional,
    }),
  };
}
