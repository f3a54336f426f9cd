/**
 * Lossless storage of stream entry fields: a BLOB of length-prefixed pairs
 * (`u32 name length, name bytes, u32 value length, value bytes`, big-endian),
 * so raw value bytes, field order and repeated names survive unchanged.
 */

/** Encodes fields (names as UTF-8, values as given). */
export function encodeFields(fields: ReadonlyArray<readonly [string, string | Buffer]>): Buffer {
  const parts: Buffer[] = [];
  for (const [name, value] of fields) {
    const n = Buffer.from(name, "utf8");
    const v = typeof value === "string" ? Buffer.from(value, "utf8") : value;
    const head = Buffer.allocUnsafe(4);
    head.writeUInt32BE(n.length, 0);
    const mid = Buffer.allocUnsafe(4);
    mid.writeUInt32BE(v.length, 0);
    parts.push(head, n, mid, v);
  }
  return Buffer.concat(parts);
}

/** Decodes a BLOB written by {@link encodeFields}; values are fresh copies. */
export function decodeFields(blob: Buffer): Array<[string, Buffer]> {
  const out: Array<[string, Buffer]> = [];
  let at = 0;
  const take = (): Buffer => {
    if (at + 4 > blob.length) throw new Error("sqlite bus: corrupt field blob");
    const len = blob.readUInt32BE(at);
    at += 4;
    if (at + len > blob.length) throw new Error("sqlite bus: corrupt field blob");
    const b = Buffer.from(blob.subarray(at, at + len));
    at += len;
    return b;
  };
  while (at < blob.length) {
    const name = take().toString("utf8");
    out.push([name, take()]);
  }
  return out;
}
