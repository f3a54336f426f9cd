import { setTimeout as sleep } from "node:timers/promises";
import { openBackend } from "../../adapters/openBackend.js";
import type { Backend, BackendOptions } from "../../ports/backend.js";

/** What {@link openBusWithRetry} reports while it waits. */
export interface OpenBusObserver {
  /** The bus could not be opened (first failure, and whenever the cause changes); retrying. */
  unreachable(cause: string): void;
  /** Opened after having failed. */
  reached(): void;
}

/** Longest pause between attempts. */
const MAX_BACKOFF_MS = 5000;

/**
 * Opens the bus, retrying with backoff (250 ms doubling to 5 s) while it is
 * unreachable, so an executor started before its Redis waits for it instead
 * of exiting; one report per distinct cause. Resolves `undefined` when
 * `signal` aborts first.
 */
export async function openBusWithRetry(
  opts: BackendOptions,
  deps: { readonly observer: OpenBusObserver; readonly signal: AbortSignal },
): Promise<Backend | undefined> {
  let backoff = 250;
  let lastCause: string | undefined;
  while (!deps.signal.aborted) {
    try {
      const backend = await openBackend(opts);
      if (lastCause !== undefined) deps.observer.reached();
      return backend;
    } catch (err) {
      const cause = err instanceof Error ? err.message : String(err);
      if (cause !== lastCause) deps.observer.unreachable(cause);
      lastCause = cause;
      await sleep(backoff, undefined, { signal: deps.signal }).catch(() => undefined);
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    }
  }
  return undefined;
}
