const NUMBER_RE = /-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;

/**
 * Parses a venue's JSON answer with every number kept as its exact text (a
 * JSON string), so sizes and prices such as `150.5` or `0.01` are never held
 * as floats: the caller reads them with `parseDecimal`. `undefined` when the
 * text is not JSON.
 * @example parseJsonKeepingNumbers('{"minimum_tick_size":0.01}') // { minimum_tick_size: "0.01" }
 */
export function parseJsonKeepingNumbers(text: string): unknown {
  let out = "";
  let i = 0;
  let from = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      i++;
      while (i < text.length && text.charCodeAt(i) !== 0x22) i += text.charCodeAt(i) === 0x5c /* \ */ ? 2 : 1;
      i++;
      continue;
    }
    if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) {
      NUMBER_RE.lastIndex = i;
      const m = NUMBER_RE.exec(text);
      if (m === null) return undefined;
      out += `${text.slice(from, i)}"${m[0]}"`;
      i += m[0].length;
      from = i;
      continue;
    }
    i++;
  }
  out += text.slice(from);
  try {
    return JSON.parse(out);
  } catch {
    return undefined;
  }
}
