/**
 * The registry of every reason code IntentGate can write in a result's
 * `error` field, and every detail after its `:` (wire contract §6, in this
 * repository `docs/wire-contract.md`). This table is the one copy: the types
 * in `reasons.ts` are derived from it, so a detail that is not registered
 * here does not compile; the README's and the contract's tables are checked
 * against it both ways by tests.
 *
 * A detail written `<name>` in angle brackets is a parameter (a source, a
 * venue, a status code); everything else is a literal word.
 *
 * This file is long because it is the list itself: one entry per code and
 * one line per detail, nothing else.
 */

/** One registered base code: the gate that writes it, the decisions it appears with, its meaning, and its details. */
export interface ReasonSpec {
  /** Gate number in wire order (11 = execution, after the chain). */
  readonly gate: number;
  /** The decisions a result with this code can carry. */
  readonly decisions: readonly ("DENIED" | "FAILED" | "UNKNOWN")[];
  /** One line: what the code means. */
  readonly meaning: string;
  /** Whether the code may appear without a detail. */
  readonly bare: boolean;
  /** Detail (or `<param>` pattern) → one line of meaning. */
  readonly details: Readonly<Record<string, string>>;
}

/** Plan fields whose failure gate 1 names as the detail (`invalid_plan:<field>`). */
const PLAN_FIELD_DETAILS = {
  v: "`v` is not 1",
  plan_id: "`plan_id` missing or not matching its pattern",
  source: "`source` missing or not an identifier",
  venue: "`venue` is not a known venue",
  account: "`account` is not an identifier, or missing on a live venue",
  action: "`action` is not place, cancel or cancel_all",
  symbol: "`symbol` missing (an order or a cancel) or not an identifier",
  side: "`side` missing or not BUY or SELL on an order, or present on a cancel",
  type: "`type` is not MARKET or LIMIT, or present on a cancel",
  qty: "`qty` missing or not a positive decimal (or, at a venue, not a valid quantity), or present on a cancel",
  price: "`price` is not a positive decimal, missing on a LIMIT order, or present on a cancel",
  reduce_only: "`reduce_only` is not a boolean, or present on a cancel",
  created_at: "`created_at` is not an integer of epoch milliseconds",
  expires_at: "`expires_at` is not an integer of epoch milliseconds",
  permit: "`permit` is not a string of 1 to 4096 characters, or present on a cancel",
  target_plan_id: "`target_plan_id` missing or not a plan_id on a `cancel`, or present on another action",
  meta: "`meta` is not an object, or `meta.kelly_fraction` is not a number in [0, 1]",
  plan: "the plan object failed the schema in a way no single field names",
} as const;

/** The `invalid_plan` detail naming a plan field the schema refused (`plan` when it names none). */
export function planFieldDetail(field: unknown): keyof typeof PLAN_FIELD_DETAILS {
  return typeof field === "string" && Object.hasOwn(PLAN_FIELD_DETAILS, field)
    ? (field as keyof typeof PLAN_FIELD_DETAILS)
    : "plan";
}

/** Why a venue could not be told the outcome of a send for sure (`UNKNOWN`, reconciled later). */
const UNKNOWN_SEND_DETAILS = {
  timeout: "the venue did not answer in time after the request was sent",
  connection_lost: "the connection was lost after the request was sent",
  reset: "the connection was reset after the request may have reached the venue",
  refused: "the venue refused a connection during a send that may have reached it",
  dns: "a name lookup failed during a send that may have reached the venue",
  network: "another network failure after the request may have reached the venue",
  too_large: "the venue's answer was larger than the adapter reads",
  execution_status_unknown: "Binance answered -1000/-1001/-1006/-1007: execution status unknown",
  "http_<status>":
    "FAILED: an HTTP 4xx with no error code; UNKNOWN: an HTTP 408 or 5xx, or an answer with no known meaning",
  bad_response: "a 2xx answer that is not an order",
  venue_gone: "the venue adapter was closed while the order was in flight",
  redelivered: "the entry was redelivered after a send began; the outcome is looked up",
  internal_error: "the adapter failed unexpectedly after the send may have begun",
  duplicate_client_order_id:
    "the venue has an order with this client order id already, and it could not be looked up yet",
  unresolved: "reconciling: the order could not be looked up yet, or may still be in flight",
  cancel_unknown:
    "a cancel plan: the venue did not answer for every order's cancel; it is asked again until it does (then a reconciled result)",
} as const;

/** Venue refusals and failures: nothing was placed (`FAILED`). */
const VENUE_FAILURE_DETAILS = {
  reduce_only_rejected: "a reduce_only order would open, grow or flip a position",
  venue_closed: "the venue adapter is shutting down",
  unknown_account: "the plan's account is not configured for the venue",
  exchange_info_unavailable: "Binance's exchange rules could not be read",
  server_time_unavailable: "the venue's clock could not be read",
  connection_failed: "no connection to the venue could be made; nothing was sent",
  unreachable: "the CLOB could not be reached; nothing was sent",
  timestamp_outside_recv_window: "Binance -1021: the request's timestamp was outside recvWindow",
  bad_signature: "Binance -1022: the signature was refused",
  bad_api_key: "Binance -2014/-2015: the API key was refused",
  bad_client_order_id: "Binance -4015: the client order id was refused",
  throttled: "Binance -1008: throttled by system protection, not processed",
  rate_limited: "the venue's rate limit (Binance -1003/-1015, HTTP 429/418)",
  bad_precision: "Binance -1111: precision over the symbol's maximum",
  lot_size: "Binance -4003/-4004/-4005/-4023: quantity outside the lot filter",
  price_filter: "Binance -4013/-4014/-4016/-4024: price outside the price filter",
  min_notional: "notional under the venue's minimum",
  insufficient_margin: "Binance -2018/-2019/-2027/-2028: not enough margin",
  symbol_not_trading: "Binance -1121/-4140/-4141: the symbol is not trading",
  "binance:<code>": "any other Binance error code answered with an HTTP 4xx",
  unauthorized: "the CLOB answered 401: L2 credentials refused",
  forbidden: "the CLOB answered 403",
  insufficient_balance: "not enough balance or allowance at the CLOB",
  tick_size: "the price breaks the market's minimum tick size",
  min_size: "the size is under the market's minimum",
  fok_not_filled: "a FOK (MARKET) order could not be filled in full",
  invalid_signature: "the CLOB refused the order's signature",
  order_version_mismatch: "the CLOB expects another order version",
  signer_mismatch: "the order's signer is not the API key's address",
  owner_mismatch: "the order's owner is not the API key's owner",
  amount_precision: "the CLOB refused the order's amounts",
  invalid_expiration: "the CLOB refused the order's expiration",
  invalid_order: "the CLOB refused the order payload",
  unknown_market: "the CLOB does not know the market",
  market_not_ready: "the market does not take new orders yet",
  market_unavailable: "the market's rules could not be read",
  balance_unavailable: "the account's token balance could not be read to check a reduce_only SELL",
  bad_prepared_order:
    "the prepared order handed to send is not one this adapter built for the same client order id",
  prepared_order_expired: "the signed order was not sent before it expired",
  order_not_found: "the venue has no order by this client order id once no request could still be in flight",
  canceled: "the venue cancelled the order before it filled",
  order_not_open:
    "a cancel found nothing working to cancel: the order already filled, was cancelled, or was never placed",
  expired: "the venue expired the order before it filled",
  rejected: "the venue rejected the order after accepting the request",
} as const;

/** The registry: base code → its spec. Gate order is wire §6's. */
export const REASON_REGISTRY = {
  invalid_plan: {
    gate: 1,
    decisions: ["DENIED"],
    meaning: "the entry or its plan is malformed, or the venue's rules refuse the order's shape",
    bare: false,
    details: {
      duplicate_field: "an entry field appears twice",
      unknown_field: "an entry field other than `plan`/`auth`, or a plan field the schema does not know",
      missing_plan: "the entry has no `plan` field",
      too_large: "the plan is over 16 KiB",
      encoding: "the plan is not valid UTF-8",
      json: "the plan is not JSON",
      duplicate_key: "a JSON object has the same key twice",
      too_deep: "the JSON nests deeper than 32 levels",
      not_object: "the plan is not a JSON object",
      meta_too_large: "`meta` is over 4 KiB",
      ...PLAN_FIELD_DETAILS,
      client_order_id: "the client order id derived from plan_id is not one the venue takes",
      token_id: "a Polymarket symbol is not a token id",
      unknown_symbol: "the venue does not list the symbol",
      symbol_not_trading: "the symbol is not trading at the venue",
      price_filter: "the price breaks Binance's price filter or precision",
      lot_size: "the quantity breaks the venue's lot size or precision",
      market_lot_size: "the quantity breaks Binance's market lot size",
      tick_size: "the price breaks the Polymarket market's tick size",
      price_range: "the price is outside Polymarket's (tick, 1 − tick) range",
      amount_precision: "the order's amounts are not representable at Polymarket's precision",
      min_size: "the size is under the Polymarket market's minimum",
    },
  },
  unauthenticated: {
    gate: 2,
    decisions: ["DENIED"],
    meaning: "the entry's signature is missing or not valid for a configured key of the plan's source",
    bare: false,
    details: {
      missing_auth: "no `auth` field while `require_auth` is true",
      malformed_auth: "the `auth` field cannot be read",
      unknown_key: "no such key, or a key with no source (a permit issuer's)",
      alg_mismatch: "the header's algorithm is not the key's",
      bad_signature: "the signature does not verify",
      source_mismatch: "the key belongs to another source",
    },
  },
  source_not_allowed: {
    gate: 3,
    decisions: ["DENIED"],
    meaning: "the source is not configured, or not for the entry's lane",
    bare: false,
    details: { "<source>": "the plan's source" },
  },
  NOT_EXIT_OWNER: {
    gate: 4,
    decisions: ["DENIED"],
    meaning: "a reduce_only plan from anyone but the configured exit owner",
    bare: false,
    details: { "source=<source>": "the plan's source" },
  },
  not_order_owner: {
    gate: 4,
    decisions: ["DENIED"],
    meaning:
      "a cancel of another source's order, or a cancel_all, from anyone but the exit owner or the manual lane",
    bare: false,
    details: { "source=<source>": "the plan's source" },
  },
  trading_halted: {
    gate: 5,
    decisions: ["DENIED"],
    meaning: "the trading state is HALTED",
    bare: true,
    details: {},
  },
  trading_reducing: {
    gate: 5,
    decisions: ["DENIED"],
    meaning: "the trading state is REDUCING and the plan is not a reduce_only plan from the exit owner",
    bare: true,
    details: {},
  },
  stale_plan: {
    gate: 6,
    decisions: ["DENIED"],
    meaning: "older than max_plan_age_ms, past expires_at, or created_at too far in the future",
    bare: true,
    details: {},
  },
  duplicate_plan_id: {
    gate: 7,
    decisions: ["DENIED"],
    meaning: "the plan_id was claimed before",
    bare: true,
    details: {},
  },
  permit_required: {
    gate: 8,
    decisions: ["DENIED"],
    meaning: "permits are required and the plan has none",
    bare: true,
    details: {},
  },
  permit_invalid: {
    gate: 8,
    decisions: ["DENIED"],
    meaning: "the permit token cannot be accepted",
    bare: false,
    details: {
      format: "not two base64url parts",
      payload: "the payload is not a valid permit",
      issuer: "the issuer is not a configured permit issuer",
      signature: "the issuer's signature does not verify",
    },
  },
  permit_expired: {
    gate: 8,
    decisions: ["DENIED"],
    meaning: "the permit's `exp` has passed",
    bare: true,
    details: {},
  },
  permit_mismatch: {
    gate: 8,
    decisions: ["DENIED"],
    meaning: "the permit does not cover the plan",
    bare: false,
    details: {
      plan_id: "another plan_id",
      symbol: "another symbol",
      side: "another side",
      max_qty: "the plan's qty is over the permit's max_qty",
      reduce_only: "the permit is for reduce_only plans and this one is not",
    },
  },
  permit_reused: {
    gate: 8,
    decisions: ["DENIED"],
    meaning: "the permit was used by another plan",
    bare: true,
    details: {},
  },
  limit: {
    gate: 9,
    decisions: ["DENIED"],
    meaning: "a configured limit (or the venue's size floor) refuses the plan",
    bare: false,
    details: {
      max_qty: "qty over limits.max_qty for the symbol (or its `*` entry)",
      max_notional: "qty × price over limits.max_notional",
      no_reference_price:
        "a plan that needs a price (a notional check, a price band, a MARKET fill) has none configured, or a live Polymarket MARKET finds that side of the book empty",
      stale_price: "the live venue's price is missing or older than limits.max_price_age_ms",
      price_band: "a LIMIT price further than limits.price_band_pct from the reference price",
      duplicate_order:
        "the same source, account, symbol, side, qty, price (a LIMIT plan's; a MARKET plan's is ignored) and reduce_only as a plan executed within limits.duplicate_window_ms",
      daily_notional:
        "the account's notional placed since 00:00 UTC, with this plan's, over limits.max_daily_notional",
      open_orders:
        "the account already has limits.max_open_orders orders open (working, being sent or UNKNOWN)",
      max_position:
        "the account's position in the book, with its same-side orders that may still fill and this plan, beyond limits.max_position",
      max_gross_notional:
        "the account's gross open notional in the mode (positions and orders at reference prices), with this plan's, over limits.max_gross_notional",
      rate: "over limits.rate_per_source_per_s for the source, across executors",
      kelly_fraction: "meta.kelly_fraction over limits.max_kelly_fraction",
      min_notional: "notional under the venue's minimum",
    },
  },
  venue_not_enabled: {
    gate: 10,
    decisions: ["DENIED"],
    meaning: "the venue is not configured, or `live` is false and live_fallback is deny",
    bare: false,
    details: { "<venue>": "the plan's venue" },
  },
  venue_not_ready: {
    gate: 10,
    decisions: ["DENIED"],
    meaning:
      "`live` is true but the plan cannot go live now (INTENTGATE_LIVE, readiness, signer, credentials)",
    bare: false,
    details: { "<venue>": "the plan's venue" },
  },
  signer_denied: {
    gate: 10,
    decisions: ["DENIED", "FAILED"],
    meaning: "the signing plane refused to sign the order",
    bare: false,
    details: {
      unknown_caller: "the plane does not know the caller",
      unknown_intent: "the plane does not know the intent",
      intent_not_enabled: "the intent is not enabled for the key",
      route_not_allowed: "the route is not allowed for the caller or key",
      missing_target: "the request lacks its target",
      missing_guard_context: "the request lacks the executor's guard context",
      unknown_account: "the plane holds no key for the account",
      caller_not_allowed: "the caller may not use the key",
      payload_mismatch: "the payload does not match the intent",
      "payload_mismatch:<field>": "the payload's field does not match the intent",
      policy: "the plane's own limits refuse the order",
      "policy:<limit>": "the plane's named limit refuses the order",
      signer_unavailable: "the plane could not be reached or could not use the key",
    },
  },
  venue_error: {
    gate: 11,
    decisions: ["FAILED", "UNKNOWN"],
    meaning: "the venue refused or failed the order (FAILED), or its outcome is not known yet (UNKNOWN)",
    bare: false,
    details: { ...VENUE_FAILURE_DETAILS, ...UNKNOWN_SEND_DETAILS },
  },
  internal_error: {
    gate: 11,
    decisions: ["FAILED"],
    meaning: "IntentGate failed on this entry; nothing was placed",
    bare: true,
    details: {
      delivery_limit: "the entry was delivered max_deliveries times without a result (copied to the DLQ)",
      no_exchange: "no CTF exchange is known for the market",
      signature_mismatch: "the signature returned does not recover to the account's address",
      foreign_order: "a prepared order built by another adapter was handed to this one",
    },
  },
} as const satisfies Readonly<Record<string, ReasonSpec>>;
