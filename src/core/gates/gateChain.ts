import { authenticationGate } from "./authentication.js";
import { exitOwnershipGate } from "./exitOwnership.js";
import { freshnessGate } from "./freshness.js";
import type { Gate } from "./gate.js";
import { idempotencyGate } from "./idempotency.js";
import { limitsGate } from "./limits.js";
import { permitGate } from "./permit.js";
import { schemaGate } from "./schema.js";
import { sourceAllowlistGate } from "./sourceAllowlist.js";
import { tradingStateGate } from "./tradingState.js";
import { venueRouteGate } from "./venueRoute.js";

/**
 * The gates of wire §6, 1 to 10, in order: pure checks, the first denial
 * decides. What follows a pass (step 11, execution) is `planExecution`.
 */
export const GATE_CHAIN: readonly Gate[] = Object.freeze([
  schemaGate,
  authenticationGate,
  sourceAllowlistGate,
  exitOwnershipGate,
  tradingStateGate,
  freshnessGate,
  idempotencyGate,
  permitGate,
  limitsGate,
  venueRouteGate,
]);
