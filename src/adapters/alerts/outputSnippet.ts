/** Longest snippet of a receiver's or a command's output that may reach a log line. */
export const SNIPPET_MAX_CHARS = 160;

const REDACTED = "[REDACTED]";
/** Any `scheme://…` URL: it may carry a token in its path, query or user info. */
const URL_RE = /\b([a-z][a-z0-9+.-]{0,20}):\/\/[^\s"'<>`]+/gi;
/** `token=…`, `password: …`, `Authorization: …` and the like. */
const ASSIGNMENT_RE =
  /\b(token|secret|password|passwd|pwd|api[_-]?key|access[_-]?key|authorization|auth|signature|sig)\b(["']?\s*[=:]\s*["']?)[^\s"',;&]+/gi;
const BEARER_RE = /\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+/gi;
/** Long runs of token characters (API keys, webhook tokens, JWTs). */
const TOKEN_RE = /[A-Za-z0-9_+/=-]{24,}/g;
const CONTROL_RE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\s]+/g;

/**
 * A bounded, redacted, single-line snippet of untrusted output (an HTTP
 * error body, a command's stderr) for a failure reason: each of `secrets`
 * (the sink's own, e.g. its URL and the URL's parts) is cut out, then every
 * URL, `key=value` credential, bearer token and long token-like run is
 * replaced by `[REDACTED]`, control characters become spaces, and the result
 * is clipped to `max` characters. Heuristic on purpose: it errs on hiding.
 * @example redactedSnippet("bad token=abc123 at https://x/y") // "bad token=[REDACTED] at https://[REDACTED]"
 */
export function redactedSnippet(
  output: string | Buffer,
  secrets: readonly string[] = [],
  max = SNIPPET_MAX_CHARS,
): string {
  let text =
    typeof output === "string" ? output.slice(0, 8 * max) : output.subarray(0, 8 * max).toString("utf8");
  // Longest first, so a secret holding another is cut out whole.
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    if (secret.length >= 4) text = text.split(secret).join(REDACTED);
  }
  text = text
    .replace(URL_RE, (_m, scheme: string) => `${scheme}://${REDACTED}`)
    .replace(BEARER_RE, (_m, scheme: string) => `${scheme} ${REDACTED}`)
    .replace(ASSIGNMENT_RE, (_m, key: string, sep: string) => `${key}${sep}${REDACTED}`)
    .replace(TOKEN_RE, (run) => (run === REDACTED ? run : REDACTED))
    .replace(CONTROL_RE, " ")
    .trim();
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
