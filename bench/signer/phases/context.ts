import type { PayloadKind, SignRequest } from "../../../src/ports/signingPlane.js";
import type { PayloadKindHandler } from "../../../src/signer/payloadKind.js";
import { polymarketOrderHandler } from "../../../src/signer/payloads/polymarketOrder.js";
import { defaultPayloadHandlers } from "../../../src/signer/payloads/registry.js";
import type { Expected } from "../expected.js";
import type { BenchWorld } from "../fixtures.js";
import type { MeasureOptions } from "../measure.js";
import type { Row } from "../report.js";

/** What every phase of the signer bench gets from `main()`; phases push their rows and notes here. */
export interface PhaseContext {
  readonly world: BenchWorld;
  readonly opts: MeasureOptions;
  /** The run's temp dir (audit files, sockets, the fsync probe); removed by main. */
  readonly workDir: string;
  readonly repoRoot: string;
  readonly expected: Expected;
  /** ethers' in-process signature of request `i`'s order (the reference, and phase 4). */
  readonly ethersSign: (i: number) => Promise<string>;
  /** `requestsNeeded(opts)` distinct requests of `kind`, ids tagged with `tag`. */
  readonly requestsOf: (tag: string, kind: PayloadKind) => SignRequest[];
  readonly rows: Row[];
  readonly notes: string[];
  readonly log: (msg: string) => void;
  /** Registers a clean-up main runs at the end, also after a failure (in registration order). */
  readonly defer: (cleanup: () => Promise<unknown>) => void;
}

/** The handlers the bench's in-process planes use: the build's registry, plus the EIP-712 handler if it lacks it. */
export function localHandlers(): Map<PayloadKind, PayloadKindHandler> {
  const handlers = new Map(defaultPayloadHandlers());
  if (!handlers.has("eip712-order")) {
    handlers.set("eip712-order", polymarketOrderHandler as unknown as PayloadKindHandler);
  }
  return handlers;
}
