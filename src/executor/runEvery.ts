import { setTimeout as sleep } from "node:timers/promises";

/**
 * Runs `step` now and then every `everyMs` after it finished, until `signal`
 * aborts. A step that throws is reported to `failed` and the loop goes on:
 * one failed pass never stops a background follower.
 */
export async function runEvery(opts: {
  readonly signal: AbortSignal;
  readonly everyMs: number;
  readonly step: () => Promise<unknown>;
  readonly failed: (err: unknown) => void;
}): Promise<void> {
  const { signal, everyMs, step, failed } = opts;
  while (!signal.aborted) {
    try {
      await step();
    } catch (err) {
      failed(err);
    }
    await sleep(everyMs, undefined, { signal }).catch(() => undefined);
  }
}
