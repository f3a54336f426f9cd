/** Why a JSON text was refused by {@link parseStrictJson}. */
export type StrictJsonError = "json" | "duplicate_key";

/**
 * Parses JSON text and refuses any object with a repeated key, at any depth,
 * comparing keys after unescaping (`"a"` and `"\u0061"` are the same key), so
 * `{"reduce_only":false,"reduce_only":true}` never means whatever a parser keeps.
 */
export function parseStrictJson(
  text: string,
): { ok: true; value: unknown } | { ok: false; error: StrictJsonError } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, error: "json" };
  }
  return hasDuplicateKey(text) ? { ok: false, error: "duplicate_key" } : { ok: true, value };
}

/**
 * Scans text already known to be valid JSON for an object holding the same key
 * twice. Only object keys are collected; strings are skipped with their escapes.
 */
function hasDuplicateKey(text: string): boolean {
  const stack: (Set<string> | null)[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const start = i;
      let escaped = false;
      i++;
      for (;;) {
        const d = text.charCodeAt(i);
        if (d === 0x5c /* \ */) {
          escaped = true;
          i += 2;
        } else if (d === 0x22) break;
        else i++;
      }
      if (expectKey) {
        const raw = text.slice(start, i + 1);
        const key = escaped ? (JSON.parse(raw) as string) : raw.slice(1, -1);
        const keys = stack[stack.length - 1] as Set<string>;
        if (keys.has(key)) return true;
        keys.add(key);
        expectKey = false;
      }
    } else if (c === 0x7b /* { */) {
      stack.push(new Set());
      expectKey = true;
    } else if (c === 0x5b /* [ */) {
      stack.push(null);
      expectKey = false;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
      expectKey = false;
    } else if (c === 0x2c /* , */) {
      expectKey = stack[stack.length - 1] != null;
    }
  }
  return false;
}
