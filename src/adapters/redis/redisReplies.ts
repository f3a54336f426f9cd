import { TRADING_STATES, type TradingState } from "../../core/plan.js";

/** Decoding of raw ioredis replies (RESP2 shapes), checked at run time. */

export interface ParsedEntry {
  readonly id: string;
  readonly fields: Array<readonly [string, Buffer]>;
}

/** `[id, [name, value, …] | null]` from a Buffer reply; undefined for a deleted entry. */
export function parseEntry(item: unknown): ParsedEntry | undefined {
  // Redis 6.2 XAUTOCLAIM reports a deleted entry as nil; 7.x as [id, nil] or in its own list
  if (item === null || item === undefined) return undefined;
  const pair = asArray(item, "stream entry");
  const flat = pair[1];
  if (flat === null || flat === undefined) return undefined;
  const raw = asArray(flat, "stream entry fields");
  const fields: Array<readonly [string, Buffer]> = new Array(raw.length >> 1);
  for (let j = 0, k = 0; j + 1 < raw.length; j += 2, k++) {
    fields[k] = [toBuffer(raw[j]).toString("utf8"), toBuffer(raw[j + 1])];
  }
  // stream ids are ASCII
  return { id: toBuffer(pair[0]).toString("latin1"), fields };
}

export function toBuffer(x: unknown): Buffer {
  if (Buffer.isBuffer(x)) return x;
  if (typeof x === "string") return Buffer.from(x, "utf8");
  throw new Error(`redis: expected a bulk string, got ${typeof x}`);
}

export function asArray(x: unknown, what: string): unknown[] {
  if (!Array.isArray(x)) throw new Error(`redis: unexpected ${what} reply`);
  return x;
}

export function parseState(v: unknown): TradingState {
  if (v === null || v === undefined) return "ACTIVE";
  const s = String(v);
  if ((TRADING_STATES as readonly string[]).includes(s)) return s as TradingState;
  // Fail closed and loudly rather than guess what an unknown state means.
  throw new Error(
    `redis: stored trading state "${s.slice(0, 40)}" is not one of ${TRADING_STATES.join(", ")}`,
  );
}

export function positive(n: number, what: string): number {
  if (!Number.isInteger(n) || n <= 0) throw new RangeError(`${what} must be a positive integer, got ${n}`);
  return n;
}
