import { DeploymentMismatchError } from "../../ports/deployment.js";
import type { LiveFinishOutcome } from "../../ports/ledger.js";
import { REPLY_CODES } from "./conflictCodes.js";

/**
 * Turns the reply of lua/finishSend.lua or lua/reconcile.lua into the
 * ledger's answer: `duplicate` for its duplicate code, `position` for its
 * position code, a
 * {@link DeploymentMismatchError} for a lost marker (`bound` is the id this
 * handle is bound to), `committed` for anything else (the result entry id).
 */
export function decodeSendReply(
  script: "finishSend" | "reconcile",
  reply: unknown,
  bound: string,
): LiveFinishOutcome {
  const codes = REPLY_CODES[script];
  if (reply === codes.lostDeployment.code) throw lostDeployment(bound);
  if (reply === codes.position.code) return "position";
  return reply === codes.duplicate.code ? "duplicate" : "committed";
}

/** The error of a ledger write that found another marker (or none) than the bound one. */
export function lostDeployment(bound: string): DeploymentMismatchError {
  return new DeploymentMismatchError(
    `ledger write refused: the deployment marker is no longer ${bound} (wire-v1 §7b)`,
  );
}
