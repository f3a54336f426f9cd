/** A JSON-style object: not null, not an array (what a parsed JSON `{…}` is). */
export function isRecord(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
