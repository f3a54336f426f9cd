/** 6-bit value of each base64 character, standard (`+/`) and urlsafe (`-_`) alike; -1 for any other byte. */
const SEXTETS: Int8Array = (() => {
  const table = new Int8Array(256).fill(-1);
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (let i = 0; i < alphabet.length; i++) table[alphabet.charCodeAt(i)] = i;
  table[0x2d /* - */] = 62;
  table[0x5f /* _ */] = 63;
  return table;
})();

/**
 * Decodes a base64 secret (standard or urlsafe alphabet, padding optional, as
 * clob-client reads it) straight from its stored bytes, so the secret never
 * becomes an immutable JS string. Returns `undefined` for an empty secret or
 * any byte outside the alphabet (white space included). The caller zeroes the
 * result after use.
 * @example decodeBase64Secret(Buffer.from("AAEC")) // <Buffer 00 01 02>
 */
export function decodeBase64Secret(text: Uint8Array): Buffer | undefined {
  let end = text.length;
  let padding = 0;
  while (end > 0 && padding < 2 && text[end - 1] === 0x3d /* = */) {
    end--;
    padding++;
  }
  if (end === 0 || end % 4 === 1 || (padding > 0 && text.length % 4 !== 0)) return undefined;
  const out = Buffer.alloc(Math.floor((end * 6) / 8));
  let bits = 0;
  let acc = 0;
  let o = 0;
  for (let i = 0; i < end; i++) {
    const v = SEXTETS[text[i]!]!;
    if (v < 0) {
      out.fill(0);
      acc = 0;
      return undefined;
    }
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  acc = 0;
  return out;
}
