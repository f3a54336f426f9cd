import { inspect } from "node:util";

const REDACTED = "[REDACTED]";

/**
 * Secret key material (an HMAC secret, an API secret). Printing, logging,
 * inspecting or JSON-serialising it yields `[REDACTED]`; only {@link SecretBytes.expose}
 * hands out the bytes, to the code that signs or verifies with them.
 */
export class SecretBytes {
  readonly #bytes: Buffer;

  constructor(bytes: Buffer) {
    this.#bytes = Buffer.from(bytes);
  }

  /** The raw bytes, for signing or verifying only. */
  expose(): Buffer {
    return this.#bytes;
  }

  get length(): number {
    return this.#bytes.length;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}
