/**
 * Memoizes a pure function of two strings (a ledger field name built from an
 * account and a symbol or day, say): each plan asks for the same few keys
 * several times (reading facts, deciding, applying to the overlay, encoding
 * the commit), and building them is the cost. The cache is bounded: it is
 * emptied whole once it holds `max` entries, so a stream of distinct inputs
 * costs memory no more than that.
 * @example const key = memoKey2((a, s) => JSON.stringify([a, s])); key("acct", "BTCUSDT")
 */
export function memoKey2(fn: (a: string, b: string) => string, max = 4096): (a: string, b: string) => string {
  let cache = new Map<string, Map<string, string>>();
  let size = 0;
  return (a, b) => {
    let inner = cache.get(a);
    const hit = inner?.get(b);
    if (hit !== undefined) return hit;
    if (size >= max) {
      cache = new Map();
      size = 0;
      inner = undefined;
    }
    if (inner === undefined) {
      inner = new Map();
      cache.set(a, inner);
    }
    const value = fn(a, b);
    inner.set(b, value);
    size++;
    return value;
  };
}
