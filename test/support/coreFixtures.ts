/**
 * Builders for core tests: a realistic {@link Policy} with real keys, {@link Facts},
 * signed plan entries and permit tokens, written straight from wire-v1 §2, §3
 * and §5 (deliberately independent of src/sdk, so the two can check each other).
 */
import { createHmac, generateKeyPairSync, type KeyObject, sign } from "node:crypto";
import { SecretBytes } from "../../src/core/auth/secretBytes.js";
import { classifyEntry, decideEntry } from "../../src/core/decide.js";
import { type Decimal, parseDecimal } from "../../src/core/decimal.js";
import type { Decision } from "../../src/core/decision.js";
import { EXPOSURE_IDS, exposureFromSnapshot } from "../../src/core/exposure.js";
import {
  type Facts,
  type PositionMode,
  parsePositionKey,
  positionKey,
  rateKey,
} from "../../src/core/facts.js";
import type { Lane, TradingState, VenueName } from "../../src/core/plan.js";
import type { AuthAlg, Limits, Policy, SourcePolicy, VerifyKey } from "../../src/core/policy.js";
import { livePriceKey } from "../../src/core/referencePrice.js";
import type { WorkingOrder } from "../../src/core/workingOrder.js";
import type { BusEntry } from "../../src/ports/bus.js";

/** The decision time every fixture is built around. */
/** The paper venue's book of positions (`PositionRef` venue and mode). */
export const PAPER_BOOK = { venue: "paper", mode: "paper" } as const;

export const NOW = 1_700_000_000_000;
/** The rate window `NOW` falls in. */
export const NOW_WINDOW = Math.floor(NOW / 1000);

/** Source names used by the fixture policy. */
export const EXIT_OWNER = "exitbrain_v3_5";
export const BRIDGE = "intent_bridge";
export const OPERATOR = "operator";
/** A source that has a key but is not in `sources`. */
export const GHOST = "ghost";

/** What a test needs to sign with a configured key. */
export type SigningKey =
  | { readonly alg: "hmac-sha256"; readonly secret: string }
  | { readonly alg: "ed25519"; readonly privateKey: KeyObject; readonly publicKey: KeyObject };

function ed25519(): { alg: "ed25519"; privateKey: KeyObject; publicKey: KeyObject } {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return { alg: "ed25519", privateKey, publicKey };
}

/** Key material, by key id, generated once per test file. */
export const SIGNING_KEYS: Readonly<Record<string, SigningKey>> = {
  "exitbrain-k1": { alg: "hmac-sha256", secret: "exitbrain-secret-ünïcode-1" },
  "bridge-k1": ed25519(),
  "operator-k1": { alg: "hmac-sha256", secret: "0123456789abcdef0123456789abcdef" },
  "ghost-k1": { alg: "hmac-sha256", secret: "ghost-secret" },
  "governor-k1": ed25519(),
  "governor-hmac": { alg: "hmac-sha256", secret: "governor-hmac-secret" },
  /** A permit issuer's key that is not listed in `permits.issuers`. */
  "rogue-issuer": ed25519(),
  /** An ed25519 key nobody configured (for wrong-key signatures). */
  "stranger-ed": ed25519(),
};

/** Which key (and source binding) each configured key id has; `stranger-ed` is deliberately absent. */
const KEY_BINDINGS: ReadonlyArray<readonly [string, string | undefined, VerifyKey["role"]]> = [
  ["exitbrain-k1", EXIT_OWNER, "producer"],
  ["bridge-k1", BRIDGE, "producer"],
  ["operator-k1", OPERATOR, "producer"],
  ["ghost-k1", GHOST, "producer"],
  ["governor-k1", undefined, "permit_issuer"],
  ["governor-hmac", undefined, "permit_issuer"],
  ["rogue-issuer", undefined, "permit_issuer"],
];

/** The producer key id that signs for each source by default. */
export const KEY_FOR_SOURCE: Readonly<Record<string, string>> = {
  [EXIT_OWNER]: "exitbrain-k1",
  [BRIDGE]: "bridge-k1",
  [OPERATOR]: "operator-k1",
  [GHOST]: "ghost-k1",
};

function verifyKey(keyId: string, source: string | undefined, role: VerifyKey["role"]): VerifyKey {
  const k = SIGNING_KEYS[keyId];
  if (!k) throw new Error(`no key material for ${keyId}`);
  return k.alg === "hmac-sha256"
    ? { keyId, alg: k.alg, secret: new SecretBytes(Buffer.from(k.secret, "utf8")), source, role }
    : { keyId, alg: k.alg, publicKey: k.publicKey, source, role };
}

/** Parses a decimal literal that a test knows is valid. */
export function dec(text: string): Decimal {
  const d = parseDecimal(text, { signed: true });
  if (d === undefined) throw new Error(`bad decimal literal ${text}`);
  return d;
}

/** Overrides for {@link makePolicy}; `limits` is merged field by field. */
export type PolicyOverrides = Partial<Omit<Policy, "limits">> & { readonly limits?: Partial<Limits> };

/** The default limits: BTCUSDT max qty 5, max notional 250000, 200/s, kelly 0.25, age 30 s, skew 5 s. */
export function makeLimits(over: Partial<Limits> = {}): Limits {
  return {
    maxQty: new Map([["BTCUSDT", dec("5")]]),
    maxNotional: dec("250000"),
    ratePerSourcePerS: 200,
    maxKellyFraction: 0.25,
    maxPlanAgeMs: 30_000,
    maxClockSkewMs: 5000,
    maxPriceAgeMs: 10_000,
    priceBandPct: new Map(),
    duplicateWindowMs: undefined,
    maxDailyNotional: new Map(),
    maxOpenOrders: new Map(),
    maxPosition: new Map(),
    maxGrossNotional: new Map(),
    ...over,
  };
}

/**
 * A policy like wire-v1 §8's example: exit owner `exitbrain_v3_5`, sources
 * `exitbrain_v3_5` and `intent_bridge` on `main`, `operator` on `manual`,
 * permits not required (issuers `governor-k1`, `governor-hmac`), reference prices
 * for BTCUSDT (65000), ETHUSDT (3000) and SOLUSDT (125), the same as Binance
 * mark prices read at `NOW`, paper and binance-usdm enabled, live off.
 */
export function makePolicy(over: PolicyOverrides = {}): Policy {
  const sources = new Map<string, SourcePolicy>([
    [EXIT_OWNER, { lanes: new Set<Lane>(["main"]), requireAuth: undefined }],
    [BRIDGE, { lanes: new Set<Lane>(["main"]), requireAuth: undefined }],
    [OPERATOR, { lanes: new Set<Lane>(["manual"]), requireAuth: undefined }],
  ]);
  const { limits, ...rest } = over;
  return {
    requireAuth: true,
    paperRestLimits: false,
    onHalt: "cancel",
    onReducing: "cancel",
    keys: new Map(KEY_BINDINGS.map(([id, source, role]) => [id, verifyKey(id, source, role)])),
    sources,
    exitOwner: EXIT_OWNER,
    permits: { required: false, issuers: new Set(["governor-k1", "governor-hmac"]) },
    livePrices: new Map(
      (["BTCUSDT", "ETHUSDT", "SOLUSDT"] as const).map((symbol, i) => [
        livePriceKey("binance-usdm", symbol),
        { price: dec(["65000", "3000", "125"][i] as string), at: NOW, kind: "mark" },
      ]),
    ),
    referencePrices: new Map([
      ["BTCUSDT", dec("65000")],
      ["ETHUSDT", dec("3000")],
      ["SOLUSDT", dec("125")],
    ]),
    enabledVenues: new Set<VenueName>(["paper", "binance-usdm"]),
    live: false,
    liveEnv: false,
    readyVenues: new Map<VenueName, ReadonlySet<string>>(),
    liveFallback: "paper",
    ...rest,
    limits: makeLimits(limits),
  };
}

/** A copy of `policy` with one source's policy replaced. */
export function withSource(policy: Policy, source: string, sp: Partial<SourcePolicy>): Policy {
  const sources = new Map(policy.sources);
  const prev = sources.get(source) ?? { lanes: new Set<Lane>(["main"]), requireAuth: undefined };
  sources.set(source, { ...prev, ...sp });
  return { ...policy, sources };
}

/** Inputs for {@link makeFacts}; rate counts are for the {@link NOW} window. */
export interface FactsInit {
  readonly tradingState?: TradingState;
  readonly claimedPlanIds?: readonly string[];
  readonly usedPermitIds?: readonly string[];
  /** Plans already counted in the `NOW` window, per source. */
  readonly rates?: Readonly<Record<string, number>>;
  /** Duplicate-order marks: `duplicateKeyOf` key → decision time (ms). */
  readonly duplicates?: Readonly<Record<string, number>>;
  /** Notional placed per `dailyKey` (JSON [account, day]), decimal text. */
  readonly dailyNotional?: Readonly<Record<string, string>>;
  /** Open orders per account. */
  readonly openOrders?: Readonly<Record<string, number>>;
  /**
   * Accounts whose exposure was read: their orders that may still fill, as
   * snapshot entries (`core/exposure.ts` ids); their positions are taken from
   * {@link positions}.
   */
  readonly exposure?: Readonly<Record<string, ReadonlyArray<readonly [string, string]>>>;
  /** Positions as signed decimal text, in the paper venue's book unless a venue and mode are given. */
  readonly positions?: ReadonlyArray<{
    readonly account?: string;
    readonly symbol: string;
    readonly qty: string;
    readonly venue?: VenueName;
    readonly mode?: PositionMode;
  }>;
}

/** A facts snapshot: ACTIVE, nothing claimed, consumed, counted or held unless given. */
export function makeFacts(init: FactsInit = {}): Facts {
  const positions = new Map(
    (init.positions ?? []).map((p) => [
      positionKey({
        account: p.account ?? "default",
        symbol: p.symbol,
        venue: p.venue ?? "paper",
        mode: p.mode ?? "paper",
      }),
      p.qty,
    ]),
  );
  return {
    tradingState: init.tradingState ?? "ACTIVE",
    sendRecords: new Map(),
    workingOrders: new Map(),
    duplicates: new Map(Object.entries(init.duplicates ?? {}).map(([k, at]) => [k, String(at)])),
    dailyNotional: new Map(Object.entries(init.dailyNotional ?? {})),
    openOrders: new Map(Object.entries(init.openOrders ?? {})),
    claimedPlanIds: new Set(init.claimedPlanIds ?? []),
    usedPermitIds: new Set(init.usedPermitIds ?? []),
    rateCounts: new Map(
      Object.entries(init.rates ?? {}).map(([source, n]) => [rateKey({ source, window: NOW_WINDOW }), n]),
    ),
    positions,
    exposure: new Map(
      Object.entries(init.exposure ?? {}).map(([account, entries]) => {
        const held = [...positions]
          .filter(([key]) => parsePositionKey(key)?.account === account)
          .map(([key, qty]) => [EXPOSURE_IDS.position + key, qty] as const);
        return [account, exposureFromSnapshot(account, new Map([...held, ...entries]))];
      }),
    ),
  };
}

let planCounter = 0;
/** A fresh, valid plan_id. */
export const freshPlanId = (): string => `plan-${++planCounter}`;

/**
 * A valid plan object (wire-v1 §3): a 1 BTCUSDT MARKET BUY on paper from
 * `intent_bridge`, created one second before {@link NOW}. An override of
 * `undefined` removes the field.
 */
export function planObject(over: Record<string, unknown> = {}): Record<string, unknown> {
  const plan: Record<string, unknown> = {
    v: 1,
    plan_id: freshPlanId(),
    source: BRIDGE,
    venue: "paper",
    symbol: "BTCUSDT",
    side: "BUY",
    qty: "1",
    created_at: NOW - 1000,
  };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) delete plan[k];
    else plan[k] = v;
  }
  return plan;
}

/** Unpadded base64url. */
export const b64url = (bytes: Uint8Array | string): string =>
  (typeof bytes === "string" ? Buffer.from(bytes, "utf8") : Buffer.from(bytes)).toString("base64url");

/** The raw signature of `message` with a configured key. */
export function rawSignature(keyId: string, message: Uint8Array): Buffer {
  const k = SIGNING_KEYS[keyId];
  if (!k) throw new Error(`no key material for ${keyId}`);
  return k.alg === "hmac-sha256"
    ? createHmac("sha256", Buffer.from(k.secret, "utf8")).update(message).digest()
    : sign(null, message, k.privateKey);
}

/** The `auth` field `<alg>:<key_id>:<sig>` over the exact plan bytes (wire-v1 §2). */
export function authFor(planBytes: Uint8Array, keyId: string, alg?: AuthAlg): string {
  const k = SIGNING_KEYS[keyId];
  if (!k) throw new Error(`no key material for ${keyId}`);
  return `${alg ?? k.alg}:${keyId}:${b64url(rawSignature(keyId, planBytes))}`;
}

/** How {@link planEntry} builds the entry. */
export interface EntryOptions {
  readonly lane?: Lane;
  readonly id?: string;
  /** Sign with this key id (default: the source's producer key); `null` sends no `auth` field. */
  readonly keyId?: string | null;
  /** The exact `auth` field text (overrides `keyId`). */
  readonly auth?: string;
  /** Sign these bytes instead of the plan bytes sent. */
  readonly signBytes?: Uint8Array;
  /** Extra raw entry fields appended after `plan` and `auth`. */
  readonly extraFields?: ReadonlyArray<readonly [string, Buffer]>;
  readonly deliveries?: number;
}

let entryCounter = 0;

/** The bytes of a plan: objects are `JSON.stringify`-ed, text is UTF-8 encoded, buffers are sent as is. */
export function planBytesOf(plan: Record<string, unknown> | string | Buffer): Buffer {
  if (Buffer.isBuffer(plan)) return plan;
  return Buffer.from(typeof plan === "string" ? plan : JSON.stringify(plan), "utf8");
}

/** A plan stream entry `[["plan", bytes], ["auth", "<alg>:<key_id>:<sig>"]]`. */
export function planEntry(
  plan: Record<string, unknown> | string | Buffer,
  opts: EntryOptions = {},
): BusEntry {
  const bytes = planBytesOf(plan);
  const fields: [string, Buffer][] = [["plan", bytes]];
  let auth = opts.auth;
  if (auth === undefined && opts.keyId !== null) {
    const source = typeof plan === "object" && !Buffer.isBuffer(plan) ? plan.source : undefined;
    const keyId = opts.keyId ?? (typeof source === "string" ? KEY_FOR_SOURCE[source] : undefined);
    if (keyId !== undefined) auth = authFor(opts.signBytes ?? bytes, keyId);
  }
  if (auth !== undefined) fields.push(["auth", Buffer.from(auth, "latin1")]);
  if (opts.extraFields) fields.push(...opts.extraFields.map(([n, v]) => [n, v] as [string, Buffer]));
  return {
    lane: opts.lane ?? "main",
    id: opts.id ?? `${NOW}-${++entryCounter}`,
    fields,
    deliveries: opts.deliveries ?? 1,
  };
}

/** A raw entry with exactly these fields. */
export function rawEntry(fields: ReadonlyArray<readonly [string, Buffer]>, lane: Lane = "main"): BusEntry {
  return { lane, id: `${NOW}-${++entryCounter}`, fields, deliveries: 1 };
}

/** A permit payload (wire-v1 §5) for a plan; override any field, `undefined` removes it. */
export function permitPayload(over: Record<string, unknown> = {}): Record<string, unknown> {
  const payload: Record<string, unknown> = {
    v: 1,
    permit_id: `permit-${++planCounter}`,
    plan_id: "plan-x",
    symbol: "BTCUSDT",
    side: "BUY",
    max_qty: "1",
    reduce_only: false,
    exp: NOW + 60_000,
    iss: "governor-k1",
  };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) delete payload[k];
    else payload[k] = v;
  }
  return payload;
}

/**
 * A permit token `<b64url(payload JSON)>.<b64url(sig)>`, the signature made
 * by `keyId` (default: the payload's `iss`) over the payload's base64url text.
 */
export function signPermit(payload: Record<string, unknown> | string, keyId?: string): string {
  const json = typeof payload === "string" ? payload : JSON.stringify(payload);
  const payloadText = b64url(json);
  const iss = typeof payload === "object" ? payload.iss : undefined;
  const signer = keyId ?? (typeof iss === "string" && iss in SIGNING_KEYS ? iss : "governor-k1");
  return `${payloadText}.${b64url(rawSignature(signer, Buffer.from(payloadText, "latin1")))}`;
}

/** Decides one entry with gate 1 run first (classifyEntry), the way the executor does. */
export function decide(
  entry: BusEntry,
  policy: Policy = makePolicy(),
  facts: Facts = makeFacts(),
  now: number = NOW,
): Decision {
  return decideEntry(classifyEntry(entry), policy, facts, now);
}

/** A live Binance LIMIT BUY working order (1 at 60000, nothing filled) with `over` applied. */
export function liveWorkingOrder(over: Partial<WorkingOrder> = {}): WorkingOrder {
  return {
    key: "k1",
    plan_id: "p1",
    source: "bridge",
    lane: "main",
    stream_id: "1-0",
    venue: "binance-usdm",
    mode: "live",
    account: "acct-1",
    symbol: "BTCUSDT",
    side: "BUY",
    qty: "1",
    price: "60000",
    reduce_only: false,
    client_order_id: "ig-p1",
    order_id: "77",
    fill_qty: "0",
    placed_at: NOW - 1000,
    ...over,
  };
}
