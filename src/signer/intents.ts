import {
  DECLARED_INTENTS,
  INTENT_PAYLOAD_KIND,
  type Intent,
  type PayloadKind,
} from "../ports/signingPlane.js";
import type { PayloadKindHandler } from "./payloadKind.js";
import type { SignerConfig } from "./signerConfig.js";

/** Handlers by payload kind, as a plane is given them (never chosen by a string switch). */
export type PayloadHandlers = ReadonlyMap<PayloadKind, PayloadKindHandler>;

/** True when `name` is one of the intents of signing-plane-v1 §1, enabled or not. */
export function isDeclaredIntent(name: unknown): name is Intent {
  return typeof name === "string" && (DECLARED_INTENTS as readonly string[]).includes(name);
}

/**
 * The enabled intents (signing-plane-v1 §1): listed under `intents` in the
 * signer's config AND implemented, i.e. a handler for the intent's payload
 * kind is registered. Every other declared intent is `intent_not_enabled`.
 * @example enabledIntents(config, new Map([["hmac-query", hmacQueryHandler]])) // Set { "cex_api_signer" }
 */
export function enabledIntents(config: SignerConfig, handlers: PayloadHandlers): ReadonlySet<Intent> {
  const out = new Set<Intent>();
  for (const intent of DECLARED_INTENTS) {
    const kind = INTENT_PAYLOAD_KIND[intent];
    if (config.intents[intent] !== undefined && kind !== undefined && handlers.has(kind)) out.add(intent);
  }
  return out;
}

/**
 * Checks that every handler is registered under its own kind, so a handler
 * can never be asked to sign a payload of another kind.
 * @throws TypeError naming the first misregistered kind.
 */
export function assertHandlerRegistry(handlers: PayloadHandlers): void {
  for (const [kind, handler] of handlers) {
    if (handler.kind !== kind) {
      throw new TypeError(`payload handler registered as "${kind}" handles "${handler.kind}"`);
    }
  }
}
