/**
 * The `intentgate` package's library entry (`import … from "intentgate"`):
 * what a producer or a risk governor needs to talk to IntentGate over the
 * wire contract (docs/wire-contract.md), and the reason codes a reader of
 * results meets. The README's "Library" section lists these names and
 * `test/package/publicEntry.test.ts` checks the built package exports them.
 *
 * A producer's bus is opened with `connectBus`; nothing here opens a venue
 * or a signer: the executor and the CLI are run through the `intentgate`
 * bin, not imported.
 */

export type { Lane, OrderType, Side, TradingState, VenueName } from "./core/plan.js";
export {
  baseCode,
  type DetailOf,
  isRegisteredReason,
  REASON_CODES,
  REASON_REGISTRY,
  type Reason,
  type ReasonCode,
  type ReasonSpec,
  type VenueErrorDetail,
} from "./core/reasons.js";
export type { DecisionKind, PlanResult } from "./core/result.js";
export type { ResultEntry } from "./ports/bus.js";
export {
  buildPlan,
  checkPlanText,
  connectBus,
  defaultSecretEnv,
  ed25519PrivateKey,
  generateKeyMaterial,
  issuePermit,
  type KeyConfigSnippet,
  type KeyMaterial,
  type PermitGrant,
  PermitIssuer,
  type PermitPayloadIn,
  type PlanInput,
  PlanInputError,
  PlanPrechecker,
  PlanPublisher,
  type PlanPublisherOptions,
  PrecheckDeniedError,
  type PrecheckOutcome,
  type PublishedPlan,
  type ResultFilter,
  type ResultPosition,
  ResultReader,
  ResultTimeoutError,
  type SignedPlan,
  type SigningKey,
  SigningKeyError,
  signerFor,
  signPlan,
  type UncertainDenial,
} from "./sdk/index.js";
