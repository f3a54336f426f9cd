import { type BinanceErrorAnswer, binanceError } from "./emulatorErrors.js";
import type { Answer } from "./emulatorOrders.js";

/** Endpoints a fault can be injected on. */
export type EmulatorEndpoint =
  | "time"
  | "exchangeInfo"
  | "order"
  | "queryOrder"
  | "cancelOrder"
  | "positionRisk"
  | "openOrders"
  | "cancelAll"
  | "countdown"
  | "account"
  | "userTrades"
  | "marketData";

/**
 * A fault the emulator plays on a request. `process` says whether the
 * request is carried out (an order placed) before the fault answers.
 *
 * | kind | answer |
 * |---|---|
 * | `latency` | waits `ms`, then answers normally (the work happens after the wait, even if the client gave up) |
 * | `http_error` | HTTP `status` (default 503) with a gateway text body, before or after processing |
 * | `timeout_after_accept` | processes, then holds the answer `holdMs` (default 30 s) or until the client hangs up |
 * | `drop_response` | processes (unless `process: false`), then destroys the socket without an answer |
 * | `status_unknown` | Binance's "execution status unknown" (`code` -1006 default, -1007, -1000), before or after processing |
 * | `throttle` | -1008 (HTTP 503), not processed; reduce-only orders are exempt, as on Binance, and do not use it up |
 * | `rate_limit` | -1003 (HTTP 429), not processed |
 */
export type EmulatorFault =
  | { readonly kind: "latency"; readonly ms: number }
  | { readonly kind: "http_error"; readonly status?: number; readonly process: boolean }
  | { readonly kind: "timeout_after_accept"; readonly holdMs?: number }
  | { readonly kind: "drop_response"; readonly process?: boolean }
  | { readonly kind: "status_unknown"; readonly code?: -1000 | -1006 | -1007; readonly process: boolean }
  | { readonly kind: "throttle" }
  | { readonly kind: "rate_limit" };

interface Armed {
  readonly endpoint: EmulatorEndpoint | "*";
  readonly fault: EmulatorFault;
  remaining: number;
}

/** What a request tells the fault queue about itself. */
export interface FaultContext {
  /** An order with `reduceOnly=true` (exempt from `throttle`). */
  readonly reduceOnly?: boolean;
}

/**
 * Faults armed on the emulator, played in the order they were injected:
 * each request that passed authentication takes the first armed fault for
 * its endpoint (or `"*"`) that applies to it, one use per request. Also holds
 * the server clock's skew.
 */
export class EmulatorFaults {
  readonly #armed: Armed[] = [];
  #clockSkewMs = 0;

  /**
   * Arms `fault` for the next `times` (default 1; `Infinity` for every)
   * requests to `endpoint` (`"*"`: any endpoint).
   * @example emulator.faults.inject("order", { kind: "drop_response" }) // the next order is placed, its answer lost
   */
  inject(
    endpoint: EmulatorEndpoint | "*",
    fault: EmulatorFault,
    opts: { readonly times?: number } = {},
  ): void {
    const times = opts.times ?? 1;
    if (!(times > 0)) throw new RangeError("times must be > 0");
    this.#armed.push({ endpoint, fault, remaining: times });
  }

  /** Disarms every fault (the clock skew stays). */
  clear(): void {
    this.#armed.length = 0;
  }

  /** Uses of armed faults still left (`Infinity` when one is unlimited). */
  pending(): number {
    return this.#armed.reduce((n, a) => n + a.remaining, 0);
  }

  /** Server clock − the emulator's base clock, in ms (positive: the server runs ahead). */
  get clockSkewMs(): number {
    return this.#clockSkewMs;
  }

  /** Sets the server clock's skew (ms); applies to every later request and to `GET /fapi/v1/time`. */
  setClockSkew(ms: number): void {
    if (!Number.isFinite(ms)) throw new RangeError("clock skew must be finite");
    this.#clockSkewMs = Math.trunc(ms);
  }

  /** Takes one use of the first armed fault that applies, or `undefined`. */
  take(endpoint: EmulatorEndpoint, ctx: FaultContext = {}): EmulatorFault | undefined {
    const i = this.#armed.findIndex(
      (a) =>
        (a.endpoint === "*" || a.endpoint === endpoint) &&
        !(a.fault.kind === "throttle" && (endpoint !== "order" || ctx.reduceOnly === true)),
    );
    const armed = this.#armed[i];
    if (armed === undefined) return undefined;
    armed.remaining -= 1;
    if (armed.remaining <= 0) this.#armed.splice(i, 1);
    return armed.fault;
  }
}

/** The answer of a fault that strikes before processing; `"drop"` to destroy the socket. */
export function faultBefore(
  fault: EmulatorFault | undefined,
): BinanceErrorAnswer | Answer | "drop" | undefined {
  switch (fault?.kind) {
    case "throttle":
      return binanceError(-1008);
    case "rate_limit":
      return binanceError(-1003, "2400");
    case "http_error":
      return fault.process ? undefined : gatewayError(fault.status);
    case "status_unknown":
      return fault.process ? undefined : binanceError(fault.code ?? -1006);
    case "drop_response":
      return fault.process === false ? "drop" : undefined;
    default:
      return undefined;
  }
}

/** The answer of a fault that strikes after processing. */
export function faultAfter(fault: EmulatorFault | undefined): BinanceErrorAnswer | Answer | undefined {
  if (fault?.kind === "http_error" && fault.process) return gatewayError(fault.status);
  if (fault?.kind === "status_unknown" && fault.process) return binanceError(fault.code ?? -1006);
  return undefined;
}

/** A gateway's 5xx: a text body, no Binance code. */
export function gatewayError(status = 503): Answer {
  return {
    status,
    body: status === 503 ? "Service Unavailable." : `<html><body><h1>${status}</h1></body></html>`,
  };
}
