const B64URL_RE = /^[A-Za-z0-9_-]*$/;

/**
 * Decodes unpadded base64url strictly: `undefined` for any other alphabet,
 * padding, or a length no encoder produces.
 */
export function decodeBase64url(text: string): Buffer | undefined {
  if (!B64URL_RE.test(text) || text.length % 4 === 1) return undefined;
  const bytes = Buffer.from(text, "base64url");
  return bytes.toString("base64url") === text ? bytes : undefined;
}

/** Encodes bytes as unpadded base64url. */
export const encodeBase64url = (bytes: Uint8Array): string => Buffer.from(bytes).toString("base64url");
