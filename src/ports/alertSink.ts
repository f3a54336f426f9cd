import type { AlertRecord } from "../core/alertRecord.js";

export type { AlertRecord } from "../core/alertRecord.js";

/**
 * What became of one delivery attempt:
 * - `delivered`: the receiver took the alert; it is not sent to this sink again;
 * - `retry`: it may take it later (a timeout, a network error, a 429 or 5xx, a
 *   failed command); `retryAfterMs` is the receiver's own "not before" (a
 *   `Retry-After` header), which the caller must honour;
 * - `rejected`: it never will (a 4xx other than 408/429, a refused redirect):
 *   retrying is pointless, the failure is reported once.
 *
 * `reason` is short (a code plus at most a bounded, redacted snippet of what
 * the receiver said) and never holds a secret of the sink (a URL, a token):
 * callers log it and count it.
 */
export type SinkOutcome =
  | { readonly status: "delivered" }
  | { readonly status: "retry"; readonly reason: string; readonly retryAfterMs?: number }
  | { readonly status: "rejected"; readonly reason: string };

/**
 * A place alerts go to (a chat webhook, a command). Contract:
 * - {@link AlertSink.deliver} delivers one alert and settles with a
 *   {@link SinkOutcome}; it never throws or rejects (every failure is an
 *   outcome) and never waits longer than the sink's own timeout, nor past
 *   `signal` aborting (then: `retry`, reason `aborted`);
 * - it passes `alert.id` on as an idempotency key where the receiver can use
 *   one, because a caller may deliver the same alert again after a crash
 *   (delivery is at least once);
 * - nothing it logs, throws, returns or prints (`util.inspect`, JSON) holds
 *   the sink's secrets; {@link AlertSink.name} is the only identity it shows.
 * Several deliveries may run at once on one sink.
 */
export interface AlertSink {
  /** A short name for logs and the `sink` metric label (letters, digits, `_.-`); never a secret. */
  readonly name: string;
  /** Delivers one alert. Never throws; settles within the sink's timeout. */
  deliver(alert: AlertRecord, signal?: AbortSignal): Promise<SinkOutcome>;
}

/** What a sink name must look like: it becomes a metric label and a key of the persisted delivery state. */
export const SINK_NAME_PATTERN: RegExp = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
