/** One reading of the server clock: what it said, and when (local ms) the request left and the answer came. */
export interface TimeSample {
  readonly serverTime: number;
  readonly sentAt: number;
  readonly receivedAt: number;
}

/** Options of {@link ServerClock}. */
export interface ServerClockOptions {
  /** Local clock (ms). */
  readonly now: () => number;
  /** Reads `GET /fapi/v1/time` once; `undefined` when it failed. */
  readonly sample: () => Promise<TimeSample | undefined>;
  /** Readings per sync; the one with the shortest round trip wins. Default 3. */
  readonly samples?: number;
  /** A sync older than this is stale (periodic resync). Default 60 000 ms. */
  readonly resyncIntervalMs?: number;
}

/**
 * Tracks the Binance server clock's offset from the local clock, from
 * `GET /fapi/v1/time`: offset = serverTime − (sentAt + receivedAt) / 2 (the
 * server read its clock about half a round trip after the request left),
 * keeping the reading with the shortest round trip. Signed requests carry
 * `timestamp = local now + offset`. A sync is due when none succeeded yet,
 * after {@link ServerClock.invalidate} (Binance answered -1021), or when the
 * last one is older than `resyncIntervalMs`.
 */
export class ServerClock {
  readonly #now: () => number;
  readonly #sample: ServerClockOptions["sample"];
  readonly #samples: number;
  readonly #resyncIntervalMs: number;
  #offset: number | undefined;
  #syncedAt: number | undefined;
  #rttMs: number | undefined;
  #stale = true;
  #inFlight: Promise<boolean> | undefined;

  constructor(opts: ServerClockOptions) {
    this.#now = opts.now;
    this.#sample = opts.sample;
    this.#samples = Math.max(1, opts.samples ?? 3);
    this.#resyncIntervalMs = opts.resyncIntervalMs ?? 60_000;
  }

  /** Server − local (ms), once measured. */
  get offsetMs(): number | undefined {
    return this.#offset;
  }

  /** Round trip of the reading the offset comes from (its error is at most half of it). */
  get rttMs(): number | undefined {
    return this.#rttMs;
  }

  /** The server's time now, as best known (the local clock until a sync succeeded). */
  now(): number {
    return this.at(this.#now());
  }

  /** The server's time at local time `local`, as best known. */
  at(local: number): number {
    return Math.round(local + (this.#offset ?? 0));
  }

  /** Whether a sync is due. */
  needsSync(): boolean {
    return (
      this.#stale || this.#syncedAt === undefined || this.#now() - this.#syncedAt >= this.#resyncIntervalMs
    );
  }

  /** Marks the offset stale (after -1021); the next {@link ServerClock.ensure} resyncs. */
  invalidate(): void {
    this.#stale = true;
  }

  /** Syncs when due; true when an offset is known afterwards. */
  async ensure(): Promise<boolean> {
    if (!this.needsSync()) return true;
    const ok = await this.sync();
    return ok || this.#offset !== undefined;
  }

  /** Syncs now (one sync at a time; concurrent callers share it). True when it succeeded. */
  sync(): Promise<boolean> {
    this.#inFlight ??= this.#run().finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  async #run(): Promise<boolean> {
    let best: TimeSample | undefined;
    for (let i = 0; i < this.#samples; i++) {
      const s = await this.#sample();
      if (s === undefined) continue;
      if (best === undefined || s.receivedAt - s.sentAt < best.receivedAt - best.sentAt) best = s;
    }
    if (best === undefined) return false;
    this.#offset = Math.round(best.serverTime - (best.sentAt + best.receivedAt) / 2);
    this.#rttMs = best.receivedAt - best.sentAt;
    this.#syncedAt = this.#now();
    this.#stale = false;
    return true;
  }
}
