/**
 * A URL with everything between `//` and its last `@` (the user and password
 * of a bus URL such as `redis://:Top@Secret@host:6379`) replaced by
 * `[REDACTED]`, for logs and messages. Cutting at the last `@` never leaves a
 * piece of a password holding `@`; a URL without credentials is unchanged.
 *
 * @example redactUrl("redis://:Top@Secret@host:6379") // "redis://[REDACTED]@host:6379"
 */
export function redactUrl(url: string): string {
  const scheme = url.indexOf("://");
  if (scheme < 0) return url;
  const at = url.lastIndexOf("@");
  if (at < scheme) return url;
  return `${url.slice(0, scheme + 3)}[REDACTED]${url.slice(at)}`;
}
