/**
 * Redis-style stream ids (`<ms>-<seq>`) for the embedded bus. Ids are stored
 * as two INTEGER columns so SQLite orders them numerically.
 */

/** A parsed stream id. */
export interface StreamId {
  readonly ms: number;
  readonly seq: number;
}

const ID_RE = /^(0|[1-9][0-9]{0,15})(?:-(0|[1-9][0-9]{0,15}))?$/;

/**
 * Parses `<ms>-<seq>` or `<ms>` (seq 0, as Redis reads a bare `<ms>` in an
 * exclusive range start); `undefined` when malformed or beyond 2^53.
 */
export function parseStreamId(text: string): StreamId | undefined {
  const m = ID_RE.exec(text);
  if (!m) return undefined;
  const ms = Number(m[1]);
  const seq = m[2] === undefined ? 0 : Number(m[2]);
  if (!Number.isSafeInteger(ms) || !Number.isSafeInteger(seq)) return undefined;
  return { ms, seq };
}

/** Formats an id as `<ms>-<seq>`. */
export const formatStreamId = (id: StreamId): string => `${id.ms}-${id.seq}`;

/**
 * The id for a new entry after `last` (the stream's greatest id, if any):
 * the current time when it is later, else `last`'s ms with seq + 1, so ids
 * strictly increase even when the clock goes back.
 */
export function nextStreamId(last: StreamId | undefined, nowMs: number): StreamId {
  if (last === undefined || nowMs > last.ms) return { ms: nowMs, seq: 0 };
  return { ms: last.ms, seq: last.seq + 1 };
}

/** Orders ids by ms, then seq. */
export const compareStreamIds = (a: StreamId, b: StreamId): number => a.ms - b.ms || a.seq - b.seq;
