/**
 * The wait a `Retry-After` header asks for, in milliseconds: either delay
 * seconds (`120`) or an HTTP date (`Wed, 21 Oct 2015 07:28:00 GMT`, counted
 * from `nowMs`; a date in the past is 0). `undefined` when the header is
 * missing or unreadable. Never more than `maxMs`.
 * @example parseRetryAfter("2", Date.now(), 60_000) // 2000
 */
export function parseRetryAfter(
  header: string | undefined,
  nowMs: number,
  maxMs: number,
): number | undefined {
  if (header === undefined) return undefined;
  const value = header.trim();
  let ms: number;
  if (/^\d{1,10}$/.test(value)) ms = Number(value) * 1000;
  else {
    const at = Date.parse(value);
    if (Number.isNaN(at) || !/[a-z]/i.test(value)) return undefined;
    ms = Math.max(0, at - nowMs);
  }
  return Math.min(ms, maxMs);
}
