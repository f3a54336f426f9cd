/**
 * Worker-thread side of `ecdsaWorkers.ts`: signs digests with secret keys it
 * is handed one job at a time (each signature verified under the expected
 * address, `verifiedEcdsa.ts`), zeroes each secret key after use, and keeps
 * only public data (verifying keys) between jobs. Never logs.
 */
import { parentPort } from "node:worker_threads";
import { KeyStoreError } from "./keyStore.js";
import { InThreadEcdsaSigner } from "./signInput.js";

/** A job: sign `digest` with the secret key in `secret` (moved here, zeroed after use), expected address `address`. */
export interface EcdsaJob {
  readonly id: number;
  readonly digest: Uint8Array;
  readonly secret: ArrayBuffer;
  readonly address: bigint;
}

export type EcdsaJobResult =
  | {
      readonly id: number;
      readonly ok: true;
      readonly r: bigint;
      readonly s: bigint;
      readonly recovery: 0 | 1;
      readonly checksumAddress: string;
    }
  | { readonly id: number; readonly ok: false; readonly corrupted: boolean };

const port = parentPort;
if (port !== null) {
  const signer = new InThreadEcdsaSigner();
  port.on("message", (job: EcdsaJob) => {
    const secret = new Uint8Array(job.secret);
    let result: EcdsaJobResult;
    try {
      const { r, s, recovery, checksumAddress } = signer.signNow(job.digest, secret, job.address);
      result = { id: job.id, ok: true, r, s, recovery, checksumAddress };
    } catch (err) {
      // Only the kind of failure crosses back: messages could quote inputs.
      result = { id: job.id, ok: false, corrupted: err instanceof KeyStoreError && err.code === "corrupted" };
    } finally {
      secret.fill(0);
    }
    port.postMessage(result);
  });
  // Tables first (a few hundred ms), then "ready": the pool sends its jobs to ready workers.
  signer.warmUp();
  port.postMessage({ ready: true });
}
