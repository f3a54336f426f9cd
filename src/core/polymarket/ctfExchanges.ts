/**
 * The Polymarket CTF Exchange contracts orders are signed for (the EIP-712
 * `verifyingContract`), per domain version and chain: the one table both the
 * signer (which refuses any other contract) and the venue adapter (which
 * picks one) read. Constants: @polymarket/clob-client-v2@1.1.0
 * `dist/config.js` (MATIC_CONTRACTS / AMOY_CONTRACTS: exchange and
 * negRiskExchange for V1, exchangeV2 and negRiskExchangeV2 for V2).
 * Production moved to V2 on 2026-04-28 and refuses V1 orders.
 */
export const CTF_EXCHANGE_DOMAIN_NAME = "Polymarket CTF Exchange";

/** The two exchanges of one version on one chain. */
export interface ExchangePair {
  readonly standard: string;
  readonly negRisk: string;
}

const V2: ExchangePair = {
  standard: "0xE111180000d2663C0091e4f400237545B87B996B",
  negRisk: "0xe2222d279d744050d28e00520010520000310F59",
};

/** Domain version → chain id (decimal) → exchanges. Polygon is 137, Amoy 80002. */
export const CTF_EXCHANGES: Readonly<Record<"1" | "2", Readonly<Record<string, ExchangePair>>>> = {
  "1": {
    "137": {
      standard: "0x4bFb41d5B3570DeFd03C39a9A4D8dE6Bd8B8982E",
      negRisk: "0xC5d563A36AE78145C45a50134d48A1215220f80a",
    },
    "80002": {
      standard: "0xdFE02Eb6733538f8Ea35D585af8DE5958AD99E40",
      negRisk: "0xC5d563A36AE78145C45a50134d48A1215220f80a",
    },
  },
  "2": { "137": V2, "80002": V2 },
};
