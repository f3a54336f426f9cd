/**
 * The position watcher's pure parts (issue 12, layer 3): the positions
 * IntentGate's results and order events explain, and the drift check that
 * compares them with what the venues report.
 */
export { driftActionFor } from "./driftActions.js";
export * from "./driftAlert.js";
export { DriftCheck, type DriftFindings, type DriftSettings, type PositionReading } from "./driftCheck.js";
export { ExplainedPositions } from "./explainedPositions.js";
export { InFlight } from "./inFlight.js";
export { ReadFailures } from "./readFailures.js";
export * from "./slot.js";
