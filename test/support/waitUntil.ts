import { setTimeout as sleep } from "node:timers/promises";

/** Options of {@link waitUntil}. */
export interface WaitOptions {
  /** Give up after this long (default 30 s). */
  readonly timeoutMs?: number;
  /** Ask again this often (default 25 ms). */
  readonly pollMs?: number;
}

/**
 * Asks `probe` until it answers something other than `undefined` or
 * `false`, and returns that. After `timeoutMs` it throws, naming `what`
 * (a function is called only then, so it can describe the state at the
 * timeout: logs, what the venue holds).
 */
export async function waitUntil<T>(
  what: string | (() => string | Promise<string>),
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  opts: WaitOptions = {},
): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const t0 = Date.now();
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() - t0 > timeoutMs)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${typeof what === "string" ? what : await what()}`,
      );
    await sleep(opts.pollMs ?? 25);
  }
}
