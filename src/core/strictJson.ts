/** Why a JSON text was refused by {@link parseStrictJson}. */
export type StrictJsonError = "json" | "duplicate_key" | "too_deep";

/**
 * Deepest nesting of arrays and objects {@link parseStrictJson} accepts. A plan
 * is flat and `meta` needs a few levels; the bound keeps every later walk
 * over the value (member counts, `JSON.stringify`, schema checks) shallow, so
 * no input can exhaust the call stack.
 */
export const MAX_JSON_DEPTH = 32;

/**
 * Parses JSON text and refuses any object with a repeated key, at any depth,
 * comparing keys after unescaping (`"a"` and `"\u0061"` are the same key), so
 * `{"reduce_only":false,"reduce_only":true}` never means whatever a parser keeps.
 * Text nested deeper than {@link MAX_JSON_DEPTH} is refused (`too_deep`) before
 * it is parsed. Never throws, and nothing here recurses on the input.
 *
 * JSON.parse keeps one member per distinct key, so the text holds a repeated
 * key exactly when it has more members (strings followed by `:`) than the
 * parsed value has own keys. Counting both is much cheaper than tracking keys.
 */
export function parseStrictJson(
  text: string,
): { ok: true; value: unknown } | { ok: false; error: StrictJsonError } {
  if (nestingExceeds(text, MAX_JSON_DEPTH)) return { ok: false, error: "too_deep" };
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

/**
 * Whether `text` opens more than `limit` arrays/objects inside one another,
 * brackets inside strings not counted. One linear pass; the text need not be
 * valid JSON (an unterminated string ends the scan).
 */
export function nestingExceeds(text: string, limit: number): boolean {
  // Fast path: text with at most `limit` opening brackets in all (a plan has one or two) cannot
  // nest deeper; counting them with indexOf skips everything else in native code.
  if (!hasMoreOpeners(text, limit)) return false;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      for (i++; i < text.length; i++) {
        const s = text.charCodeAt(i);
        if (s === 0x5c /* \ */) i++;
        else if (s === 0x22) break;
      }
    } else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      if (++depth > limit) return true;
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) {
      depth--;
    }
  }
  return false;
}

/** Whether `text` holds more than `limit` `[` and `{` in all (inside strings too). */
function hasMoreOpeners(text: string, limit: number): boolean {
  let n = 0;
  for (const opener of ["{", "["]) {
    for (let i = text.indexOf(opener); i >= 0; i = text.indexOf(opener, i + 1)) if (++n > limit) return true;
  }
  return false;
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

/** Own members of every object in a parsed JSON value, walked with an explicit stack. */
function countMembers(root: unknown): number {
  let members = 0;
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const value = stack.pop();
    if (typeof value !== "object" || value === null) continue;
    if (Array.isArray(value)) {
      for (const item of value) stack.push(item);
      continue;
    }
    for (const key in value) {
      members++;
      stack.push((value as Record<string, unknown>)[key]);
    }
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
