import { inspect } from "node:util";
import { SecretBytes } from "../../core/auth/secretBytes.js";
import { parseAddress, toChecksumAddress } from "../../core/evm/address.js";
import { SIGNATURE_TYPES, type SignatureType } from "../../core/polymarket/ctfOrder.js";

/**
 * What the executor holds for one Polymarket account. The API key id and the
 * passphrase travel in every L2 request, so the executor needs them; the L2
 * secret and the wallet's private key never leave the signing plane.
 */
export interface PolymarketAccountConfig {
  /** CLOB API key id (`POLY_API_KEY`, and the order's `owner`). Sensitive: never logged. */
  readonly apiKey: string | SecretBytes;
  /** CLOB API passphrase (`POLY_PASSPHRASE`). Sensitive: never logged. */
  readonly passphrase: string | SecretBytes;
  /** The EOA whose key signs orders (the order's `signer`, `POLY_ADDRESS`). */
  readonly address: string;
  /** The wallet holding the funds (the order's `maker`) for a proxy or safe; default `address`. */
  readonly funder?: string;
  /** 0 EOA (default), 1 POLY_PROXY, 2 POLY_GNOSIS_SAFE. */
  readonly signatureType?: SignatureType;
}

const REDACTED = "[REDACTED]";

/** One account's credentials, validated; printing, inspecting or serialising it shows no secret. */
export class PolymarketAccount {
  readonly id: string;
  /** The signer, as a 160-bit number and in EIP-55. */
  readonly signer: bigint;
  readonly signerText: string;
  /** The maker (funder), as a 160-bit number and in EIP-55. */
  readonly maker: bigint;
  readonly makerText: string;
  readonly signatureType: SignatureType;
  readonly #apiKey: string;
  readonly #passphrase: string;

  constructor(id: string, config: PolymarketAccountConfig) {
    const signer = parseAddress(config.address);
    if (signer === undefined || signer === 0n)
      throw new TypeError(`polymarket account ${id}: address is not an address`);
    const maker = config.funder === undefined ? signer : parseAddress(config.funder);
    if (maker === undefined || maker === 0n)
      throw new TypeError(`polymarket account ${id}: funder is not an address`);
    const signatureType = config.signatureType ?? 0;
    if (!SIGNATURE_TYPES.includes(signatureType))
      throw new TypeError(`polymarket account ${id}: signatureType must be 0, 1 or 2`);
    if (signatureType === 0 && maker !== signer)
      throw new TypeError(`polymarket account ${id}: an EOA order (signatureType 0) has funder = address`);
    const apiKey = headerText(config.apiKey);
    if (apiKey === undefined)
      throw new TypeError(`polymarket account ${id}: apiKey must be non-empty printable text`);
    const passphrase = headerText(config.passphrase);
    if (passphrase === undefined)
      throw new TypeError(`polymarket account ${id}: passphrase must be non-empty printable text`);
    this.id = id;
    this.signer = signer;
    this.signerText = toChecksumAddress(signer);
    this.maker = maker;
    this.makerText = toChecksumAddress(maker);
    this.signatureType = signatureType;
    this.#apiKey = apiKey;
    this.#passphrase = passphrase;
  }

  /** The API key id, for the `owner` of an order and the `POLY_API_KEY` header only. */
  apiKey(): string {
    return this.#apiKey;
  }

  /** The passphrase, for the `POLY_PASSPHRASE` header only. */
  passphrase(): string {
    return this.#passphrase;
  }

  toString(): string {
    return `PolymarketAccount(${this.id})`;
  }

  toJSON(): Record<string, unknown> {
    return {
      id: this.id,
      address: this.signerText,
      maker: this.makerText,
      apiKey: REDACTED,
      passphrase: REDACTED,
    };
  }

  [inspect.custom](): string {
    return `PolymarketAccount { id: ${JSON.stringify(this.id)}, address: '${this.signerText}', apiKey: ${REDACTED}, passphrase: ${REDACTED} }`;
  }
}

/** A credential as header text: printable ASCII (what an HTTP header may carry), else undefined. */
function headerText(v: string | SecretBytes): string | undefined {
  const text = v instanceof SecretBytes ? v.expose().toString("utf8") : v;
  return typeof text === "string" && /^[\x21-\x7e]+$/.test(text) ? text : undefined;
}
