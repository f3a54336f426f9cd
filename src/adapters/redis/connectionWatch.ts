import type { BackendOptions } from "../../ports/backend.js";

/** An error's code (`ECONNREFUSED`) or, without one, its message: what an operator needs to see. */
export function errorCause(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown } | null;
  if (typeof e?.code === "string" && e.code !== "") return e.code;
  return typeof e?.message === "string" && e.message !== "" ? e.message : String(err);
}

/**
 * Turns ioredis' connection events into one `lost` (with its real cause) and
 * one `restored` per outage. A server that goes away closes the socket
 * without an error; the cause is then the first reconnect's failure (e.g.
 * `ECONNREFUSED`), or "connection closed" when the reconnect succeeds or
 * nothing more is heard within 2 s.
 */
export function watchConnection(report: BackendOptions["onConnection"]) {
  let up = false;
  let lost = false;
  let pending: NodeJS.Timeout | undefined;
  let lastError: unknown;
  const markLost = (cause: string) => {
    clearTimeout(pending);
    pending = undefined;
    if (lost) return;
    lost = true;
    report?.({ up: false, cause });
  };
  return {
    /** The last error the connection reported (for a failed first connect). */
    get lastError(): unknown {
      return lastError;
    },
    error(err: unknown) {
      lastError = err;
      if (up || pending !== undefined) {
        up = false;
        markLost(errorCause(err));
      }
    },
    close() {
      if (!up) return;
      up = false;
      pending = setTimeout(() => markLost("connection closed"), 2000);
      pending.unref();
    },
    ready() {
      if (pending !== undefined) markLost("connection closed");
      up = true;
      if (lost) {
        lost = false;
        report?.({ up: true });
      }
    },
    stop() {
      clearTimeout(pending);
      pending = undefined;
    },
  };
}
