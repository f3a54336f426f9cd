import type { SigningPlane, SignOutcome, SignRequest } from "../../src/ports/signingPlane.js";
import { quantile } from "../lib/latency.js";

/** Sequential latency (one request in flight) and throughput with `concurrency` in flight. */
export interface Measured {
  readonly seqN: number;
  readonly p50Us: number;
  readonly p99Us: number;
  readonly meanUs: number;
  /** 1e6 / mean latency: what one caller waiting on each answer gets. */
  readonly seqPerS: number;
  readonly concN: number;
  readonly concurrency: number;
  /** Requests answered per second with `concurrency` in flight. */
  readonly concPerS: number;
}

export interface MeasureOptions {
  readonly warmup: number;
  readonly seqN: number;
  readonly concN: number;
  readonly concurrency: number;
}

/** Statistics of latencies in µs. */
export function stats(samplesUs: number[]): { p50Us: number; p99Us: number; meanUs: number } {
  samplesUs.sort((a, b) => a - b);
  const mean = samplesUs.reduce((s, x) => s + x, 0) / samplesUs.length;
  return { p50Us: quantile(samplesUs, 0.5), p99Us: quantile(samplesUs, 0.99), meanUs: mean };
}

/**
 * Runs `op(i)` for i = 0 … warmup + seqN + concN − 1: warm-up (not measured),
 * then `seqN` one at a time (latency), then `concN` with `concurrency` in
 * flight (throughput). `op` rejects on a wrong answer.
 */
export async function measure(opts: MeasureOptions, op: (i: number) => Promise<void>): Promise<Measured> {
  let i = 0;
  for (const end = opts.warmup; i < end; i++) await op(i);
  const lat: number[] = [];
  for (const end = i + opts.seqN; i < end; i++) {
    const t = performance.now();
    await op(i);
    lat.push((performance.now() - t) * 1000);
  }
  const s = stats(lat);
  const first = i;
  const last = first + opts.concN;
  let next = first;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: opts.concurrency }, async () => {
      while (next < last) await op(next++);
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  return {
    seqN: opts.seqN,
    ...s,
    seqPerS: 1e6 / s.meanUs,
    concN: opts.concN,
    concurrency: opts.concurrency,
    concPerS: opts.concN / seconds,
  };
}

/** A signature-producing op on a plane: every answer must be a grant (a denial aborts the bench). */
export function planeOp(
  plane: SigningPlane,
  caller: string,
  requests: readonly SignRequest[],
  check?: (outcome: Extract<SignOutcome, { granted: true }>, i: number) => void,
): (i: number) => Promise<void> {
  return async (i) => {
    const request = requests[i];
    if (request === undefined) throw new Error(`no request ${i}`);
    const out = await plane.sign(caller, request);
    if (!out.granted) throw new Error(`request ${request.request_id} denied: ${out.reason}`);
    check?.(out, i);
  };
}

/** How many requests {@link measure} uses with these options. */
export function requestsNeeded(opts: MeasureOptions): number {
  return opts.warmup + opts.seqN + opts.concN;
}
