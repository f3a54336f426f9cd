/** Longest query string the plane decodes; Binance requests are far shorter. */
export const MAX_QUERY_LENGTH = 8192;

/** Characters a query may hold raw: RFC 3986 unreserved and sub-delimiters, `%` escapes, `&` and `=`. */
const QUERY_CHARS_RE = /^[A-Za-z0-9\-._~!$'()*+,;:@/?%=&]*$/;
const BAD_ESCAPE_RE = /%(?![0-9A-Fa-f]{2})/;

/**
 * Parses an `application/x-www-form-urlencoded` query string strictly: every
 * pair is `name=value` (no empty pair, no `=` inside a value), `+` is a space,
 * `%XX` escapes must be well formed and decode to UTF-8, names are compared
 * after decoding and a repeated name is refused. Returns `undefined` for any
 * text a venue might read differently from us.
 * @example parseFormQuery("symbol=BTCUSDT&side=BUY") // Map { "symbol" => "BTCUSDT", "side" => "BUY" }
 */
export function parseFormQuery(query: unknown): ReadonlyMap<string, string> | undefined {
  if (typeof query !== "string" || query.length === 0 || query.length > MAX_QUERY_LENGTH) return undefined;
  if (!QUERY_CHARS_RE.test(query)) return undefined;
  const params = new Map<string, string>();
  for (const pair of query.split("&")) {
    const eq = pair.indexOf("=");
    if (eq <= 0 || pair.indexOf("=", eq + 1) >= 0) return undefined;
    const name = decodeFormComponent(pair.slice(0, eq));
    const value = decodeFormComponent(pair.slice(eq + 1));
    if (name === undefined || value === undefined || name.length === 0 || params.has(name)) return undefined;
    params.set(name, value);
  }
  return params;
}

/** One name or value: `+` → space, then strict percent-decoding as UTF-8. */
function decodeFormComponent(text: string): string | undefined {
  if (BAD_ESCAPE_RE.test(text)) return undefined;
  try {
    return decodeURIComponent(text.replaceAll("+", " "));
  } catch {
    return undefined;
  }
}
