import { createHmac, timingSafeEqual } from "node:crypto";
import type { SecretBytes } from "../../core/auth/secretBytes.js";
import { BINANCE_DEFAULT_RECV_WINDOW_MS, BINANCE_MAX_RECV_WINDOW_MS } from "../../core/binance/recvWindow.js";
import { type BinanceErrorAnswer, binanceError } from "./emulatorErrors.js";

/** Binance API keys: 64 letters and digits. */
export const API_KEY_RE = /^[A-Za-z0-9]{64}$/;
/** How far ahead of the server a timestamp may be (Binance: 1000 ms). */
const MAX_AHEAD_MS = 1000;
const INTEGER_RE = /^[0-9]{1,16}$/;
const SIGNATURE_RE = /^[0-9a-fA-F]{64}$/;

/** Parsed request parameters, by name. */
export type Params = ReadonlyMap<string, string>;

/**
 * Parses `application/x-www-form-urlencoded` text (a query string or a form
 * body) the way the API reads it: `+` is a space, `%XX` escapes decode as
 * UTF-8 (-1100 otherwise), a name given twice is -1101.
 */
export function parseParams(
  text: string,
  into = new Map<string, string>(),
): Map<string, string> | BinanceErrorAnswer {
  if (text === "") return into;
  for (const pair of text.split("&")) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    const rawName = eq < 0 ? pair : pair.slice(0, eq);
    const rawValue = eq < 0 ? "" : pair.slice(eq + 1);
    const name = decode(rawName);
    const value = decode(rawValue);
    if (name === undefined) return binanceError(-1100, rawName.slice(0, 32));
    if (value === undefined) return binanceError(-1100, name);
    if (into.has(name)) return binanceError(-1101);
    into.set(name, value);
  }
  return into;
}

function decode(text: string): string | undefined {
  try {
    return decodeURIComponent(text.replaceAll("+", " "));
  } catch {
    return undefined;
  }
}

/** A verified signed request: whose key, and its parameters. */
export interface SignedRequest {
  readonly account: string;
  readonly params: Params;
}

/** What {@link verifySigned} checks a request against. */
export interface VerifyInput {
  /** The `X-MBX-APIKEY` header, if any. */
  readonly apiKey: string | undefined;
  /** The raw query string (without `?`). */
  readonly query: string;
  /** The raw form body (empty when none, or not form-encoded). */
  readonly body: string;
  /** API key → account name, secret, and whether the key may only read. */
  readonly keys: ReadonlyMap<
    string,
    { readonly account: string; readonly secret: SecretBytes; readonly readOnly?: boolean }
  >;
  /** True for a TRADE endpoint (placing or cancelling orders): a read-only key is refused (-2015). */
  readonly trade?: boolean;
  /** The server's clock now (ms), skew included. */
  readonly serverTime: number;
}

/**
 * Verifies a SIGNED (TRADE / USER_DATA) request as Binance does:
 *
 * 1. `X-MBX-APIKEY` must be a well-formed key (-2014) that the server knows
 *    and that may do this (-2015: a read-only key on a TRADE endpoint);
 * 2. parameters parse (-1100, -1101 for a name in both the query and the body);
 * 3. `signature` is present (-1102) and is the last parameter of the query
 *    string or of the body; the HMAC-SHA256 (hex, case-insensitive) of
 *    totalParams = query string + body, as received and without the
 *    signature pair, under the key's secret must equal it (-1022);
 * 4. `timestamp` is present (-1102), `recvWindow` at most 60000 (-1131); the
 *    request is processed only if `timestamp < serverTime + 1000` and
 *    `serverTime - timestamp <= recvWindow` (-1021 otherwise).
 */
export function verifySigned(input: VerifyInput): SignedRequest | BinanceErrorAnswer {
  if (input.apiKey === undefined || !API_KEY_RE.test(input.apiKey)) return binanceError(-2014);
  const holder = input.keys.get(input.apiKey);
  if (holder === undefined) return binanceError(-2015);
  if (input.trade === true && holder.readOnly === true) return binanceError(-2015);

  const params = parseParams(input.query);
  if (!(params instanceof Map)) return params;
  const all = parseParams(input.body, params);
  if (!(all instanceof Map)) return all;

  const signature = all.get("signature");
  if (signature === undefined || signature === "") return binanceError(-1102, "signature");
  const queryPart = stripSignature(input.query);
  const bodyPart = queryPart === undefined ? stripSignature(input.body) : undefined;
  const totalParams =
    queryPart !== undefined
      ? queryPart + input.body
      : bodyPart !== undefined
        ? input.query + bodyPart
        : undefined;
  if (totalParams === undefined || !SIGNATURE_RE.test(signature)) return binanceError(-1022);
  const expected = createHmac("sha256", holder.secret.expose()).update(totalParams, "utf8").digest();
  const given = Buffer.from(signature, "hex");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return binanceError(-1022);

  const timestampText = all.get("timestamp");
  if (timestampText === undefined || !INTEGER_RE.test(timestampText)) return binanceError(-1102, "timestamp");
  const recvText = all.get("recvWindow");
  let recvWindow = BINANCE_DEFAULT_RECV_WINDOW_MS;
  if (recvText !== undefined) {
    if (!INTEGER_RE.test(recvText)) return binanceError(-1130, "recvWindow");
    recvWindow = Number(recvText);
    if (recvWindow > BINANCE_MAX_RECV_WINDOW_MS) return binanceError(-1131);
  }
  const timestamp = Number(timestampText);
  if (timestamp >= input.serverTime + MAX_AHEAD_MS) {
    return binanceError(-1021, "", {
      msg: "Timestamp for this request was 1000ms ahead of the server's time.",
    });
  }
  if (input.serverTime - timestamp > recvWindow) return binanceError(-1021);
  const { signature: _signature, ...rest } = Object.fromEntries(all);
  return { account: holder.account, params: new Map(Object.entries(rest)) };
}

/**
 * `text` without its `signature=<hex>` pair, when that pair is its last
 * parameter (Binance: "make sure the signature is the end part of your query
 * string or request body"); `undefined` when `text` has no signature last.
 */
function stripSignature(text: string): string | undefined {
  const m = /(^|&)signature=[^&]*$/.exec(text);
  return m === null ? undefined : text.slice(0, m.index);
}
