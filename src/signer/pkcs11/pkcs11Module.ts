import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type * as Pkcs11Js from "pkcs11js";
import pkcs11js from "pkcs11js";
import type { SecretBytes } from "../../core/auth/secretBytes.js";
import { ckrOf, closeQuietly, Pkcs11TokenError } from "./pkcs11Error.js";

/**
 * PKCS#11 modules and logged-in sessions: `C_Initialize` once per module per
 * process and `C_Finalize` after the last session on it closes; a token found
 * by its label; one login per token shared by the sessions this process opens
 * on it (PKCS#11 login state belongs to the application and the token, not
 * the session). The PIN is only ever handed to `C_Login`; what is kept to
 * check a later open against is a keyed tag of it.
 */

/** The Debian / Ubuntu path of SoftHSM2's module. */
export const SOFTHSM2_MODULE = "/usr/lib/softhsm/libsofthsm2.so";

/** Where the token is and how to log in. */
export interface Pkcs11TokenOptions {
  /** Path of the PKCS#11 module (`.so`), e.g. {@link SOFTHSM2_MODULE}. */
  readonly module: string;
  /** The token's label (`CKA_LABEL` of the token, blank padding ignored). */
  readonly tokenLabel: string;
  /** The user PIN (the signer reads it with `loadSignerSecret({ ref: config.pkcs11, name: "pin", … })`). */
  readonly pin: SecretBytes;
}

/** A PKCS#11 object or session handle. */
export type Handle = Buffer;

/** A module loaded into this process, shared by every session opened on it. */
export interface LoadedModule {
  readonly lib: Pkcs11Js.PKCS11;
  readonly path: string;
  refs: number;
  /** False when something else in the process had already initialised it (then we never finalise it). */
  readonly ownsInit: boolean;
  /**
   * Logins by token label. The first open logs in, the last close logs out,
   * and an open in between must present the same PIN (compared by a keyed tag).
   */
  readonly logins: Map<string, { count: number; readonly pinTag: Buffer }>;
}

/** A logged-in read/write session on one token. */
export interface LoggedInSession {
  readonly mod: LoadedModule;
  readonly session: Handle;
  readonly tokenLabel: string;
}

/** Per-process key for PIN tags (a tag is never stored outside this process's memory). */
const PIN_TAG_KEY = randomBytes(32);
const pinTag = (pin: SecretBytes): Buffer => createHmac("sha256", PIN_TAG_KEY).update(pin.expose()).digest();

const modules = new Map<string, LoadedModule>();

/**
 * Loads the module, finds the token by label, opens a read/write session and
 * logs in as the user (or joins this process's login, same PIN only).
 * Throws {@link Pkcs11TokenError}; nothing is left open when it does.
 */
export function openLoggedInSession(opts: Pkcs11TokenOptions): LoggedInSession {
  const mod = acquireModule(opts.module);
  const lib = mod.lib;
  let session: Handle | undefined;
  try {
    const slot = findSlot(lib, opts.tokenLabel);
    try {
      session = lib.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
    } catch (err) {
      throw new Pkcs11TokenError(
        "login_failed",
        `token "${opts.tokenLabel}": C_OpenSession failed`,
        ckrOf(err),
      );
    }
    login(mod, session, opts);
    return { mod, session, tokenLabel: opts.tokenLabel };
  } catch (err) {
    if (session !== undefined) closeQuietly(() => lib.C_CloseSession(session as Handle));
    releaseModule(mod);
    throw err;
  }
}

/** Logs out (after the token's last session of this process), closes the session, releases the module. */
export function closeLoggedInSession({ mod, session, tokenLabel }: LoggedInSession): void {
  const held = mod.logins.get(tokenLabel);
  if (held !== undefined && --held.count <= 0) {
    mod.logins.delete(tokenLabel);
    closeQuietly(() => mod.lib.C_Logout(session));
  }
  closeQuietly(() => mod.lib.C_CloseSession(session));
  releaseModule(mod);
}

function acquireModule(path: string): LoadedModule {
  const loaded = modules.get(path);
  if (loaded !== undefined) {
    loaded.refs++;
    return loaded;
  }
  const lib = new pkcs11js.PKCS11();
  try {
    lib.load(path);
  } catch (err) {
    throw new Pkcs11TokenError("module_unavailable", `PKCS#11 module ${path} cannot be loaded`, ckrOf(err));
  }
  let ownsInit = true;
  try {
    lib.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
  } catch (err) {
    if (ckrOf(err) === "CKR_CRYPTOKI_ALREADY_INITIALIZED") ownsInit = false;
    else {
      closeQuietly(() => lib.close());
      throw new Pkcs11TokenError(
        "module_unavailable",
        `PKCS#11 module ${path}: C_Initialize failed`,
        ckrOf(err),
      );
    }
  }
  const mod: LoadedModule = { lib, path, refs: 1, ownsInit, logins: new Map() };
  modules.set(path, mod);
  return mod;
}

function releaseModule(mod: LoadedModule): void {
  if (--mod.refs > 0) return;
  modules.delete(mod.path);
  if (mod.ownsInit) closeQuietly(() => mod.lib.C_Finalize());
  closeQuietly(() => mod.lib.close());
}

function findSlot(lib: Pkcs11Js.PKCS11, tokenLabel: string): Handle {
  let slots: Handle[];
  try {
    slots = lib.C_GetSlotList(true);
  } catch (err) {
    throw new Pkcs11TokenError("token_not_found", "C_GetSlotList failed", ckrOf(err));
  }
  const matches = slots.filter((slot) => {
    try {
      const info = lib.C_GetTokenInfo(slot);
      return (info.flags & pkcs11js.CKF_TOKEN_INITIALIZED) !== 0 && info.label.trimEnd() === tokenLabel;
    } catch {
      return false;
    }
  });
  if (matches.length !== 1) {
    throw new Pkcs11TokenError(
      "token_not_found",
      matches.length === 0
        ? `no initialised token labelled "${tokenLabel}"`
        : `${matches.length} tokens labelled "${tokenLabel}" (labels must be unique)`,
    );
  }
  return matches[0] as Handle;
}

const PIN_REFUSED = new Set([
  "CKR_PIN_INCORRECT",
  "CKR_PIN_INVALID",
  "CKR_PIN_LEN_RANGE",
  "CKR_PIN_EXPIRED",
  "CKR_PIN_LOCKED",
  "CKR_USER_PIN_NOT_INITIALIZED",
]);

function login(mod: LoadedModule, session: Handle, opts: Pkcs11TokenOptions): void {
  const tag = pinTag(opts.pin);
  const held = mod.logins.get(opts.tokenLabel);
  if (held !== undefined) {
    // Already logged in by this process: the token would accept anything, so check the PIN here.
    if (held.pinTag.length !== tag.length || !timingSafeEqual(held.pinTag, tag)) {
      throw new Pkcs11TokenError(
        "bad_pin",
        `token "${opts.tokenLabel}": login refused (PIN differs from the open session's)`,
      );
    }
    held.count++;
    return;
  }
  try {
    // pkcs11js takes the PIN as a string; it lives only for this call.
    mod.lib.C_Login(session, pkcs11js.CKU_USER, opts.pin.expose().toString("utf8"));
  } catch (err) {
    const ckr = ckrOf(err);
    // Logged in by another library user in this process: the PIN cannot be checked without logging it out.
    if (ckr !== "CKR_USER_ALREADY_LOGGED_IN") {
      throw new Pkcs11TokenError(
        ckr !== undefined && PIN_REFUSED.has(ckr) ? "bad_pin" : "login_failed",
        `token "${opts.tokenLabel}": login refused (${ckr ?? "error"})`,
        ckr,
      );
    }
  }
  mod.logins.set(opts.tokenLabel, { count: 1, pinTag: tag });
}
