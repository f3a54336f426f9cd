/** Why a PKCS#11 operation failed. */
export type Pkcs11TokenErrorCode =
  /** The module cannot be loaded or initialised. */
  | "module_unavailable"
  /** No initialised token with that label. */
  | "token_not_found"
  /** The PIN was refused (wrong, locked, expired, not initialised). Retrying may lock the token. */
  | "bad_pin"
  /** Opening a session or logging in failed otherwise. */
  | "login_failed"
  /** No key object with that label and kind, or more than one. */
  | "key_not_found"
  /** Creating a key under a label already in use. */
  | "key_exists"
  /** The key exists but cannot be used as asked (wrong curve, bad public point, …). */
  | "wrong_key"
  /** The token failed an operation (the session may be gone). */
  | "token_error"
  /** Bad input from the caller (a digest not 32 bytes, an empty secret). */
  | "invalid_input"
  /** Used after `close()`. */
  | "closed";

/** A token failure. Its message names the token, the label and the PKCS#11 return code; never a PIN or key. */
export class Pkcs11TokenError extends Error {
  override readonly name = "Pkcs11TokenError";
  constructor(
    readonly code: Pkcs11TokenErrorCode,
    message: string,
    /** The PKCS#11 return value name (`CKR_…`), when the module returned one. */
    readonly ckr?: string,
  ) {
    super(message);
  }
}

/** The `CKR_…` name of a pkcs11js error, or undefined. Never the error's full text. */
export function ckrOf(err: unknown): string | undefined {
  const message = (err as { message?: unknown } | null)?.message;
  if (typeof message !== "string") return undefined;
  return /\b(CKR_[A-Z0-9_]+)/.exec(message)?.[1];
}

/** Runs a closing call (`C_CloseSession`, `C_Finalize`, …) whose failure changes nothing. */
export function closeQuietly(fn: () => void): void {
  try {
    fn();
  } catch {
    // closing is best effort
  }
}
