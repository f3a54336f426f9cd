export { connectBus } from "./connectBus.js";
export {
  defaultSecretEnv,
  generateKeyMaterial,
  type KeyConfigSnippet,
  type KeyMaterial,
} from "./generateKeys.js";
export { issuePermit, type PermitPayloadIn } from "./issuePermit.js";
export { ed25519PrivateKey, type SigningKey, SigningKeyError, signerFor } from "./keys.js";
export { type PermitGrant, PermitIssuer } from "./permitIssuer.js";
export { buildPlan, checkPlanText, type PlanInput, PlanInputError } from "./planInput.js";
export {
  PlanPublisher,
  type PlanPublisherOptions,
  PrecheckDeniedError,
  type PublishedPlan,
} from "./planPublisher.js";
export { PlanPrechecker, type PrecheckOutcome, type UncertainDenial } from "./prechecker.js";
export {
  type ResultFilter,
  type ResultPosition,
  ResultReader,
  ResultTimeoutError,
} from "./resultReader.js";
export { type SignedPlan, signPlan } from "./signPlan.js";
