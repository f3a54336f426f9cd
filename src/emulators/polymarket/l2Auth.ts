import { createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { parseAddress } from "../../core/evm/address.js";
import type { AuthedKey } from "./postOrder.js";

/** A CLOB API key the emulator knows: id, secret (base64, as the CLOB issues it), passphrase, owner address. */
export interface EmulatorApiKey {
  readonly key: string;
  /** Base64 (standard or urlsafe) of the HMAC secret. */
  readonly secret: string;
  readonly passphrase: string;
  /** The EOA the key belongs to (`POLY_ADDRESS`, the order's signer). */
  readonly address: string;
  /** The wallet whose funds the key trades (proxy / safe); default `address`. */
  readonly funder?: string;
}

/** Why L2 authentication failed (recorded per request; the answer is always the CLOB's one 401 message). */
export type L2Failure =
  | "missing_header"
  | "unknown_key"
  | "passphrase"
  | "address"
  | "timestamp"
  | "signature";

/** The CLOB's one answer to any L2 authentication failure (HTTP 401). */
export const UNAUTHORIZED_MESSAGE = "Unauthorized/Invalid api key";

interface KeyEntry {
  readonly key: string;
  readonly secret: Buffer;
  readonly passphrase: string;
  readonly address: bigint;
  readonly funder: bigint;
}

/** Holds API keys and checks L2 headers as the CLOB does. */
export class L2Keys {
  readonly #keys = new Map<string, KeyEntry>();

  add(k: EmulatorApiKey): void {
    const address = parseAddress(k.address);
    const funder = k.funder === undefined ? address : parseAddress(k.funder);
    const secret = Buffer.from(k.secret.replaceAll("-", "+").replaceAll("_", "/"), "base64");
    if (address === undefined || funder === undefined || secret.length === 0)
      throw new TypeError(`api key ${JSON.stringify(k.key)}: address, funder or secret malformed`);
    this.#keys.set(k.key, { key: k.key, secret, passphrase: k.passphrase, address, funder });
  }

  /**
   * Checks the five L2 headers: a known key, its passphrase, `POLY_ADDRESS` =
   * the key's address, `POLY_TIMESTAMP` (seconds) within `toleranceS` of the
   * server's clock, and `POLY_SIGNATURE` = urlsafe base64 of HMAC-SHA256 with
   * the base64-decoded secret over `timestamp + method + path + body` (`path`
   * without the query string).
   */
  verify(
    headers: IncomingHttpHeaders,
    req: { readonly method: string; readonly path: string; readonly body: string },
    serverNowMs: number,
    toleranceS: number,
  ): { readonly ok: true; readonly key: AuthedKey } | { readonly ok: false; readonly why: L2Failure } {
    const h = (name: string): string | undefined => {
      const v = headers[name.toLowerCase()];
      return typeof v === "string" ? v : undefined;
    };
    const address = h("POLY_ADDRESS");
    const signature = h("POLY_SIGNATURE");
    const timestamp = h("POLY_TIMESTAMP");
    const apiKey = h("POLY_API_KEY");
    const passphrase = h("POLY_PASSPHRASE");
    if ([address, signature, timestamp, apiKey, passphrase].some((v) => v === undefined || v === ""))
      return { ok: false, why: "missing_header" };
    const entry = this.#keys.get(apiKey!);
    if (entry === undefined) return { ok: false, why: "unknown_key" };
    if (!sameText(passphrase!, entry.passphrase)) return { ok: false, why: "passphrase" };
    if (parseAddress(address) !== entry.address) return { ok: false, why: "address" };
    if (!/^[0-9]{1,16}$/.test(timestamp!) || Math.abs(Number(timestamp) - serverNowMs / 1000) > toleranceS)
      return { ok: false, why: "timestamp" };
    const mac = createHmac("sha256", entry.secret)
      .update(timestamp! + req.method + req.path + req.body, "utf8")
      .digest();
    const given = Buffer.from(signature!.replaceAll("-", "+").replaceAll("_", "/"), "base64");
    if (given.length !== mac.length || !timingSafeEqual(given, mac)) return { ok: false, why: "signature" };
    return { ok: true, key: { key: entry.key, address: entry.address, funder: entry.funder } };
  }
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a, "utf8");
  const y = Buffer.from(b, "utf8");
  return x.length === y.length && timingSafeEqual(x, y);
}
