import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { RecoverableSignature } from "../core/evm/ecdsa.js";
import type { EcdsaJob, EcdsaJobResult } from "./ecdsaWorker.js";
import { KeyStoreError } from "./keyStore.js";
import { type EcdsaSigner, InThreadEcdsaSigner } from "./signInput.js";

/**
 * ECDSA signing on worker threads, so a signer process uses more than one
 * core for EIP-712 orders while its main thread keeps serving requests
 * (authorization, HMAC kinds, the audit log).
 *
 * Per job the worker gets the digest, the expected address, and a COPY of the
 * secret key in a buffer that is moved (transferred, not cloned) to it and
 * zeroed there after use; it keeps only public data between jobs. A worker
 * that dies fails its jobs in flight (→ `signer_unavailable`) and is replaced
 * on the next job. Workers that cannot start at all (a runtime that cannot
 * load the worker module) make the pool sign on the calling thread instead:
 * the same code, the same checks.
 */

type Signed = RecoverableSignature & { readonly checksumAddress: string };

/**
 * Starts the worker module beside this one: `ecdsaWorker.js` once compiled;
 * from source (`.ts`, run through tsx) a bootstrap registers tsx in the
 * worker first, since a worker thread does not inherit the loader hooks.
 */
function startWorker(): Worker {
  // ECDSA on bigints allocates a lot of short-lived numbers: a young generation larger than the
  // process's (the CLI runs with 2 MB) saves most scavenges.
  const resourceLimits = { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB };
  if (!import.meta.url.endsWith(".ts")) {
    return new Worker(new URL("./ecdsaWorker.js", import.meta.url), { resourceLimits });
  }
  const tsx = import.meta.resolve("tsx/esm/api");
  const entry = new URL("./ecdsaWorker.ts", import.meta.url).href;
  return new Worker(
    `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`,
    { eval: true, resourceLimits },
  );
}

const WORKER_YOUNG_GENERATION_MB = 32;

/** `n` worker threads (0: the calling thread), or `"auto"`: one per CPU, at most 4. */
export function createEcdsaSigner(workers: number | "auto"): EcdsaSigner {
  const n = workers === "auto" ? Math.min(4, availableParallelism()) : workers;
  if (!Number.isInteger(n) || n < 0) throw new RangeError("ecdsaWorkers must be a non-negative integer");
  return n === 0 ? new InThreadEcdsaSigner() : new EcdsaWorkerPool(n);
}

interface Pending {
  readonly job: Omit<EcdsaJob, "secret">;
  readonly secretCopy: () => ArrayBuffer;
  readonly resolve: (s: Signed) => void;
  readonly reject: (err: Error) => void;
}

class PoolWorker {
  readonly worker: Worker;
  readonly pending = new Map<number, Pending>();
  /** The worker loaded its module and built its tables (it says so then). */
  ready = false;

  constructor(worker: Worker) {
    this.worker = worker;
  }
}

/** Worker-thread {@link EcdsaSigner}; see the file comment. */
export class EcdsaWorkerPool implements EcdsaSigner {
  readonly #size: number;
  readonly #workers: PoolWorker[] = [];
  #fallback: InThreadEcdsaSigner | undefined;
  #nextId = 0;
  #closed = false;

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError("a pool needs at least one worker");
    this.#size = size;
  }

  /** Starts every worker now, so the first jobs do not wait for them to load and build their tables. */
  warmUp(): void {
    if (this.#closed || this.#fallback !== undefined) return;
    while (this.#workers.length < this.#size) this.#spawn();
  }

  /** True once workers proved unable to start (then every job runs on the calling thread). */
  get inThread(): boolean {
    return this.#fallback !== undefined;
  }

  signDigest(digest: Uint8Array, secretKey: Uint8Array, address: bigint): Promise<Signed> {
    if (this.#closed) return Promise.reject(new Error("the ECDSA pool is closed"));
    if (this.#fallback !== undefined) return this.#fallback.signDigest(digest, secretKey, address);
    const w = this.#pick();
    const id = this.#nextId++;
    // The caller's buffer is not ours to move: a fresh copy goes to the worker, which zeroes it.
    const secretCopy = (): ArrayBuffer => {
      const buf = new ArrayBuffer(secretKey.length);
      new Uint8Array(buf).set(secretKey);
      return buf;
    };
    return new Promise<Signed>((resolve, reject) => {
      const pending: Pending = {
        job: { id, digest: Uint8Array.from(digest), address },
        secretCopy,
        resolve,
        reject,
      };
      w.pending.set(id, pending);
      if (w.pending.size === 1) w.worker.ref();
      this.#post(w, pending);
    });
  }

  #post(w: PoolWorker, p: Pending): void {
    const secret = p.secretCopy();
    try {
      w.worker.postMessage({ ...p.job, secret } satisfies EcdsaJob, [secret]);
    } catch {
      new Uint8Array(secret).fill(0);
      w.pending.delete(p.job.id);
      p.reject(new Error("the ECDSA worker cannot take the job"));
    }
  }

  /**
   * The ready worker with the fewest jobs in flight (any worker while none is
   * ready yet). The first job starts the whole pool, so every worker builds
   * its tables from the start instead of when load first arrives.
   */
  #pick(): PoolWorker {
    while (this.#workers.length < this.#size) this.#spawn();
    let best: PoolWorker | undefined;
    for (const w of this.#workers) {
      if (!w.ready) continue;
      if (best === undefined || w.pending.size < best.pending.size) best = w;
    }
    if (best !== undefined) return best;
    for (const w of this.#workers) if (best === undefined || w.pending.size < best.pending.size) best = w;
    return best ?? this.#spawn();
  }

  #spawn(): PoolWorker {
    const worker = startWorker();
    worker.unref();
    const w = new PoolWorker(worker);
    this.#workers.push(w);
    worker.on("message", (message: EcdsaJobResult | { ready: true }) => {
      if ("ready" in message) w.ready = true;
      else this.#onResult(w, message);
    });
    const gone = () => this.#onGone(w);
    worker.once("error", gone);
    worker.once("exit", gone);
    return w;
  }

  #onResult(w: PoolWorker, result: EcdsaJobResult): void {
    const p = w.pending.get(result.id);
    if (p === undefined) return;
    w.pending.delete(result.id);
    if (w.pending.size === 0) w.worker.unref();
    if (result.ok) {
      p.resolve({
        r: result.r,
        s: result.s,
        recovery: result.recovery,
        checksumAddress: result.checksumAddress,
      });
    } else {
      p.reject(
        result.corrupted
          ? new KeyStoreError("corrupted", "secp256k1: the key or its signature does not match its address")
          : new Error("secp256k1 signing failed"),
      );
    }
  }

  /** A worker errored or exited: drop it; its jobs fail, or run here if workers cannot start at all. */
  #onGone(w: PoolWorker): void {
    const at = this.#workers.indexOf(w);
    if (at < 0) return;
    this.#workers.splice(at, 1);
    void w.worker.terminate().catch(() => undefined);
    const jobs = [...w.pending.values()];
    w.pending.clear();
    if (!w.ready && !this.#closed) {
      // Never came up (e.g. this runtime cannot load the worker module): sign on this thread from now on.
      const fallback = new InThreadEcdsaSigner();
      this.#fallback = fallback;
      for (const p of jobs) {
        const secret = new Uint8Array(p.secretCopy());
        fallback
          .signDigest(p.job.digest, secret, p.job.address)
          .then(p.resolve, p.reject)
          .finally(() => secret.fill(0));
      }
      return;
    }
    for (const p of jobs) p.reject(new Error("the ECDSA worker stopped"));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const workers = this.#workers.splice(0);
    for (const w of workers) {
      for (const p of w.pending.values()) p.reject(new Error("the ECDSA pool is closed"));
      w.pending.clear();
    }
    await Promise.all(workers.map((w) => w.worker.terminate().catch(() => undefined)));
  }
}
