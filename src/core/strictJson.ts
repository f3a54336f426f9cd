/** Why a JSON text was refused by {@link parseStrictJson}. */
export type StrictJsonError = "json" | "duplicate_key";

/**
 * Parses JSON text and refuses any object with a repeated key, at any depth,
 * comparing keys after unescaping (`"a"` and `"\u0061"` are the same key), so
 * `{"reduce_only":false,"reduce_only":true}` never means whatever a parser keeps.
 *
 * JSON.parse keeps one member per distinct key, so the text holds a repeated
 * key exactly when it has more members (strings followed by `:`) than the
 * parsed value has own keys. Counting both is much cheaper than tracking keys.
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
  return countMembersInText(text) === countMembers(value)
    ? { ok: true, value }
    : { ok: false, error: "duplicate_key" };
}

/** Object members in valid JSON text: strings directly followed (after white space) by `:`. */
function countMembersInText(text: string): number {
  let members = 0;
  let i = 0;
  for (;;) {
    const open = text.indexOf('"', i);
    if (open < 0) return members;
    let close = open + 1;
    for (;;) {
      close = text.indexOf('"', close);
      let backslashes = 0;
      while (text.charCodeAt(close - 1 - backslashes) === 0x5c /* \ */) backslashes++;
      if (backslashes % 2 === 0) break;
      close++;
    }
    i = close + 1;
    let c = text.charCodeAt(i);
    while (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) c = text.charCodeAt(++i);
    if (c === 0x3a /* : */) members++;
  }
}

/** Own members of every object in a parsed JSON value. */
function countMembers(value: unknown): number {
  if (typeof value !== "object" || value === null) return 0;
  let members = 0;
  if (Array.isArray(value)) {
    for (const item of value) members += countMembers(item);
    return members;
  }
  for (const key in value) {
    members++;
    members += countMembers((value as Record<string, unknown>)[key]);
  }
  return members;
}

/**
 * Scans text already known to be valid JSON for an object holding the same key
 * twice; returns the dotted path of the first repeat (`c.1.x`), or `undefined`.
 * Keys are compared after unescaping; strings are skipped with their escapes.
 */
export function findDuplicateKey(text: string): string | undefined {
  type Frame = { keys: Set<string>; key: string | undefined; expectKey: boolean } | { index: number };
  const stack: Frame[] = [];
  const pathTo = (last: string): string =>
    [...stack.slice(0, -1).map((f) => ("keys" in f ? f.key : String(f.index))), last]
      .filter((p): p is string => p !== undefined)
      .join(".");
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const top = stack[stack.length - 1];
    if (c === 0x22 /* " */) {
      const start = i;
      let escaped = false;
      for (i++; text.charCodeAt(i) !== 0x22; i++) {
        if (text.charCodeAt(i) === 0x5c /* \ */) {
          escaped = true;
          i++;
        }
      }
      if (top && "keys" in top && top.expectKey) {
        const raw = text.slice(start, i + 1);
        const key = escaped ? (JSON.parse(raw) as string) : raw.slice(1, -1);
        if (top.keys.has(key)) return pathTo(key);
        top.keys.add(key);
        top.key = key;
        top.expectKey = false;
      }
    } else if (c === 0x7b /* { */) {
      stack.push({ keys: new Set(), key: undefined, expectKey: true });
    } else if (c === 0x5b /* [ */) {
      stack.push({ index: 0 });
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
    } else if (c === 0x2c /* , */ && top) {
      if ("keys" in top) top.expectKey = true;
      else top.index++;
    }
  }
  return undefined;
}
