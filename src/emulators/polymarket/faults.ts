/**
 * Faults the emulator injects on demand. Each applies to the next matching
 * request(s), `times` of them (default 1), then is used up:
 *
 * | fault | does |
 * |---|---|
 * | `latency` | waits `ms`, then handles the request normally |
 * | `http_5xx` | answers `status` (default 500); with `process: true` the request is handled first (an order is placed), else not |
 * | `timeout` | holds the answer `holdMs` (default 60 000, or until `close`), past any client timeout; with `process: true` the request is handled first ("timeout after accept") |
 * | `drop` | destroys the socket without an answer; with `process: true` after handling ("dropped response") |
 *
 * Clock skew is a setting, not a one-shot fault: {@link EmulatorFaults.setClockSkew}.
 */
export type EmulatorFault =
  | { readonly kind: "latency"; readonly ms: number }
  | { readonly kind: "http_5xx"; readonly status?: number; readonly process: boolean }
  | { readonly kind: "timeout"; readonly holdMs?: number; readonly process: boolean }
  | { readonly kind: "drop"; readonly process: boolean };

/** Which requests a fault applies to: default `POST /order`. A `path` ending in `/` matches every path under it. */
export interface FaultMatch {
  readonly method?: string;
  readonly path?: string;
  /** How many matching requests it applies to; default 1. */
  readonly times?: number;
}

interface Armed {
  readonly fault: EmulatorFault;
  readonly method: string;
  readonly path: string;
  left: number;
}

/** The fault controls of one emulator. */
export class EmulatorFaults {
  readonly #armed: Armed[] = [];
  #skewMs = 0;

  /** Arms a fault for the next `times` requests matching `match` (default: one `POST /order`). */
  inject(fault: EmulatorFault, match: FaultMatch = {}): void {
    const times = match.times ?? 1;
    if (!Number.isInteger(times) || times < 1) throw new RangeError("times must be a positive integer");
    this.#armed.push({ fault, method: match.method ?? "POST", path: match.path ?? "/order", left: times });
  }

  /** Shifts the emulator's clock (`GET /time` and the L2 timestamp check) by `ms` until set again; 0 resets. */
  setClockSkew(ms: number): void {
    this.#skewMs = ms;
  }

  get clockSkewMs(): number {
    return this.#skewMs;
  }

  /** Faults still armed (counting each remaining use). */
  pending(): number {
    return this.#armed.reduce((n, a) => n + a.left, 0);
  }

  /** Disarms every fault and resets the clock skew. */
  clear(): void {
    this.#armed.length = 0;
    this.#skewMs = 0;
  }

  /** Takes one use of the first fault matching a request, if any. */
  take(method: string, path: string): EmulatorFault | undefined {
    const i = this.#armed.findIndex(
      (a) => a.method === method && (a.path === path || (a.path.endsWith("/") && path.startsWith(a.path))),
    );
    if (i < 0) return undefined;
    const armed = this.#armed[i]!;
    armed.left -= 1;
    if (armed.left === 0) this.#armed.splice(i, 1);
    return armed.fault;
  }
}
