import {
  CTF_EXCHANGE_DOMAIN_NAME,
  CTF_EXCHANGES,
  type ExchangePair,
} from "../../core/polymarket/ctfExchanges.js";
import type { StructField } from "./eip712/typedData.js";

/**
 * The Polymarket CTF Exchange EIP-712 domains the plane signs under: one row
 * per domain `version`, with the `Order` struct of that version, the signature
 * types it signs with a plain 65-byte EOA signature, and the exchange contracts
 * per chain. Every constant is @polymarket/clob-client-v2@1.1.0's:
 * `dist/order-utils/model/ctfExchangeV{1,2}TypedData.js` (name, version,
 * struct), `dist/config.js` (MATIC_CONTRACTS / AMOY_CONTRACTS, exchange and
 * negRiskExchange for V1, exchangeV2 and negRiskExchangeV2 for V2),
 * `dist/order-builder/helpers/createOrder.js` (which contract a version and
 * `negRisk` pick). Another version (the package's V3: version "3", same struct
 * as V2, `exchangeV3`, no neg-risk contract) is one more row.
 */
export const POLYMARKET_DOMAIN_NAME = CTF_EXCHANGE_DOMAIN_NAME;

/** Polygon mainnet; Amoy testnet (the package's `Chain.POLYGON` / `Chain.AMOY`). */
export const POLYGON_CHAIN_ID = 137n;
export const AMOY_CHAIN_ID = 80002n;

export type { ExchangePair };

export interface OrderDomainVersion {
  /** The `Order` struct, members in EIP-712 declaration order. */
  readonly struct: readonly StructField[];
  /** Signature types signed with a plain ECDSA signature (EOA, POLY_PROXY, POLY_GNOSIS_SAFE). */
  readonly signatureTypes: readonly bigint[];
  /** By chain id (decimal string). */
  readonly exchanges: Readonly<Record<string, ExchangePair>>;
}

const V1_ORDER: readonly StructField[] = [
  { name: "salt", type: "uint256" },
  { name: "maker", type: "address" },
  { name: "signer", type: "address" },
  { name: "taker", type: "address" },
  { name: "tokenId", type: "uint256" },
  { name: "makerAmount", type: "uint256" },
  { name: "takerAmount", type: "uint256" },
  { name: "expiration", type: "uint256" },
  { name: "nonce", type: "uint256" },
  { name: "feeRateBps", type: "uint256" },
  { name: "side", type: "uint8" },
  { name: "signatureType", type: "uint8" },
];

const V2_ORDER: readonly StructField[] = [
  { name: "salt", type: "uint256" },
  { name: "maker", type: "address" },
  { name: "signer", type: "address" },
  { name: "tokenId", type: "uint256" },
  { name: "makerAmount", type: "uint256" },
  { name: "takerAmount", type: "uint256" },
  { name: "side", type: "uint8" },
  { name: "signatureType", type: "uint8" },
  { name: "timestamp", type: "uint256" },
  { name: "metadata", type: "bytes32" },
  { name: "builder", type: "bytes32" },
];

/** EOA = 0, POLY_PROXY = 1, POLY_GNOSIS_SAFE = 2 (SignatureTypeV1 / SignatureTypeV2). V2's POLY_1271 = 3 wraps the signature (ERC-7739) and is not signed here. */
const ECDSA_SIGNATURE_TYPES: readonly bigint[] = [0n, 1n, 2n];

/** Domain version → struct, signature types, exchanges. */
export const POLYMARKET_ORDER_DOMAINS: Readonly<Record<string, OrderDomainVersion>> = {
  "1": {
    struct: V1_ORDER,
    signatureTypes: ECDSA_SIGNATURE_TYPES,
    exchanges: CTF_EXCHANGES["1"],
  },
  "2": {
    struct: V2_ORDER,
    signatureTypes: ECDSA_SIGNATURE_TYPES,
    exchanges: CTF_EXCHANGES["2"],
  },
};
