export {
  defaultSecretEnv,
  generateKeyMaterial,
  type KeyConfigSnippet,
  type KeyMaterial,
} from "./generateKeys.js";
export { issuePermit, type PermitPayloadIn } from "./issuePermit.js";
export { ed25519PrivateKey, type SigningKey, SigningKeyError, signerFor } from "./keys.js";
export { type SignedPlan, signPlan } from "./signPlan.js";
