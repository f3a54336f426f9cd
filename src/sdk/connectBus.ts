import { openBackend } from "../adapters/openBackend.js";
import type { Backend } from "../ports/backend.js";

/**
 * Opens the bus a producer publishes to and reads results from: `redis://` /
 * `rediss://`, or the embedded `sqlite:<path>` bus of an executor (which must
 * exist: a producer never creates a bus nobody reads). `prefix` must be the
 * executor's (`intentgate:` by default). Close it with `close()`.
 */
export function connectBus(opts: { readonly url: string; readonly prefix?: string }): Promise<Backend> {
  return openBackend({ url: opts.url, prefix: opts.prefix ?? "intentgate:", create: "none" });
}
