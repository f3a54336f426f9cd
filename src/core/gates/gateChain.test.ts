import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  authFor,
  BRIDGE,
  b64url,
  dec,
  decide,
  EXIT_OWNER,
  GHOST,
  makeFacts,
  makePolicy,
  NOW,
  OPERATOR,
  permitPayload,
  planEntry,
  planObject,
  rawEntry,
  rawSignature,
  signPermit,
  withSource,
} from "../../../test/support/coreFixtures.js";
import type { BusEntry } from "../../ports/bus.js";
import type { Facts } from "../facts.js";
import type { Policy } from "../policy.js";
import type { DecisionKind, PlanResult } from "../result.js";
import { GATE_CHAIN } from "./gateChain.js";

/** One row: an entry, the world it is decided in, and the result it must get. */
interface Row {
  readonly name: string;
  readonly entry: () => BusEntry;
  readonly policy?: Policy;
  readonly facts?: Facts;
  readonly now?: number;
  /** Exact `error`; `null` means EXECUTED. */
  readonly error: string | null;
  readonly authenticated: boolean;
  /** Default: EXECUTED when `error` is null, else DENIED. */
  readonly decision?: DecisionKind;
  /** More result fields that must match. */
  readonly result?: Partial<PlanResult>;
  /** The position the decision sets (`effects.setPosition.value`), when executed. */
  readonly position?: string;
}

// ---------------------------------------------------------------- helpers

/** A signed entry for a valid plan with `over` applied (`undefined` removes a field). */
const signed =
  (over: Record<string, unknown> = {}, opts: Parameters<typeof planEntry>[1] = {}) =>
  (): BusEntry =>
    planEntry(planObject(over), opts);

/** A signed (by `bridge-k1`) entry whose plan is exactly `text`. */
const text =
  (t: string | Buffer, keyId = "bridge-k1") =>
  (): BusEntry =>
    planEntry(t, { keyId });

/** A valid plan's JSON with the string value `"@RAW@"` of `field` replaced by the raw JSON text `raw`. */
function rawValue(field: string, raw: string, over: Record<string, unknown> = {}): () => BusEntry {
  return () => {
    const json = JSON.stringify(planObject({ ...over, [field]: "@RAW@" })).replace('"@RAW@"', raw);
    return planEntry(json, { keyId: "bridge-k1" });
  };
}

/** A valid plan's JSON text with `extra` (raw JSON members) inserted before its closing brace. */
function withMembers(extra: string, over: Record<string, unknown> = {}): () => BusEntry {
  return () =>
    planEntry(`${JSON.stringify(planObject(over)).slice(0, -1)},${extra}}`, { keyId: "bridge-k1" });
}

/** A signed plan carrying a permit bound to it; `permitOver` changes the permit's payload. */
function permitted(
  planOver: Record<string, unknown> = {},
  permitOver: Record<string, unknown> = {},
  signer?: string,
): () => BusEntry {
  return () => {
    const plan = planObject(planOver);
    const payload = permitPayload({
      plan_id: plan.plan_id,
      symbol: plan.symbol,
      side: plan.side,
      max_qty: String(plan.qty),
      reduce_only: plan.reduce_only ?? false,
      ...permitOver,
    });
    plan.permit = signPermit(payload, signer);
    return planEntry(plan);
  };
}

/** A signed plan whose `permit` is exactly `token`. */
const withPermit = (token: string, over: Record<string, unknown> = {}) => signed({ ...over, permit: token });

const exitReduce = (over: Record<string, unknown> = {}) =>
  signed({ source: EXIT_OWNER, side: "SELL", reduce_only: true, ...over });

const long = (qty: string, symbol = "BTCUSDT", account = "default") =>
  makeFacts({ positions: [{ account, symbol, qty }] });

const validSig = () => b64url(rawSignature("bridge-k1", Buffer.from("x")));

const PERMITS_REQUIRED = makePolicy({
  permits: { required: true, issuers: new Set(["governor-k1", "governor-hmac"]) },
});

// ---------------------------------------------------------------- gate 1

const INVALID = (detail: string, entry: () => BusEntry, name = detail): Row => ({
  name: `invalid_plan:${detail} (${name})`,
  entry,
  error: `invalid_plan:${detail}`,
  authenticated: false,
});

const big = (n: number) => "x".repeat(n);
const validJson = () => JSON.stringify(planObject());

const gate1: Row[] = [
  INVALID(
    "duplicate_field",
    () =>
      rawEntry([
        ["plan", Buffer.from(validJson())],
        ["plan", Buffer.from(validJson())],
      ]),
    "plan twice",
  ),
  INVALID(
    "duplicate_field",
    () => {
      const e = planEntry(planObject());
      return rawEntry([...e.fields, ...e.fields.filter(([n]) => n === "auth")]);
    },
    "auth twice",
  ),
  INVALID("unknown_field", signed({}, { extraFields: [["sig", Buffer.from("x")]] }), "extra entry field"),
  INVALID("unknown_field", signed({ reduceOnly: true }), "typo'd plan key reduceOnly"),
  INVALID("unknown_field", signed({ extra: 1 }), "unknown plan key"),
  INVALID("unknown_field", withMembers('"__proto__":{"reduce_only":true}'), "__proto__ plan key"),
  INVALID("missing_plan", () => rawEntry([["auth", Buffer.from("hmac-sha256:k:abc")]]), "auth only"),
  INVALID("missing_plan", () => rawEntry([]), "no fields"),
  INVALID(
    "too_large",
    () => planEntry(`${validJson()}${" ".repeat(16 * 1024)}`, { keyId: "bridge-k1" }),
    "16 KiB + plan",
  ),
  INVALID("encoding", text(Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d])), "0xff byte"),
  INVALID("encoding", text(Buffer.from([0x7b, 0x22, 0xc0, 0xaf, 0x22, 0x3a, 0x31, 0x7d])), "overlong UTF-8"),
  INVALID(
    "encoding",
    text(Buffer.from([0x7b, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x3a, 0x31, 0x7d])),
    "UTF-8 surrogate",
  ),
  INVALID("json", text(""), "empty"),
  INVALID("json", text("{"), "truncated"),
  INVALID("json", text("{'v':1}"), "single quotes"),
  INVALID("json", text(`${validJson()},`), "trailing comma"),
  INVALID("json", text(`${validJson()}{}`), "two documents"),
  INVALID("duplicate_key", withMembers('"reduce_only":false,"reduce_only":true'), "reduce_only twice"),
  INVALID(
    "duplicate_key",
    withMembers('"reduce_only":false,"\\u0072educe_only":true'),
    "escaped duplicate key",
  ),
  INVALID("duplicate_key", withMembers('"qty":"2"'), "qty twice, same type"),
  INVALID("duplicate_key", withMembers('"meta":{"a":1,"a":1}'), "nested in meta"),
  INVALID("duplicate_key", withMembers('"meta":{"l":[{"x":{"k":1,"\\u006b":2}}]}'), "deep in an array"),
  INVALID("not_object", text("[]"), "array"),
  INVALID("not_object", text('"plan"'), "string"),
  INVALID("not_object", text("1"), "number"),
  INVALID("not_object", text("null"), "null"),
  INVALID("meta_too_large", signed({ meta: { pad: big(4087) } }), "4097-byte meta"),
  INVALID("meta_too_large", signed({ meta: { pad: "é".repeat(2044) } }), "4098 UTF-8 bytes, 2054 chars"),
  INVALID("meta", signed({ meta: { kelly_fraction: 1.5 } }), "kelly 1.5"),
  INVALID("meta", signed({ meta: { kelly_fraction: -0.1 } }), "kelly -0.1"),
  INVALID("meta", signed({ meta: { kelly_fraction: "0.1" } }), "kelly as string"),
  INVALID("meta", signed({ meta: { kelly_fraction: null } }), "kelly null"),
  INVALID("meta", signed({ meta: { kelly_fraction: true } }), "kelly true"),
  INVALID("meta", signed({ meta: [1] }), "meta array"),
  INVALID("meta", signed({ meta: "x" }), "meta string"),
  INVALID("v", signed({ v: undefined }), "missing"),
  INVALID("v", signed({ v: 2 }), "2"),
  INVALID("v", signed({ v: "1" }), '"1"'),
  INVALID("plan_id", signed({ plan_id: undefined }), "missing"),
  INVALID("plan_id", signed({ plan_id: "" }), "empty"),
  INVALID("plan_id", signed({ plan_id: big(65) }), "65 chars"),
  INVALID("plan_id", signed({ plan_id: "a b" }), "space"),
  INVALID("plan_id", signed({ plan_id: "a/b" }), "slash"),
  INVALID("plan_id", signed({ plan_id: 7 }), "number"),
  INVALID("source", signed({ source: undefined }), "missing"),
  INVALID("source", signed({ source: "" }), "empty"),
  INVALID("source", signed({ source: big(129) }), "129 chars"),
  INVALID("source", signed({ source: "a\nb" }), "control char"),
  INVALID("account", signed({ account: "a\ud800" }), "lone high surrogate"),
  INVALID("symbol", signed({ symbol: "\udc00BTC" }), "lone low surrogate"),
  INVALID("source", signed({ source: "b\udbff\ud800" }), "two high surrogates"),
  INVALID("venue", signed({ venue: "kraken" }), "unknown venue"),
  INVALID("venue", signed({ venue: undefined }), "missing"),
  INVALID("symbol", signed({ symbol: undefined }), "missing"),
  INVALID("symbol", signed({ symbol: "" }), "empty"),
  INVALID("side", signed({ side: "buy" }), "lower case"),
  INVALID("side", signed({ side: undefined }), "missing"),
  INVALID("type", signed({ type: "STOP" }), "STOP"),
  INVALID("qty", signed({ qty: undefined }), "missing"),
  INVALID("qty", signed({ qty: 0 }), "0"),
  INVALID("qty", signed({ qty: "0" }), '"0"'),
  INVALID("qty", signed({ qty: "0.000000000000000000" }), "zero with 18 decimals"),
  INVALID("qty", rawValue("qty", "-0"), "JSON -0"),
  INVALID("qty", signed({ qty: -1 }), "negative number"),
  INVALID("qty", signed({ qty: "-1" }), "negative string"),
  INVALID("qty", signed({ qty: "1e-7" }), '"1e-7"'),
  INVALID("qty", rawValue("qty", "1e-7"), "JSON number 1e-7"),
  INVALID("qty", rawValue("qty", "1e999"), "JSON number 1e999"),
  INVALID("qty", rawValue("qty", "1e21"), "JSON number 1e21 (String gives 1e+21)"),
  INVALID("qty", signed({ qty: "01" }), '"01"'),
  INVALID("qty", signed({ qty: "1." }), '"1."'),
  INVALID("qty", signed({ qty: ".5" }), '".5"'),
  INVALID("qty", signed({ qty: " 1" }), "leading space"),
  INVALID("qty", signed({ qty: "0x10" }), "hex"),
  INVALID("qty", signed({ qty: `0.${"1".repeat(19)}` }), "19 decimals"),
  INVALID("qty", signed({ qty: true }), "boolean"),
  INVALID("price", signed({ type: "LIMIT" }), "LIMIT without price"),
  INVALID("price", signed({ type: "LIMIT", price: "0" }), "LIMIT price 0"),
  INVALID("price", signed({ price: "abc" }), "MARKET with a bad price claim"),
  INVALID("price", rawValue("price", "1e-7", { type: "LIMIT" }), "JSON number 1e-7"),
  INVALID("account", signed({ venue: "binance-usdm" }), "binance-usdm without account"),
  INVALID("account", signed({ venue: "polymarket" }), "polymarket without account"),
  INVALID("reduce_only", signed({ reduce_only: "true" }), '"true"'),
  INVALID("reduce_only", signed({ reduce_only: 1 }), "1"),
  INVALID("created_at", signed({ created_at: NOW + 0.5 }), "float"),
  INVALID("created_at", signed({ created_at: String(NOW) }), "string"),
  INVALID("created_at", signed({ created_at: undefined }), "missing"),
  INVALID("created_at", signed({ created_at: -1 }), "negative"),
  INVALID("expires_at", signed({ expires_at: NOW + 0.5 }), "float"),
  INVALID("expires_at", signed({ expires_at: "soon" }), "string"),
  INVALID("permit", signed({ permit: "" }), "empty permit"),
  INVALID("permit", signed({ permit: 5 }), "number"),
  // Valid edges of the same gate.
  {
    name: "gate 1 OK: plan of exactly 16 KiB",
    entry: exactSize(16 * 1024),
    error: null,
    authenticated: true,
  },
  {
    name: "gate 1 OK: meta of exactly 4096 bytes",
    entry: signed({ meta: { pad: big(4086) } }),
    error: null,
    authenticated: true,
  },
  { name: "gate 1 OK: JSON number qty 0.5", entry: signed({ qty: 0.5 }), error: null, authenticated: true },
  {
    name: "gate 1 OK: an account with a paired surrogate (an emoji) and accents",
    entry: signed({ account: "désk-🚀" }),
    error: null,
    authenticated: true,
  },
  {
    name: "gate 1 OK: JSON number 1e-6 (String gives 0.000001)",
    entry: rawValue("qty", "1e-6"),
    error: null,
    authenticated: true,
  },
  {
    name: "gate 1 OK: 18 decimals",
    entry: signed({ qty: `0.${"1".repeat(18)}` }),
    error: null,
    authenticated: true,
  },
  {
    name: "gate 1 OK: kelly 0 and 1 are in range",
    entry: signed({ meta: { kelly_fraction: 0 } }),
    error: null,
    authenticated: true,
  },
];

/** A valid plan padded with trailing whitespace to exactly `n` bytes. */
function exactSize(n: number): () => BusEntry {
  return () => {
    const json = validJson();
    return planEntry(json + " ".repeat(n - Buffer.byteLength(json)), { keyId: "bridge-k1" });
  };
}

// ---------------------------------------------------------------- gate 2

const UNAUTH = (detail: string, entry: () => BusEntry, name: string, policy?: Policy): Row => ({
  name: `unauthenticated:${detail} (${name})`,
  entry,
  error: `unauthenticated:${detail}`,
  authenticated: false,
  ...(policy ? { policy } : {}),
});

const NO_AUTH_REQUIRED = makePolicy({ requireAuth: false });

const gate2: Row[] = [
  UNAUTH("missing_auth", signed({}, { keyId: null }), "no auth field"),
  UNAUTH(
    "missing_auth",
    signed({}, { keyId: null }),
    "global off, source requires",
    withSource(NO_AUTH_REQUIRED, BRIDGE, { requireAuth: true }),
  ),
  UNAUTH("malformed_auth", signed({}, { auth: "" }), "empty"),
  UNAUTH("malformed_auth", signed({}, { auth: "hmac-sha256:bridge-k1" }), "two parts"),
  UNAUTH("malformed_auth", signed({}, { auth: `hmac-sha256:bridge-k1:${validSig()}:x` }), "four parts"),
  UNAUTH("malformed_auth", signed({}, { auth: `sha1:bridge-k1:${validSig()}` }), "unknown alg"),
  UNAUTH("malformed_auth", signed({}, { auth: `ED25519:bridge-k1:${validSig()}` }), "alg in upper case"),
  UNAUTH("malformed_auth", signed({}, { auth: `ed25519::${validSig()}` }), "empty key id"),
  UNAUTH("malformed_auth", signed({}, { auth: "ed25519:bridge-k1:" }), "empty sig"),
  UNAUTH("malformed_auth", signed({}, { auth: "ed25519:bridge-k1:YWJj=" }), "padded sig"),
  UNAUTH("malformed_auth", signed({}, { auth: "ed25519:bridge-k1:ab+/" }), "standard base64 alphabet"),
  UNAUTH("malformed_auth", signed({}, { auth: "ed25519:bridge-k1:abcde" }), "impossible base64 length"),
  UNAUTH("malformed_auth", signed({}, { auth: "ed25519:bridge-k1:abd" }), "non-canonical trailing bits"),
  UNAUTH("unknown_key", signed({}, { auth: `ed25519:nobody:${validSig()}` }), "no such key"),
  UNAUTH("unknown_key", signed({}, { keyId: "governor-k1" }), "ed25519 permit issuer key signs a plan"),
  UNAUTH("unknown_key", signed({}, { keyId: "governor-hmac" }), "hmac permit issuer key signs a plan"),
  UNAUTH("unknown_key", signed({}, { keyId: "stranger-ed" }), "unconfigured key"),
  UNAUTH(
    "alg_mismatch",
    () => {
      const plan = planObject({ source: EXIT_OWNER });
      const sig = b64url(rawSignature("stranger-ed", Buffer.from(JSON.stringify(plan))));
      return planEntry(plan, { auth: `ed25519:exitbrain-k1:${sig}` });
    },
    "ed25519 signature with an hmac key id",
  ),
  UNAUTH(
    "alg_mismatch",
    () => {
      const plan = planObject();
      const bytes = Buffer.from(JSON.stringify(plan));
      return planEntry(plan, { auth: authFor(bytes, "bridge-k1", "hmac-sha256") });
    },
    "hmac alg claimed for an ed25519 key",
  ),
  UNAUTH(
    "bad_signature",
    () => {
      const good = JSON.stringify(planObject({ qty: "1" }));
      return planEntry(good.replace('"qty":"1"', '"qty":"2"'), {
        signBytes: Buffer.from(good),
        keyId: "bridge-k1",
      });
    },
    "tampered byte, ed25519",
  ),
  UNAUTH(
    "bad_signature",
    () => {
      const good = JSON.stringify(planObject({ source: EXIT_OWNER, qty: "1" }));
      return planEntry(good.replace('"qty":"1"', '"qty":"2"'), {
        signBytes: Buffer.from(good),
        keyId: "exitbrain-k1",
      });
    },
    "tampered byte, hmac",
  ),
  UNAUTH(
    "bad_signature",
    () => {
      const plan = planObject();
      return planEntry(JSON.stringify(plan, null, 1), {
        signBytes: Buffer.from(JSON.stringify(plan)),
        keyId: "bridge-k1",
      });
    },
    "signed a re-serialisation, not the bytes sent",
  ),
  UNAUTH(
    "bad_signature",
    () => {
      const plan = planObject({ source: OPERATOR });
      // The configured value read as hex instead of as raw UTF-8 bytes.
      const hexKeyed = (msg: string) =>
        b64url(
          createHmac("sha256", Buffer.from("0123456789abcdef0123456789abcdef", "hex")).update(msg).digest(),
        );
      return planEntry(plan, {
        lane: "manual",
        auth: `hmac-sha256:operator-k1:${hexKeyed(JSON.stringify(plan))}`,
      });
    },
    "hmac secret hex-decoded instead of raw UTF-8",
  ),
  UNAUTH(
    "bad_signature",
    () => {
      const plan = planObject();
      const sig = b64url(rawSignature("stranger-ed", Buffer.from(JSON.stringify(plan))));
      return planEntry(plan, { auth: `ed25519:bridge-k1:${sig}` });
    },
    "ed25519 by another key",
  ),
  UNAUTH(
    "bad_signature",
    () => {
      const plan = planObject({ source: EXIT_OWNER });
      const sig = rawSignature("exitbrain-k1", Buffer.from(JSON.stringify(plan))).subarray(0, 16);
      return planEntry(plan, { auth: `hmac-sha256:exitbrain-k1:${b64url(sig)}` });
    },
    "truncated hmac",
  ),
  UNAUTH(
    "bad_signature",
    signed({}, { keyId: "bridge-k1", signBytes: Buffer.from("x") }),
    "require_auth off, bad auth",
    NO_AUTH_REQUIRED,
  ),
  UNAUTH(
    "malformed_auth",
    signed({}, { auth: "nope" }),
    "require_auth off, malformed auth",
    NO_AUTH_REQUIRED,
  ),
  UNAUTH(
    "source_mismatch",
    signed({ source: EXIT_OWNER }, { keyId: "bridge-k1" }),
    "bridge key signs for the exit owner",
  ),
  UNAUTH(
    "source_mismatch",
    signed({ source: BRIDGE }, { keyId: "ghost-k1" }),
    "ghost key signs for the bridge",
  ),
  {
    name: "gate 2 OK: require_auth off, no auth (passes unsigned: authenticated false)",
    entry: signed({}, { keyId: null }),
    policy: NO_AUTH_REQUIRED,
    error: null,
    authenticated: false,
  },
  {
    name: "gate 2 OK: global on, source's require_auth off, no auth (authenticated false)",
    entry: signed({}, { keyId: null }),
    policy: withSource(makePolicy(), BRIDGE, { requireAuth: false }),
    error: null,
    authenticated: false,
  },
  {
    name: "gate 2 OK: hmac with a non-ASCII UTF-8 secret",
    entry: signed({ source: EXIT_OWNER }),
    error: null,
    authenticated: true,
  },
  {
    name: "gate 2 OK: signature over pretty-printed bytes as sent",
    entry: () => planEntry(JSON.stringify(planObject(), null, 2), { keyId: "bridge-k1" }),
    error: null,
    authenticated: true,
  },
];

// ---------------------------------------------------------------- gates 3-7

const gates3to7: Row[] = [
  {
    name: "source_not_allowed: unknown source",
    entry: signed({ source: GHOST }),
    error: `source_not_allowed:${GHOST}`,
    authenticated: true,
  },
  {
    name: "source_not_allowed: operator on main",
    entry: signed({ source: OPERATOR }, { lane: "main" }),
    error: `source_not_allowed:${OPERATOR}`,
    authenticated: true,
  },
  {
    name: "source_not_allowed: bridge on manual",
    entry: signed({}, { lane: "manual" }),
    error: `source_not_allowed:${BRIDGE}`,
    authenticated: true,
  },
  {
    name: "source_not_allowed: unauthenticated-optional unknown source",
    entry: signed({ source: "nobody" }, { keyId: null }),
    policy: NO_AUTH_REQUIRED,
    error: "source_not_allowed:nobody",
    authenticated: false,
  },
  {
    name: "gate 3 OK: operator on manual",
    entry: signed({ source: OPERATOR }, { lane: "manual" }),
    error: null,
    authenticated: true,
  },
  {
    name: "NOT_EXIT_OWNER: bridge reduce_only",
    entry: signed({ side: "SELL", reduce_only: true }),
    facts: long("1"),
    error: `NOT_EXIT_OWNER:source=${BRIDGE}`,
    authenticated: true,
  },
  {
    name: "NOT_EXIT_OWNER: no exit owner configured denies the would-be owner",
    entry: exitReduce(),
    policy: makePolicy({ exitOwner: undefined }),
    facts: long("1"),
    error: `NOT_EXIT_OWNER:source=${EXIT_OWNER}`,
    authenticated: true,
  },
  {
    name: "NOT_EXIT_OWNER: operator reduce_only on manual",
    entry: signed({ source: OPERATOR, side: "SELL", reduce_only: true }, { lane: "manual" }),
    facts: long("1"),
    error: `NOT_EXIT_OWNER:source=${OPERATOR}`,
    authenticated: true,
  },
  {
    name: "gate 4 OK: exit owner reduce_only",
    entry: exitReduce(),
    facts: long("1"),
    error: null,
    authenticated: true,
    position: "0",
  },
  {
    name: "gate 4 OK: reduce_only false from anyone",
    entry: signed({ reduce_only: false }),
    error: null,
    authenticated: true,
  },
  {
    name: "trading_halted: plain plan",
    entry: signed(),
    facts: makeFacts({ tradingState: "HALTED" }),
    error: "trading_halted",
    authenticated: true,
  },
  {
    name: "trading_halted: exit owner reduce_only",
    entry: exitReduce(),
    facts: makeFacts({ tradingState: "HALTED", positions: [{ symbol: "BTCUSDT", qty: "1" }] }),
    error: "trading_halted",
    authenticated: true,
  },
  {
    name: "trading_reducing: bridge opening",
    entry: signed(),
    facts: makeFacts({ tradingState: "REDUCING" }),
    error: "trading_reducing",
    authenticated: true,
  },
  {
    name: "trading_reducing: exit owner without reduce_only",
    entry: signed({ source: EXIT_OWNER, side: "SELL" }),
    facts: makeFacts({ tradingState: "REDUCING", positions: [{ symbol: "BTCUSDT", qty: "1" }] }),
    error: "trading_reducing",
    authenticated: true,
  },
  {
    name: "gate 5 OK: REDUCING lets the exit owner's reduce_only through",
    entry: exitReduce(),
    facts: makeFacts({ tradingState: "REDUCING", positions: [{ symbol: "BTCUSDT", qty: "3" }] }),
    error: null,
    authenticated: true,
    position: "2",
  },
  {
    name: "stale_plan: older than max_plan_age_ms",
    entry: signed({ created_at: NOW - 30_001 }),
    error: "stale_plan",
    authenticated: true,
  },
  {
    name: "gate 6 OK: exactly max_plan_age_ms old",
    entry: signed({ created_at: NOW - 30_000 }),
    error: null,
    authenticated: true,
  },
  {
    name: "gate 6 OK: no max_plan_age_ms, a day old",
    entry: signed({ created_at: NOW - 86_400_000 }),
    policy: makePolicy({ limits: { maxPlanAgeMs: undefined } }),
    error: null,
    authenticated: true,
  },
  {
    name: "stale_plan: past expires_at",
    entry: signed({ expires_at: NOW - 1 }),
    error: "stale_plan",
    authenticated: true,
  },
  {
    name: "gate 6 OK: expires_at == now",
    entry: signed({ expires_at: NOW }),
    error: null,
    authenticated: true,
  },
  {
    name: "stale_plan: created 5001 ms in the future",
    entry: signed({ created_at: NOW + 5001 }),
    error: "stale_plan",
    authenticated: true,
  },
  {
    name: "gate 6 OK: created 5000 ms in the future",
    entry: signed({ created_at: NOW + 5000 }),
    error: null,
    authenticated: true,
  },
  {
    name: "stale_plan: skew 0 allows no future at all",
    entry: signed({ created_at: NOW + 1 }),
    policy: makePolicy({ limits: { maxClockSkewMs: 0 } }),
    error: "stale_plan",
    authenticated: true,
  },
  {
    name: "duplicate_plan_id",
    entry: signed({ plan_id: "taken-1" }),
    facts: makeFacts({ claimedPlanIds: ["taken-1"] }),
    error: "duplicate_plan_id",
    authenticated: true,
  },
  {
    name: "gate 7 OK: another plan_id claimed",
    entry: signed({ plan_id: "free-1" }),
    facts: makeFacts({ claimedPlanIds: ["taken-1"] }),
    error: null,
    authenticated: true,
  },
];

// ---------------------------------------------------------------- gate 8

const PERMIT = (error: string, entry: () => BusEntry, name: string, policy?: Policy, facts?: Facts): Row => ({
  name: `${error} (${name})`,
  entry,
  error,
  authenticated: true,
  ...(policy ? { policy } : {}),
  ...(facts ? { facts } : {}),
});

const sigOf = (keyId: string, s: string) => b64url(rawSignature(keyId, Buffer.from(s, "latin1")));

const gate8: Row[] = [
  PERMIT("permit_required", signed(), "no permit", PERMITS_REQUIRED),
  PERMIT("permit_invalid:format", withPermit("abc"), "no dot"),
  PERMIT("permit_invalid:format", withPermit("a.b.c"), "two dots"),
  PERMIT("permit_invalid:format", withPermit("."), "both parts empty"),
  PERMIT("permit_invalid:format", withPermit(`${b64url('{"v":1}')}.`), "empty sig"),
  PERMIT("permit_invalid:format", withPermit(`.${validSig()}`), "empty payload"),
  PERMIT("permit_invalid:format", withPermit(`${b64url("{}")}==.${validSig()}`), "padding"),
  PERMIT("permit_invalid:format", withPermit(`e30+.${validSig()}`), "standard base64"),
  PERMIT("permit_invalid:format", withPermit(`abcde.${validSig()}`), "impossible length"),
  PERMIT("permit_invalid:format", withPermit("x", {}), "required and garbage", PERMITS_REQUIRED),
  PERMIT("permit_invalid:payload", withPermit(signPermit("not json", "governor-k1")), "not JSON"),
  PERMIT("permit_invalid:payload", withPermit(signPermit("[1]", "governor-k1")), "array"),
  PERMIT("permit_invalid:payload", permitted({}, { v: 2 }), "v 2"),
  PERMIT("permit_invalid:payload", permitted({}, { permit_id: undefined }), "no permit_id"),
  PERMIT("permit_invalid:payload", permitted({}, { permit_id: "a b" }), "bad permit_id"),
  PERMIT("permit_invalid:payload", permitted({}, { extra: 1 }), "unknown field"),
  PERMIT("permit_invalid:payload", permitted({}, { max_qty: "1e3" }), "max_qty exponent"),
  PERMIT("permit_invalid:payload", permitted({}, { max_qty: 1 }), "max_qty number"),
  PERMIT("permit_invalid:payload", permitted({}, { reduce_only: "false" }), "reduce_only string"),
  PERMIT("permit_invalid:payload", permitted({}, { exp: NOW + 0.5 }), "exp float"),
  PERMIT("permit_invalid:payload", permitted({}, { side: "buy" }), "side lower case"),
  PERMIT("permit_invalid:payload", permitted({}, { iss: undefined }), "no iss"),
  PERMIT(
    "permit_invalid:payload",
    () => {
      const plan = planObject();
      const json = JSON.stringify(permitPayload({ plan_id: plan.plan_id }));
      plan.permit = signPermit(`${json.slice(0, -1)},"max_qty":"1000"}`, "governor-k1");
      return planEntry(plan);
    },
    "duplicate key max_qty",
  ),
  PERMIT("permit_invalid:issuer", permitted({}, { iss: "nobody" }, "governor-k1"), "unknown iss"),
  PERMIT("permit_invalid:issuer", permitted({}, { iss: "bridge-k1" }), "a producer key as issuer"),
  PERMIT(
    "permit_invalid:issuer",
    permitted({}, { iss: "rogue-issuer" }),
    "issuer key not in permits.issuers",
  ),
  PERMIT("permit_invalid:signature", permitted({}, {}, "stranger-ed"), "signed by another key"),
  PERMIT("permit_invalid:signature", permitted({}, {}, "rogue-issuer"), "signed by another issuer"),
  PERMIT(
    "permit_invalid:signature",
    permitted({}, { iss: "governor-hmac" }, "governor-k1"),
    "hmac issuer, ed25519 sig",
  ),
  PERMIT(
    "permit_invalid:signature",
    () => {
      const plan = planObject();
      const json = JSON.stringify(permitPayload({ plan_id: plan.plan_id }));
      // Signed over the decoded JSON, not over its base64url text.
      plan.permit = `${b64url(json)}.${sigOf("governor-k1", json)}`;
      return planEntry(plan);
    },
    "signature over the JSON instead of its base64url",
  ),
  PERMIT(
    "permit_invalid:signature",
    () => {
      const plan = planObject();
      const good = JSON.stringify(permitPayload({ plan_id: plan.plan_id }));
      const bad = good.replace('"max_qty":"1"', '"max_qty":"9"');
      plan.permit = `${b64url(bad)}.${sigOf("governor-k1", b64url(good))}`;
      return planEntry(plan);
    },
    "payload changed after signing",
  ),
  PERMIT("permit_expired", permitted({}, { exp: NOW - 1 }), "exp in the past"),
  PERMIT("permit_mismatch:plan_id", permitted({}, { plan_id: "someone-else" }), "other plan"),
  PERMIT("permit_mismatch:symbol", permitted({}, { symbol: "ETHUSDT" }), "other symbol"),
  PERMIT("permit_mismatch:side", permitted({}, { side: "SELL" }), "other side"),
  PERMIT(
    "permit_mismatch:max_qty",
    permitted({ qty: "1.000000000000000001" }, { max_qty: "1" }),
    "qty above max_qty",
  ),
  PERMIT(
    "permit_mismatch:reduce_only",
    permitted({}, { reduce_only: true }),
    "permit for reduce_only, plan opens",
  ),
  PERMIT(
    "permit_reused",
    permitted({}, { permit_id: "used-1" }),
    "permit_id consumed",
    undefined,
    makeFacts({ usedPermitIds: ["used-1"] }),
  ),
  PERMIT(
    "permit_invalid:signature",
    permitted({}, {}, "stranger-ed"),
    "present while not required is still checked",
    makePolicy(),
  ),
  {
    name: "gate 8 OK: permit required and valid",
    entry: permitted(),
    policy: PERMITS_REQUIRED,
    error: null,
    authenticated: true,
  },
  { name: "gate 8 OK: exp == now", entry: permitted({}, { exp: NOW }), error: null, authenticated: true },
  {
    name: "gate 8 OK: qty below max_qty",
    entry: permitted({ qty: "0.5" }, { max_qty: "1" }),
    error: null,
    authenticated: true,
  },
  {
    name: "gate 8 OK: hmac issuer",
    entry: permitted({}, { iss: "governor-hmac" }),
    error: null,
    authenticated: true,
  },
  {
    name: "gate 8 OK: reduce_only permit for the exit owner",
    entry: permitted({ source: EXIT_OWNER, side: "SELL", reduce_only: true }),
    facts: long("1"),
    error: null,
    authenticated: true,
  },
];

// ---------------------------------------------------------------- gate 9

const noNotional = makePolicy({ limits: { maxNotional: undefined } });

const gate9: Row[] = [
  {
    name: "limit:max_qty",
    entry: signed({ qty: "5.000000000000000001" }),
    policy: noNotional,
    error: "limit:max_qty",
    authenticated: true,
  },
  {
    name: "gate 9 OK: qty == max_qty",
    entry: signed({ qty: "5" }),
    policy: noNotional,
    error: null,
    authenticated: true,
  },
  {
    name: "gate 9 OK: max_qty is per symbol",
    entry: signed({ symbol: "SOLUSDT", qty: "6" }),
    error: null,
    authenticated: true,
  },
  {
    name: "limit:max_notional: 4 BTC at 65000",
    entry: signed({ qty: "4" }),
    error: "limit:max_notional",
    authenticated: true,
  },
  {
    name: "gate 9 OK: notional exactly 250000",
    entry: signed({ symbol: "SOLUSDT", qty: "2000" }),
    error: null,
    authenticated: true,
  },
  {
    name: "limit:max_notional: 10^-18 over",
    entry: signed({ symbol: "SOLUSDT", qty: "2000.000000000000000001" }),
    error: "limit:max_notional",
    authenticated: true,
  },
  {
    name: "limit:max_notional: MARKET priced at reference, not its own lower price claim",
    entry: signed({ symbol: "SOLUSDT", qty: "2001", price: "1" }),
    error: "limit:max_notional",
    authenticated: true,
  },
  {
    name: "limit:max_notional: LIMIT below reference is priced at reference",
    entry: signed({ symbol: "SOLUSDT", qty: "2001", type: "LIMIT", price: "1" }),
    error: "limit:max_notional",
    authenticated: true,
  },
  {
    name: "limit:max_notional: LIMIT above reference is priced at its limit",
    entry: signed({ symbol: "SOLUSDT", qty: "1300", type: "LIMIT", price: "200" }),
    error: "limit:max_notional",
    authenticated: true,
  },
  {
    name: "gate 9 OK: LIMIT without reference uses its price",
    entry: signed({ symbol: "DOGEUSDT", qty: "10", type: "LIMIT", price: "0.1" }),
    error: null,
    authenticated: true,
    result: { avg_price: "0.1", fill_qty: "10" },
    position: "10",
  },
  {
    name: "limit:max_notional: LIMIT without reference, over by its price",
    entry: signed({ symbol: "DOGEUSDT", qty: "1000001", type: "LIMIT", price: "0.25" }),
    error: "limit:max_notional",
    authenticated: true,
  },
  {
    name: "limit:no_reference_price: MARKET",
    entry: signed({ symbol: "DOGEUSDT" }),
    error: "limit:no_reference_price",
    authenticated: true,
  },
  {
    name: "limit:no_reference_price: MARKET with a price claim",
    entry: signed({ symbol: "DOGEUSDT", price: "0.1" }),
    error: "limit:no_reference_price",
    authenticated: true,
  },
  {
    name: "limit:no_reference_price: no max_notional, MARKET must still fill at a reference",
    entry: signed({ symbol: "DOGEUSDT" }),
    policy: noNotional,
    error: "limit:no_reference_price",
    authenticated: true,
  },
  {
    name: "limit:no_reference_price: live venue falling back to paper",
    entry: signed({ venue: "binance-usdm", account: "acct-1", symbol: "DOGEUSDT" }),
    policy: noNotional,
    error: "limit:no_reference_price",
    authenticated: true,
  },
  {
    name: "gate 9 OK: rate count 199 of 200",
    entry: signed(),
    facts: makeFacts({ rates: { [BRIDGE]: 199 } }),
    error: null,
    authenticated: true,
  },
  {
    name: "limit:rate: count 200 of 200",
    entry: signed(),
    facts: makeFacts({ rates: { [BRIDGE]: 200 } }),
    error: "limit:rate",
    authenticated: true,
  },
  {
    name: "gate 9 OK: rate is per source",
    entry: signed(),
    facts: makeFacts({ rates: { [EXIT_OWNER]: 10_000 } }),
    error: null,
    authenticated: true,
  },
  {
    name: "gate 9 OK: no rate limit",
    entry: signed(),
    policy: makePolicy({ limits: { ratePerSourcePerS: undefined } }),
    facts: makeFacts({ rates: { [BRIDGE]: 10_000 } }),
    error: null,
    authenticated: true,
  },
  {
    name: "limit:kelly_fraction",
    entry: signed({ meta: { kelly_fraction: 0.3 } }),
    error: "limit:kelly_fraction",
    authenticated: true,
  },
  {
    name: "gate 9 OK: kelly == max",
    entry: signed({ meta: { kelly_fraction: 0.25 } }),
    error: null,
    authenticated: true,
  },
  {
    name: "gate 9 OK: no kelly limit",
    entry: signed({ meta: { kelly_fraction: 0.9 } }),
    policy: makePolicy({ limits: { maxKellyFraction: undefined } }),
    error: null,
    authenticated: true,
  },
  {
    name: "gate 9 OK: meta without kelly",
    entry: signed({ meta: { note: "hi" } }),
    error: null,
    authenticated: true,
  },
];

// ---------------------------------------------------------------- gates 10-11

const binance = (over: Record<string, unknown> = {}) =>
  signed({ venue: "binance-usdm", account: "acct-1", ...over });

const gates10to11: Row[] = [
  {
    name: "venue_not_enabled: binance-usdm not configured",
    entry: binance(),
    policy: makePolicy({ enabledVenues: new Set(["paper"]) }),
    error: "venue_not_enabled:binance-usdm",
    authenticated: true,
  },
  {
    name: "venue_not_enabled: polymarket not configured",
    entry: signed({
      venue: "polymarket",
      account: "u-1",
      symbol: "123456789",
      type: "LIMIT",
      price: "0.5",
      qty: "10",
    }),
    error: "venue_not_enabled:polymarket",
    authenticated: true,
  },
  {
    name: "venue_not_enabled: live_fallback deny and live off",
    entry: binance(),
    policy: makePolicy({ liveFallback: "deny" }),
    error: "venue_not_enabled:binance-usdm",
    authenticated: true,
  },
  {
    name: "venue_not_ready: live on without INTENTGATE_LIVE is denied, never filled on paper",
    entry: binance(),
    policy: makePolicy({ live: true, readyVenues: new Map([["binance-usdm", new Set(["*"])]]) }),
    error: "venue_not_ready:binance-usdm",
    authenticated: true,
    result: { mode: "live", venue: "binance-usdm" },
  },
  {
    name: "gate 10 OK: live off, binance-usdm executes on paper",
    entry: binance(),
    error: null,
    authenticated: true,
    result: { mode: "paper", venue: "binance-usdm", avg_price: "65000" },
    position: "1",
  },
  {
    name: "gate 10 OK: paper ignores live=true",
    entry: signed(),
    policy: makePolicy({ live: true }),
    error: null,
    authenticated: true,
    result: { mode: "paper" },
  },
  {
    name: "venue_error:reduce_only_rejected: opens from flat",
    entry: exitReduce(),
    error: "venue_error:reduce_only_rejected",
    decision: "FAILED",
    authenticated: true,
  },
  {
    name: "venue_error:reduce_only_rejected: grows a short",
    entry: exitReduce(),
    facts: long("-1"),
    error: "venue_error:reduce_only_rejected",
    decision: "FAILED",
    authenticated: true,
  },
  {
    name: "venue_error:reduce_only_rejected: flips long to short",
    entry: exitReduce({ qty: "2" }),
    facts: long("1"),
    error: "venue_error:reduce_only_rejected",
    decision: "FAILED",
    authenticated: true,
  },
  {
    name: "venue_error:reduce_only_rejected: position on another account",
    entry: exitReduce(),
    facts: long("1", "BTCUSDT", "other"),
    error: "venue_error:reduce_only_rejected",
    decision: "FAILED",
    authenticated: true,
  },
  {
    name: "gate 11 OK: reduce_only closes exactly",
    entry: exitReduce({ qty: "1.5" }),
    facts: long("1.5"),
    error: null,
    authenticated: true,
    result: { fill_qty: "1.5", avg_price: "65000" },
    position: "0",
  },
  {
    name: "gate 11 OK: reduce_only BUY reduces a short",
    entry: exitReduce({ side: "BUY", qty: "0.25" }),
    facts: long("-1"),
    error: null,
    authenticated: true,
    position: "-0.75",
  },
  {
    name: "EXECUTED: BUY from flat",
    entry: signed({ qty: "0.001" }),
    error: null,
    authenticated: true,
    result: { fill_qty: "0.001", avg_price: "65000", qty: "0.001", mode: "paper" },
    position: "0.001",
  },
  {
    name: "EXECUTED: SELL from flat goes short",
    entry: signed({ side: "SELL", qty: "2" }),
    error: null,
    authenticated: true,
    position: "-2",
  },
  {
    name: "EXECUTED: grows an existing long",
    entry: signed({ qty: "0.5" }),
    facts: long("1.25"),
    error: null,
    authenticated: true,
    position: "1.75",
  },
  {
    name: "EXECUTED: LIMIT fills at its own price",
    entry: signed({ type: "LIMIT", price: "60000", qty: "1" }),
    error: null,
    authenticated: true,
    result: { avg_price: "60000" },
    position: "1",
  },
  {
    name: "EXECUTED: qty echoed as written, fill canonical",
    entry: signed({ symbol: "SOLUSDT", qty: "1.50" }),
    error: null,
    authenticated: true,
    result: { qty: "1.50", fill_qty: "1.5", avg_price: "125" },
    position: "1.5",
  },
];

// ---------------------------------------------------------------- order

/** Rows breaking several gates at once: the earliest gate's code wins. */
const order: Row[] = [
  {
    name: "order: invalid plan with bad auth → gate 1",
    entry: () => planEntry(planObject({ qty: "0" }), { auth: "garbage" }),
    error: "invalid_plan:qty",
    authenticated: false,
  },
  {
    name: "order: bad signature, unknown source, halted → gate 2",
    entry: signed({ source: "nobody" }, { keyId: "bridge-k1" }),
    facts: makeFacts({ tradingState: "HALTED" }),
    error: "unauthenticated:source_mismatch",
    authenticated: false,
  },
  {
    name: "order: wrong lane, not exit owner, halted, stale, duplicate → gate 3",
    entry: signed(
      { plan_id: "dup-3", side: "SELL", reduce_only: true, created_at: NOW - 60_000 },
      { lane: "manual" },
    ),
    facts: makeFacts({ tradingState: "HALTED", claimedPlanIds: ["dup-3"] }),
    error: `source_not_allowed:${BRIDGE}`,
    authenticated: true,
  },
  {
    name: "order: not exit owner and halted → gate 4",
    entry: signed({ side: "SELL", reduce_only: true }),
    facts: makeFacts({ tradingState: "HALTED" }),
    error: `NOT_EXIT_OWNER:source=${BRIDGE}`,
    authenticated: true,
  },
  {
    name: "order: halted, stale, duplicate, no permit → gate 5",
    entry: signed({ plan_id: "dup-5", expires_at: NOW - 1 }),
    policy: PERMITS_REQUIRED,
    facts: makeFacts({ tradingState: "HALTED", claimedPlanIds: ["dup-5"] }),
    error: "trading_halted",
    authenticated: true,
  },
  {
    name: "order: reducing, stale → gate 5",
    entry: signed({ created_at: NOW + 60_000 }),
    facts: makeFacts({ tradingState: "REDUCING" }),
    error: "trading_reducing",
    authenticated: true,
  },
  {
    name: "order: stale, duplicate, no permit, over limits → gate 6",
    entry: signed({ plan_id: "dup-6", created_at: NOW - 60_000, qty: "100" }),
    policy: PERMITS_REQUIRED,
    facts: makeFacts({ claimedPlanIds: ["dup-6"] }),
    error: "stale_plan",
    authenticated: true,
  },
  {
    name: "order: duplicate, bad permit, over max_qty → gate 7",
    entry: signed({ plan_id: "dup-7", permit: "x", qty: "100" }),
    facts: makeFacts({ claimedPlanIds: ["dup-7"] }),
    error: "duplicate_plan_id",
    authenticated: true,
  },
  {
    name: "order: permit expired and for another plan → expired first",
    entry: permitted({}, { exp: NOW - 1, plan_id: "other" }),
    error: "permit_expired",
    authenticated: true,
  },
  {
    name: "order: permit mismatching plan_id, symbol and side → plan_id first",
    entry: permitted({}, { plan_id: "other", symbol: "ETHUSDT", side: "SELL" }),
    error: "permit_mismatch:plan_id",
    authenticated: true,
  },
  {
    name: "order: permit mismatching side and max_qty → side first",
    entry: permitted({ qty: "2" }, { side: "SELL", max_qty: "1" }),
    error: "permit_mismatch:side",
    authenticated: true,
  },
  {
    name: "order: permit mismatching max_qty and already used → mismatch first",
    entry: permitted({ qty: "2" }, { permit_id: "used-2", max_qty: "1" }),
    facts: makeFacts({ usedPermitIds: ["used-2"] }),
    error: "permit_mismatch:max_qty",
    authenticated: true,
  },
  {
    name: "order: unknown issuer with a bad signature → issuer first",
    entry: permitted({}, { iss: "nobody" }, "stranger-ed"),
    error: "permit_invalid:issuer",
    authenticated: true,
  },
  {
    name: "order: bad permit and over every limit → gate 8",
    entry: signed({ permit: "x", qty: "100", meta: { kelly_fraction: 0.9 } }),
    facts: makeFacts({ rates: { [BRIDGE]: 1000 } }),
    error: "permit_invalid:format",
    authenticated: true,
  },
  {
    name: "order: over max_qty, max_notional, rate and kelly → max_qty",
    entry: signed({ qty: "100", meta: { kelly_fraction: 0.9 } }),
    facts: makeFacts({ rates: { [BRIDGE]: 1000 } }),
    error: "limit:max_qty",
    authenticated: true,
  },
  {
    name: "order: over max_notional, rate and kelly → max_notional",
    entry: signed({ qty: "4", meta: { kelly_fraction: 0.9 } }),
    facts: makeFacts({ rates: { [BRIDGE]: 1000 } }),
    error: "limit:max_notional",
    authenticated: true,
  },
  {
    name: "order: over rate and kelly → rate",
    entry: signed({ meta: { kelly_fraction: 0.9 } }),
    facts: makeFacts({ rates: { [BRIDGE]: 1000 } }),
    error: "limit:rate",
    authenticated: true,
  },
  {
    name: "order: over a limit on a disabled venue → gate 9",
    entry: binance({ qty: "100" }),
    policy: makePolicy({ enabledVenues: new Set(["paper"]) }),
    error: "limit:max_qty",
    authenticated: true,
  },
  {
    name: "order: disabled venue and a reduce_only that would open → gate 10",
    entry: exitReduce({ venue: "binance-usdm", account: "acct-1" }),
    policy: makePolicy({ enabledVenues: new Set(["paper"]) }),
    error: "venue_not_enabled:binance-usdm",
    authenticated: true,
  },
];

const ROWS: Row[] = [...gate1, ...gate2, ...gates3to7, ...gate8, ...gate9, ...gates10to11, ...order];

describe("gate chain (wire-v1 §6)", () => {
  // wire-v1 §6 numbers eleven steps; the eleventh (execution) is not a
  // check but the step that plans the fill or the live order, so it lives
  // in core/executionPlan.ts and runs after these ten (the gate-11 rows
  // below still drive it through decide()).
  it("runs the ten check gates in the spec's order, execution after them", () => {
    expect(GATE_CHAIN.map((g) => g.name)).toEqual([
      "schema",
      "authentication",
      "source_allowlist",
      "exit_ownership",
      "trading_state",
      "freshness",
      "idempotency",
      "permit",
      "limits",
      "venue_route",
    ]);
  });

  it("has no two rows with the same name", () => {
    const names = ROWS.map((r) => r.name);
    expect(names.filter((n, i) => names.indexOf(n) !== i)).toEqual([]);
  });

  it.each(ROWS.map((r) => [r.name, r] as const))("%s", (_name, row) => {
    const d = decide(row.entry(), row.policy ?? makePolicy(), row.facts ?? makeFacts(), row.now ?? NOW);
    const decision = row.decision ?? (row.error === null ? "EXECUTED" : "DENIED");
    expect({
      decision: d.result.decision,
      error: d.result.error,
      authenticated: d.result.authenticated,
      executed: d.result.executed,
    }).toEqual({
      decision,
      error: row.error,
      authenticated: row.authenticated,
      executed: decision === "EXECUTED",
    });
    if (row.result) expect(d.result).toMatchObject(row.result);
    if (decision === "EXECUTED") {
      expect(d.result.fill_qty).not.toBeNull();
      expect(d.result.avg_price).not.toBeNull();
      expect(d.result.client_order_id).toMatch(/^ig-/);
      expect(d.effects.setPosition).toBeDefined();
    } else {
      expect(d.result.fill_qty).toBeNull();
      expect(d.result.order_id).toBeNull();
      expect(d.effects.setPosition).toBeUndefined();
    }
    if (row.position !== undefined) expect(d.effects.setPosition?.value).toBe(row.position);
  });
});

describe("full results", () => {
  it("EXECUTED paper BUY", () => {
    const entry = planEntry(planObject({ plan_id: "snap-exec-1", qty: "0.5" }), { id: "1700000000000-7" });
    const d = decide(entry, makePolicy(), makeFacts({ positions: [{ symbol: "BTCUSDT", qty: "1" }] }));
    expect(d.result).toMatchInlineSnapshot(`
      {
        "account": "default",
        "action": "place",
        "authenticated": true,
        "avg_price": "65000",
        "client_order_id": "ig-snap-exec-1",
        "decision": "EXECUTED",
        "error": null,
        "executed": true,
        "fill_qty": "0.5",
        "lane": "main",
        "mode": "paper",
        "order_id": "paper:main:1700000000000-7",
        "plan_id": "snap-exec-1",
        "qty": "0.5",
        "reduce_only": false,
        "reference": {
          "at": null,
          "price": "65000",
          "source": "config",
        },
        "side": "BUY",
        "source": "intent_bridge",
        "stream_id": "1700000000000-7",
        "symbol": "BTCUSDT",
        "timestamp": 1700000000000,
        "v": 1,
        "venue": "paper",
      }
    `);
  });

  it("invalid plan echoes what it could read", () => {
    const plan = planObject({ plan_id: "snap-bad-1", venue: "kraken" });
    const d = decide(planEntry(plan, { id: "1700000000000-8" }));
    expect(d.result).toMatchInlineSnapshot(`
      {
        "account": null,
        "action": "place",
        "authenticated": false,
        "avg_price": null,
        "client_order_id": null,
        "decision": "DENIED",
        "error": "invalid_plan:venue",
        "executed": false,
        "fill_qty": null,
        "lane": "main",
        "mode": "paper",
        "order_id": null,
        "plan_id": "snap-bad-1",
        "qty": "1",
        "reduce_only": null,
        "side": "BUY",
        "source": "intent_bridge",
        "stream_id": "1700000000000-8",
        "symbol": "BTCUSDT",
        "timestamp": 1700000000000,
        "v": 1,
        "venue": null,
      }
    `);
  });

  it("live venue falling back to paper", () => {
    const entry = planEntry(
      planObject({ plan_id: "snap-live-1", venue: "binance-usdm", account: "user-42", side: "SELL", qty: 2 }),
      { id: "1700000000000-9" },
    );
    const d = decide(entry);
    expect(d.result).toMatchInlineSnapshot(`
      {
        "account": "user-42",
        "action": "place",
        "authenticated": true,
        "avg_price": "65000",
        "client_order_id": "ig-snap-live-1",
        "decision": "EXECUTED",
        "error": null,
        "executed": true,
        "fill_qty": "2",
        "lane": "main",
        "mode": "paper",
        "order_id": "paper:main:1700000000000-9",
        "plan_id": "snap-live-1",
        "qty": "2",
        "reduce_only": false,
        "reference": {
          "at": null,
          "price": "65000",
          "source": "config",
        },
        "side": "SELL",
        "source": "intent_bridge",
        "stream_id": "1700000000000-9",
        "symbol": "BTCUSDT",
        "timestamp": 1700000000000,
        "v": 1,
        "venue": "binance-usdm",
      }
    `);
    // a dry run fills in its own venue's paper book, never the paper venue's
    expect(d.effects.setPosition).toEqual({
      account: "user-42",
      symbol: "BTCUSDT",
      venue: "binance-usdm",
      mode: "paper",
      value: "-2",
    });
  });

  it("a decimal literal helper sanity check", () => {
    expect(dec("-0.75")).toBe(-750000000000000000n);
  });
});
