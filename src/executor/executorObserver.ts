import type { Logger } from "../ops/logger.js";
import type { Metrics } from "../ops/metrics.js";
import type { BusConnectionEvent } from "../ports/bus.js";
import { describeOffset } from "./busClockGuard.js";
import type { ExecutorObserver } from "./executor.js";
import type { LiveOrderFollowerObserver } from "./liveOrderFollower.js";
import type { OrderFollowerObserver } from "./orderFollower.js";

/**
 * The executor's logs and metrics: one JSON line per decision (plan_id,
 * decision, error, lane, stream_id, source, latency) and the decision
 * counter and histogram. Never logs entry fields, so no auth or secret.
 */
export function executorObserver(
  logger: Logger,
  metrics: Metrics,
): ExecutorObserver &
  OrderFollowerObserver &
  LiveOrderFollowerObserver & { busConnection(event: BusConnectionEvent): void } {
  let busDown = false;
  // Decision lines carry only the fixed fields below, none of them a redacted path, so they
  // skip the redaction pass (a third of a line's cost); every other line keeps it.
  const decisionLog = logger.child({}, { redact: { paths: [] } });
  return {
    decided(result, seconds) {
      metrics.recordDecision({
        decision: result.decision,
        error: result.error,
        lane: result.lane,
        source: result.source,
        authenticated: result.authenticated,
        venue: result.venue,
        mode: result.mode,
        seconds,
      });
      decisionLog.info(
        {
          plan_id: result.plan_id,
          decision: result.decision,
          error: result.error,
          lane: result.lane,
          stream_id: result.stream_id,
          source: result.source,
          authenticated: result.authenticated,
          venue: result.venue,
          mode: result.mode,
          latency_ms: Math.round(seconds * 1e6) / 1e3,
        },
        "decision",
      );
    },
    orderEvent(event) {
      const cause = event.cause?.startsWith("plan:") ? "plan" : (event.cause ?? "none");
      metrics.orderEvents.inc({ venue: event.venue, event: event.event, cause });
      logger.info(
        {
          plan_id: event.plan_id,
          venue: event.venue,
          account: event.account,
          symbol: event.symbol,
          client_order_id: event.client_order_id,
          event: event.event,
          fill_qty: event.fill_qty,
          cause: event.cause,
        },
        "order event",
      );
    },
    cancelFailed(order, error, attempt) {
      metrics.orderCancelFailures.inc({ venue: order.venue });
      logger.error(
        {
          venue: order.venue,
          account: order.account,
          symbol: order.symbol,
          client_order_id: order.client_order_id,
          error,
          attempt,
        },
        "cancel at the venue failed; retrying with backoff",
      );
    },
    keepAlive(venue, account, ok, detail) {
      metrics.deadmanArmed.set({ venue, account }, ok ? 1 : 0);
      if (ok) logger.debug({ venue, account, detail }, "dead-man switch armed");
      else logger.warn({ venue, account, detail }, "dead-man switch could not be armed");
    },
    duplicate(lane, streamId) {
      logger.debug(
        { lane, stream_id: streamId },
        "entry already had its result; acknowledged without a second one",
      );
    },
    gaveUp(count) {
      logger.warn({ count }, "shared state kept changing; entries left pending for a later retry");
    },
    failed(err, during) {
      // While the bus is known to be down, the one "bus connection lost" line says why.
      const line = { err: describeError(err), during };
      if (busDown) logger.debug(line, "bus or ledger call failed; backing off");
      else logger.error(line, "bus or ledger call failed; backing off");
    },
    deploymentWaiting() {
      metrics.deploymentOk.set(0);
      logger.warn(
        { deployment: null },
        "no deployment marker on the bus: deciding nothing until `intentgate init --config F` creates the deployment",
      );
    },
    deploymentAdopted(id, how) {
      metrics.deploymentOk.set(1);
      logger.info({ deployment: id, how }, "deciding under deployment marker");
    },
    deploymentLost(expected, found) {
      metrics.deploymentOk.set(0);
      logger.error(
        { expected, found: found ?? null },
        found === undefined
          ? "deployment lost: the marker is gone (the bus lost its data: claims, trading state and groups); deciding nothing until `intentgate init`"
          : "deployment lost: the marker changed under the executor; deciding nothing until `intentgate init`",
      );
    },
    busClockSkewed(offsetMs, toleranceMs) {
      metrics.busClockOk.set(0);
      logger.error(
        { offset_ms: offsetMs, tolerance_ms: toleranceMs },
        `${describeOffset(offsetMs)}, more than max_bus_clock_skew_ms: deciding nothing until it is fixed (other executors take the plans)`,
      );
    },
    busClockAgreed(offsetMs) {
      metrics.busClockOk.set(1);
      logger.warn({ offset_ms: offsetMs }, "this host's clock agrees with the bus's again: deciding");
    },
    busEvicting(policy) {
      metrics.busKeepsKeys.set(0);
      logger.error(
        { policy },
        `the bus may evict keys (maxmemory-policy ${policy}): claims, marks or positions could vanish, so nothing is decided until it is noeviction`,
      );
    },
    busKeepsKeys(policy) {
      metrics.busKeepsKeys.set(1);
      logger.warn({ policy }, "the bus keeps its keys again (maxmemory-policy noeviction): deciding");
    },
    busConnection(event) {
      busDown = !event.up;
      metrics.busUp.set(event.up ? 1 : 0);
      if (event.up) logger.warn({ bus: "up" }, "bus connection restored");
      else logger.warn({ bus: "down", cause: event.cause }, "bus connection lost");
    },
  };
}

/** An error's name, code and message, never its other properties (they may hold request data). */
export function describeError(err: unknown): { name: string; code?: string; message: string } {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return { name: err.name, ...(typeof code === "string" ? { code } : {}), message: err.message };
  }
  return { name: "NonError", message: String(err) };
}
