/**
 * One behavioural suite every signing plane must pass (local, remote,
 * pkcs11). It drives the plane only through the `SigningPlane` port and pins
 * down signing-plane-v1 (docs/signing-plane.md):
 *
 * Longer than the ~400-line rule on purpose: it is one suite, one `describe`
 * per contract section, and splitting it would scatter the contract a plane
 * author reads top to bottom.
 *
 * - grants: Binance `hmac-query` (Binance's documented vector and node:crypto
 *   over the exact query), Polymarket L2 (an independent node:crypto
 *   computation), EIP-712 orders (recovering to the account's address) when
 *   the build registers the handler, `intent_not_enabled` otherwise;
 * - every denial code of §3, in order, and multi-violation requests resolving
 *   to the earliest code;
 * - UUID accounts matched case-insensitively; callers scoped to their accounts;
 * - exactly one audit line per request (read from the file the plane writes),
 *   a keyed chain `verifyAuditFile` accepts under the plane's audit key;
 * - no outcome, audit line or signer log holding key material (raw, hex,
 *   base64, base64url) or a harness secret.
 *
 * Usage: `describePlaneConformance("local", setUpLocalPlane)`. `setup` is
 * called once with {@link PLANE_SCENARIO}, a fresh temp dir and the plane's
 * clock pinned at {@link CONFORMANCE_CLOCK_MS} (Binance's documented vector
 * carries its own timestamp, and the signer checks payload times against its
 * clock); the tests run in order against that one plane.
 */
import { createHmac } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PLANE_PROTOCOL_VERSION, type SignOutcome, type SignRequest } from "../../src/ports/signingPlane.js";
import { type AuditRecord, TARGET_FIELDS } from "../../src/signer/audit/auditRecord.js";
import { verifyAuditFile } from "../../src/signer/audit/verifyAudit.js";
import type { PlaneHarness, PlaneScenario, PlaneSetup, ScenarioKey } from "../support/signerPlanes.js";

// ---------------------------------------------------------------------------
// The shared scenario

const CALLER = "exec-a";
const ROUTE_BINANCE = "executor.binance-usdm.order";
const ROUTE_BINANCE_READ = "executor.binance-usdm.query";
const ROUTE_L2 = "executor.polymarket.l2.order";
const ROUTE_L2_READ = "executor.polymarket.l2.open_orders";
const ROUTE_EIP712 = "executor.polymarket.order";

/** Binance's documented example (USDⓈ-M "SIGNED endpoint security"). */
export const BINANCE_VECTOR = {
  secret: "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9",
  query:
    "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timeInForce=GTC&recvWindow=5000&timestamp=1591702613943",
  signature: "3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9",
} as const;

/** Every plane's clock in the suite: 57 ms after the vector's `timestamp`. */
export const CONFORMANCE_CLOCK_MS = 1_591_702_614_000;
/** Payload times of the suite's requests: the plane's "now" (ms, and seconds for L2). */
const NOW_MS = CONFORMANCE_CLOCK_MS;
const NOW_S = Math.floor(CONFORMANCE_CLOCK_MS / 1000);

/** A Polymarket L2 secret as clob-client gets it: urlsafe base64 (this one has both `-` and `_`). */
const L2_SECRET_BYTES = Buffer.from(
  "fbeffe0123456789abcdeffedcba98765432100f1e2d3c4b5a69788796a5b4c3",
  "hex",
);
const L2_SECRET = L2_SECRET_BYTES.toString("base64url");
/** A well-known throw-away secp256k1 key (never funded). */
const EOA_KEY_HEX = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";

const UUID_ACCOUNT = "4F1C0A2B-9D3E-4A5B-8C7D-6E5F4A3B2C1D";

const KEYS: readonly ScenarioKey[] = [
  { id: "binance-main", kind: "hmac", secret: BINANCE_VECTOR.secret, encoding: "raw" },
  { id: "poly-l2", kind: "hmac", secret: L2_SECRET, encoding: "base64" },
  { id: "poly-eoa", kind: "secp256k1", privateKeyHex: EOA_KEY_HEX },
  {
    id: "binance-corrupt",
    kind: "hmac",
    secret: "corrupted-entry-secret-7f3a9c1e5b2d4f60",
    encoding: "raw",
    state: "corrupted",
  },
];

/** The one scenario every plane is built from. */
const ALL_ACCOUNTS = ["acct-binance", "acct-rate", UUID_ACCOUNT, "acct-poly", "acct-corrupt", "acct-missing"];

export const PLANE_SCENARIO: PlaneScenario = {
  callers: [CALLER, "exec-b"],
  // exec-a may sign for every account but acct-other (caller_not_allowed); exec-b for acct-binance only.
  callerScopes: {
    [CALLER]: {
      accounts: ALL_ACCOUNTS,
      intents: ["cex_api_signer", "clob_api_signer", "per_user_clob_signer"],
    },
    "exec-b": { accounts: ["acct-binance"], intents: ["cex_api_signer"] },
  },
  intents: {
    cex_api_signer: { routes: { [ROUTE_BINANCE]: "order", [ROUTE_BINANCE_READ]: "position_risk" } },
    clob_api_signer: { routes: { [ROUTE_L2]: "order", [ROUTE_L2_READ]: "open_orders" } },
    per_user_clob_signer: { routes: { [ROUTE_EIP712]: "order" } },
  },
  accounts: {
    "acct-binance": { cex_api_signer: "binance-main" },
    "acct-rate": { cex_api_signer: "binance-main" },
    [UUID_ACCOUNT]: { cex_api_signer: "binance-main" },
    "acct-poly": { clob_api_signer: "poly-l2", per_user_clob_signer: "poly-eoa" },
    "acct-corrupt": { cex_api_signer: "binance-corrupt" },
    "acct-missing": { cex_api_signer: "binance-missing" },
    "acct-other": { cex_api_signer: "binance-main" },
  },
  policy: {
    cex_api_signer: { max_notional: "10000", symbols: ["BTCUSDT", "ETHUSDT"], rate_per_account_per_s: 3 },
    clob_api_signer: { max_notional: "100" },
  },
  // The signer's own reference prices (its notional never uses a caller's).
  referencePrices: { "binance-usdm": { BTCUSDT: "9000", ETHUSDT: "2500", SOLUSDT: "150" } },
  keys: KEYS,
};

// ---------------------------------------------------------------------------
// Requests

type RawRequest = Record<string, unknown>;
let seq = 0;
const nextId = (tag: string): string => `conf-${tag}-${++seq}`;

const GUARD = {
  plan_id: "plan-1",
  decision: "EXECUTE",
  trading_state: "ACTIVE",
  mode: "paper",
  source: "src_a",
};

function binanceOrder(over: Partial<RawRequest> = {}): RawRequest {
  return {
    request_id: nextId("binance"),
    account: "acct-binance",
    intent: "cex_api_signer",
    route: ROUTE_BINANCE,
    target: {
      venue: "binance-usdm",
      action: "order",
      symbol: "BTCUSDT",
      side: "BUY",
      qty: "1",
      price: "9000",
    },
    guard_context: GUARD,
    payload: { kind: "hmac-query", query: BINANCE_VECTOR.query },
    ...over,
  };
}

function orderQuery(o: {
  symbol?: string;
  side?: string;
  qty?: string;
  price?: string;
  ts?: number;
}): string {
  return [
    `symbol=${o.symbol ?? "BTCUSDT"}`,
    `side=${o.side ?? "BUY"}`,
    "type=LIMIT",
    `quantity=${o.qty ?? "1"}`,
    `price=${o.price ?? "9000"}`,
    "timeInForce=GTC",
    "recvWindow=5000",
    `timestamp=${o.ts ?? NOW_MS}`,
  ].join("&");
}

/** A Binance order whose target and query agree on every field given. */
function binanceOrderFor(o: {
  symbol: string;
  side?: "BUY" | "SELL";
  qty: string;
  price: string;
}): RawRequest {
  const base = binanceOrder();
  return {
    ...base,
    target: {
      ...(base.target as object),
      symbol: o.symbol,
      side: o.side ?? "BUY",
      qty: o.qty,
      price: o.price,
    },
    payload: { kind: "hmac-query", query: orderQuery(o) },
  };
}

function positionRisk(account: string): RawRequest {
  return {
    request_id: nextId("risk"),
    account,
    intent: "cex_api_signer",
    route: ROUTE_BINANCE_READ,
    target: { venue: "binance-usdm", action: "position_risk", symbol: "BTCUSDT" },
    guard_context: GUARD,
    payload: { kind: "hmac-query", query: `symbol=BTCUSDT&timestamp=${NOW_MS}` },
  };
}

const L2_TOKEN_ID = "71321045679252212594626385532706912750332728571942532289631379312455583992563";
const L2_ORDER_BODY = JSON.stringify({
  order: {
    salt: "12345",
    maker: "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23",
    signer: "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23",
    tokenId: L2_TOKEN_ID,
    makerAmount: "5000000",
    takerAmount: "10000000",
    side: "BUY",
    signatureType: 0,
    signature: "0x00",
  },
  owner: "api-key-owner",
  orderType: "GTC",
});

function l2Request(over: Partial<RawRequest> = {}): RawRequest {
  return {
    request_id: nextId("l2"),
    account: "acct-poly",
    intent: "clob_api_signer",
    route: ROUTE_L2,
    target: {
      venue: "polymarket",
      action: "order",
      token_id: L2_TOKEN_ID,
      side: "BUY",
      qty: "10",
      price: "0.5",
    },
    guard_context: GUARD,
    payload: {
      kind: "hmac-clob-l2",
      timestamp: String(NOW_S),
      method: "POST",
      path: "/order",
      body: L2_ORDER_BODY,
    },
    ...over,
  };
}

/** clob-client's L2 signature, computed independently: urlsafe base64 (padded) of HMAC-SHA256. */
function expectedL2(p: { timestamp: string; method: string; path: string; body: string }): string {
  return createHmac("sha256", Buffer.from(L2_SECRET, "base64url"))
    .update(p.timestamp + p.method + p.path + p.body)
    .digest("base64")
    .replaceAll("+", "-")
    .replaceAll("/", "_");
}

// EIP-712, computed independently of src/ (keccak and secp256k1 from @noble).
const keccak = (b: Uint8Array | string): Buffer =>
  Buffer.from(keccak_256(typeof b === "string" ? Buffer.from(b, "utf8") : b));
const word = (n: bigint): Buffer => Buffer.from(n.toString(16).padStart(64, "0"), "hex");
const EOA_PUB = secp256k1.getPublicKey(Buffer.from(EOA_KEY_HEX, "hex"), false);
const EOA_ADDRESS = `0x${keccak(EOA_PUB.subarray(1)).subarray(12).toString("hex")}`;
const EXCHANGE_V2 = "0xE111180000d2663C0091e4f400237545B87B996B";
const ORDER_V2_FIELDS: readonly [string, "uint256" | "uint8" | "address" | "bytes32"][] = [
  ["salt", "uint256"],
  ["maker", "address"],
  ["signer", "address"],
  ["tokenId", "uint256"],
  ["makerAmount", "uint256"],
  ["takerAmount", "uint256"],
  ["side", "uint8"],
  ["signatureType", "uint8"],
  ["timestamp", "uint256"],
  ["metadata", "bytes32"],
  ["builder", "bytes32"],
];
const ZERO32 = `0x${"0".repeat(64)}`;
const EIP712_ORDER = {
  salt: "479249096354",
  maker: EOA_ADDRESS,
  signer: EOA_ADDRESS,
  tokenId: L2_TOKEN_ID,
  makerAmount: "5000000",
  takerAmount: "10000000",
  side: "0",
  signatureType: "0",
  timestamp: "1700000000000",
  metadata: ZERO32,
  builder: ZERO32,
};
const EIP712_DOMAIN = {
  name: "Polymarket CTF Exchange",
  version: "2",
  chainId: "137",
  verifyingContract: EXCHANGE_V2,
};

function eip712Digest(order: Record<string, string>): Buffer {
  const domainType = keccak(
    "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)",
  );
  const domainSep = keccak(
    Buffer.concat([
      domainType,
      keccak(EIP712_DOMAIN.name),
      keccak(EIP712_DOMAIN.version),
      word(BigInt(EIP712_DOMAIN.chainId)),
      word(BigInt(EIP712_DOMAIN.verifyingContract)),
    ]),
  );
  const orderType = keccak(`Order(${ORDER_V2_FIELDS.map(([n, t]) => `${t} ${n}`).join(",")})`);
  const structHash = keccak(
    Buffer.concat([orderType, ...ORDER_V2_FIELDS.map(([n]) => word(BigInt(order[n]!)))]),
  );
  return keccak(Buffer.concat([Buffer.from([0x19, 0x01]), domainSep, structHash]));
}

function recoverSigner(digest: Uint8Array, signature: string): string {
  const hex = signature.replace(/^0x/, "");
  expect(hex).toMatch(/^[0-9a-f]{130}$/);
  const v = Number.parseInt(hex.slice(128), 16);
  expect([27, 28]).toContain(v);
  const sig = new secp256k1.Signature(
    BigInt(`0x${hex.slice(0, 64)}`),
    BigInt(`0x${hex.slice(64, 128)}`),
    v - 27,
  );
  expect(sig.s <= secp256k1.Point.CURVE().n >> 1n).toBe(true); // low-S (EIP-2)
  const pub = sig.recoverPublicKey(digest).toBytes(false);
  return `0x${keccak(pub.subarray(1)).subarray(12).toString("hex")}`;
}

function eip712Request(over: Partial<RawRequest> = {}): RawRequest {
  return {
    request_id: nextId("eip712"),
    account: "acct-poly",
    intent: "per_user_clob_signer",
    route: ROUTE_EIP712,
    target: {
      venue: "polymarket",
      action: "order",
      token_id: L2_TOKEN_ID,
      side: "BUY",
      qty: "10",
      price: "0.5",
    },
    guard_context: GUARD,
    payload: { kind: "eip712-order", domain: EIP712_DOMAIN, order: EIP712_ORDER },
    ...over,
  };
}

const without = (req: RawRequest, key: string): RawRequest => {
  const { [key]: _dropped, ...rest } = req;
  return rest;
};

// ---------------------------------------------------------------------------
// Key material: every spelling a leak could take

function secretSpellings(keys: readonly ScenarioKey[], harnessSecrets: readonly string[]): string[] {
  const out = new Set<string>();
  const add = (bytes: Buffer): void => {
    out.add(bytes.toString("hex"));
    out.add(bytes.toString("base64").replace(/=+$/, ""));
    out.add(bytes.toString("base64url"));
    const text = bytes.toString("utf8");
    if (/^[\x20-\x7e]{8,}$/.test(text)) out.add(text);
  };
  for (const key of keys) {
    if (key.kind === "hmac") {
      add(Buffer.from(key.secret, "utf8"));
      if (key.encoding === "base64") add(Buffer.from(key.secret, "base64url"));
    } else {
      add(Buffer.from(key.privateKeyHex, "hex"));
    }
  }
  for (const s of harnessSecrets) add(Buffer.from(s, "utf8"));
  return [...out].filter((s) => s.length >= 8);
}

function expectNoSecret(text: string, secrets: readonly string[], where: string): void {
  const lower = text.toLowerCase();
  for (const s of secrets) {
    // Hex can come back in either case; the other spellings are case-sensitive.
    const hit = /^[0-9a-f]+$/.test(s) ? lower.includes(s) : text.includes(s);
    expect(hit, `${where} holds key material or a harness secret`).toBe(false);
  }
}

// ---------------------------------------------------------------------------
// The suite

async function auditLines(path: string): Promise<AuditRecord[]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
  return text
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as AuditRecord);
}

/** What a plane can be put through beyond the common suite. */
export interface PlaneTraits {
  /**
   * The plane starts even when its key storage cannot be opened (pkcs11: a
   * wrong PIN) and must then deny every request `signer_unavailable`. Planes
   * that open their storage at start-up (local, remote: the vault) refuse to
   * start instead, so the case does not exist for them.
   */
  readonly startsWithoutKeyStorage: boolean;
}

export function describePlaneConformance(
  name: string,
  setup: PlaneSetup,
  traits: PlaneTraits = { startsWithoutKeyStorage: false },
): void {
  describe(`signing plane conformance: ${name}`, () => {
    let dir: string;
    let h: PlaneHarness;
    let secrets: string[];
    /** Requests sent, in order, and whether each must have left one audit line. */
    const sent: { id: string; audited: boolean }[] = [];
    const outcomes: SignOutcome[] = [];

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), `ig-plane-conf-${name}-`));
      h = await setup(PLANE_SCENARIO, dir, { clockMs: CONFORMANCE_CLOCK_MS });
      secrets = secretSpellings(PLANE_SCENARIO.keys, h.harnessSecrets);
    });

    afterAll(async () => {
      try {
        await h?.close();
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    /**
     * Signs one request and checks the bookkeeping every request owes: the
     * echoed id, exactly one new audit line naming this request and decision,
     * no key material in the outcome.
     */
    async function sign(req: RawRequest, caller = CALLER): Promise<SignOutcome> {
      const before = (await auditLines(h.auditPath)).length;
      const outcome = await h.plane.sign(caller, req as unknown as SignRequest);
      outcomes.push(outcome);
      const audited = caller === CALLER || h.auditsUnknownCaller;
      sent.push({ id: typeof req.request_id === "string" ? req.request_id : "", audited });
      const echo = typeof req.request_id === "string" ? req.request_id : "";
      expect(outcome.request_id).toBe(echo);
      expectNoSecret(JSON.stringify(outcome), secrets, "the outcome");
      expectNoSecret(inspect(outcome, { depth: 8 }), secrets, "the inspected outcome");
      const lines = await auditLines(h.auditPath);
      expect(lines.length - before, "audit lines written for this request").toBe(audited ? 1 : 0);
      if (audited) {
        const last = lines[lines.length - 1]!;
        expect(last.request_id).toBe(echo);
        expect(last.caller).toBe(h.unknownCallerAuditedAs === "authenticated" ? CALLER : caller);
        expect(last.decision).toBe(outcome.granted ? "granted" : "denied");
        expect(last.reason).toBe(outcome.granted ? "ok" : outcome.reason);
      }
      return outcome;
    }

    async function expectDenied(req: RawRequest, reason: string, caller = CALLER): Promise<void> {
      const outcome = await sign(req, caller);
      expect(outcome).toEqual({
        granted: false,
        request_id: typeof req.request_id === "string" ? req.request_id : "",
        reason,
      });
    }

    async function expectGranted(req: RawRequest): Promise<Extract<SignOutcome, { granted: true }>> {
      const outcome = await sign(req);
      expect(outcome, JSON.stringify(outcome)).toMatchObject({
        granted: true,
        plane_version: PLANE_PROTOCOL_VERSION,
      });
      return outcome as Extract<SignOutcome, { granted: true }>;
    }

    describe("grants", () => {
      it("signs Binance's documented hmac-query vector", async () => {
        const req = binanceOrder();
        const out = await expectGranted(req);
        expect(out.signature).toBe(BINANCE_VECTOR.signature);
        expect(out.signature).toBe(
          createHmac("sha256", BINANCE_VECTOR.secret).update(BINANCE_VECTOR.query).digest("hex"),
        );
        expect(out).toEqual({
          granted: true,
          request_id: req.request_id,
          signature: BINANCE_VECTOR.signature,
          plane_version: PLANE_PROTOCOL_VERSION,
        });
      });

      it("signs the exact query bytes (HMAC-SHA256, lowercase hex) for orders and queries", async () => {
        const query = `symbol=ETHUSDT&side=SELL&type=LIMIT&quantity=0.5&price=2500.10&reduceOnly=true&newClientOrderId=ig-p_1.x&timeInForce=GTC&timestamp=${NOW_MS + 123}`;
        const req = binanceOrder({
          target: {
            venue: "binance-usdm",
            action: "order",
            symbol: "ETHUSDT",
            side: "SELL",
            qty: "0.5",
            price: "2500.1",
            reduce_only: true,
            client_order_id: "ig-p_1.x",
          },
          payload: { kind: "hmac-query", query },
        });
        const out = await expectGranted(req);
        expect(out.signature).toBe(
          createHmac("sha256", BINANCE_VECTOR.secret).update(query, "utf8").digest("hex"),
        );

        const risk = positionRisk("acct-binance");
        const riskOut = await expectGranted(risk);
        expect(riskOut.signature).toBe(
          createHmac("sha256", BINANCE_VECTOR.secret)
            .update((risk.payload as { query: string }).query)
            .digest("hex"),
        );
      });

      it("signs Polymarket L2 headers as an independent node:crypto computation does", async () => {
        const order = l2Request();
        const out = await expectGranted(order);
        expect(out.signature).toBe(expectedL2(order.payload as never));
        expect(out.signature).toMatch(/^[A-Za-z0-9_-]{43}=$/);

        const get = l2Request({
          route: ROUTE_L2_READ,
          target: { venue: "polymarket", action: "open_orders", method: "GET" },
          payload: {
            kind: "hmac-clob-l2",
            timestamp: String(NOW_S + 1),
            method: "GET",
            path: "/data/orders",
            body: "",
          },
        });
        const getOut = await expectGranted(get);
        expect(getOut.signature).toBe(expectedL2(get.payload as never));
      });

      it("signs an EIP-712 order that recovers to the account's address", async () => {
        const out = await expectGranted(eip712Request());
        expect(out.signer_address?.toLowerCase()).toBe(EOA_ADDRESS);
        expect(recoverSigner(eip712Digest(EIP712_ORDER), out.signature)).toBe(EOA_ADDRESS);

        const target = eip712Request().target as Record<string, unknown>;
        await expectDenied(eip712Request({ target: { ...target, side: "SELL" } }), "payload_mismatch:side");
        await expectDenied(eip712Request({ target: { ...target, qty: "20" } }), "payload_mismatch:qty");
        await expectDenied(
          eip712Request({ target: { ...target, token_id: "42" } }),
          "payload_mismatch:token_id",
        );
      });
      it("denies an EIP-712 order signed for another wallet payload_mismatch:signer", async () => {
        // maker = signer = an address that is not the account's key (handler: PayloadKeyMismatch("signer")).
        const other = "0x1111111111111111111111111111111111111111";
        await expectDenied(
          eip712Request({
            payload: {
              kind: "eip712-order",
              domain: EIP712_DOMAIN,
              order: { ...EIP712_ORDER, maker: other, signer: other },
            },
          }),
          "payload_mismatch:signer",
        );
      });
      it("accepts a UUID account in any case (config written in uppercase)", async () => {
        const lower = positionRisk(UUID_ACCOUNT.toLowerCase());
        const upper = positionRisk(UUID_ACCOUNT.toUpperCase());
        const mixed = positionRisk("4f1C0a2B-9d3E-4a5B-8c7D-6e5F4a3B2c1D");
        const sigs = new Set<string>();
        for (const req of [lower, upper, mixed]) sigs.add((await expectGranted(req)).signature);
        expect(sigs.size).toBe(1);
        const lines = await auditLines(h.auditPath);
        for (const line of lines.slice(-3)) expect(line.account).toBe(UUID_ACCOUNT.toLowerCase());
        // A non-UUID account id stays case-sensitive.
        await expectDenied(positionRisk("ACCT-BINANCE"), "unknown_account");
      });
    });

    describe("denials, in the order of §3", () => {
      it("unknown_caller", async () => {
        await expectDenied(binanceOrder(), "unknown_caller", "intruder");
        await expectDenied(binanceOrder(), "unknown_caller", "");
      });

      it("unknown_intent", async () => {
        await expectDenied(binanceOrder({ intent: "teleport" }), "unknown_intent");
        await expectDenied(without(binanceOrder(), "intent"), "unknown_intent");
      });

      it("intent_not_enabled: shared_clob_signer and an on-chain intent", async () => {
        await expectDenied(binanceOrder({ intent: "shared_clob_signer" }), "intent_not_enabled");
        await expectDenied(binanceOrder({ intent: "onchain_transfer" }), "intent_not_enabled");
        await expectDenied(binanceOrder({ intent: "recovery" }), "intent_not_enabled");
      });

      it("route_not_allowed (unknown route; another intent's route)", async () => {
        await expectDenied(binanceOrder({ route: "executor.elsewhere" }), "route_not_allowed");
        await expectDenied(binanceOrder({ route: ROUTE_L2 }), "route_not_allowed");
        await expectDenied(without(binanceOrder(), "route"), "route_not_allowed");
      });

      it("missing_target: absent, null, {}", async () => {
        await expectDenied(without(binanceOrder(), "target"), "missing_target");
        await expectDenied(binanceOrder({ target: null }), "missing_target");
        await expectDenied(binanceOrder({ target: {} }), "missing_target");
      });

      it("missing_guard_context: absent, null, {}", async () => {
        await expectDenied(without(binanceOrder(), "guard_context"), "missing_guard_context");
        await expectDenied(binanceOrder({ guard_context: null }), "missing_guard_context");
        await expectDenied(binanceOrder({ guard_context: {} }), "missing_guard_context");
      });

      it("unknown_account (unknown id; an account without a key for this intent)", async () => {
        await expectDenied(binanceOrder({ account: "acct-nobody" }), "unknown_account");
        await expectDenied(binanceOrder({ account: "acct-poly" }), "unknown_account");
        await expectDenied(without(binanceOrder(), "account"), "unknown_account");
      });

      it("caller_not_allowed: an account (or intent) outside the caller's list", async () => {
        await expectDenied(binanceOrder({ account: "acct-other" }), "caller_not_allowed");
        // Checked after unknown_account: an account no one has is still unknown_account.
        await expectDenied(binanceOrder({ account: "acct-nobody" }), "unknown_account");
      });

      it("payload_mismatch:action: the route does one action, the target and payload must be it", async () => {
        await expectDenied(
          binanceOrder({ target: { ...(binanceOrder().target as object), action: "query_order" } }),
          "payload_mismatch:action",
        );
        // An order on the read route (its target says order: not the route's action).
        await expectDenied({ ...binanceOrder(), route: ROUTE_BINANCE_READ }, "payload_mismatch:action");
        // An L2 DELETE on the order route: not the route's method.
        await expectDenied(
          l2Request({
            payload: {
              kind: "hmac-clob-l2",
              timestamp: String(NOW_S),
              method: "DELETE",
              path: "/cancel-all",
              body: "",
            },
          }),
          "payload_mismatch:method",
        );
      });

      it("payload_mismatch:<field>", async () => {
        const mismatched = (o: Parameters<typeof orderQuery>[0]) =>
          binanceOrder({ payload: { kind: "hmac-query", query: orderQuery(o) } });
        await expectDenied(mismatched({ symbol: "ETHUSDT" }), "payload_mismatch:symbol");
        await expectDenied(mismatched({ side: "SELL" }), "payload_mismatch:side");
        await expectDenied(mismatched({ qty: "2" }), "payload_mismatch:qty");
        await expectDenied(mismatched({ price: "9001" }), "payload_mismatch:price");
        await expectDenied(binanceOrder({ payload: l2Request().payload }), "payload_mismatch:kind");
        await expectDenied(
          l2Request({
            target: {
              venue: "polymarket",
              action: "order",
              token_id: "42",
              side: "BUY",
              qty: "10",
              price: "0.5",
            },
          }),
          "payload_mismatch:token_id",
        );
        await expectDenied(
          l2Request({
            target: {
              venue: "polymarket",
              action: "order",
              token_id: L2_TOKEN_ID,
              side: "BUY",
              qty: "11",
              price: "0.5",
            },
          }),
          "payload_mismatch:qty",
        );
      });

      it("policy:max_notional and policy:symbols", async () => {
        await expectDenied(
          binanceOrderFor({ symbol: "BTCUSDT", qty: "2", price: "9000" }),
          "policy:max_notional",
        );
        await expectDenied(binanceOrderFor({ symbol: "SOLUSDT", qty: "1", price: "150" }), "policy:symbols");
        // Queries are not limited.
        await expectGranted({
          ...positionRisk("acct-binance"),
          target: { venue: "binance-usdm", action: "position_risk", symbol: "SOLUSDT" },
          payload: { kind: "hmac-query", query: `symbol=SOLUSDT&timestamp=${NOW_MS}` },
        });
      });

      it("policy:request_id: a request without a usable id is denied with the signer's limits", async () => {
        await expectDenied(without(binanceOrder(), "request_id"), "policy:request_id");
        await expectDenied(binanceOrder({ request_id: "" }), "policy:request_id");
        // Checked with the limits: earlier codes still win.
        await expectDenied(
          without(binanceOrder({ account: "acct-nobody" }), "request_id"),
          "unknown_account",
        );
      });

      it("policy:rate (per account and intent; other accounts unaffected)", async () => {
        const burst = Array.from({ length: 4 }, (_, i) =>
          binanceOrderFor({ symbol: "BTCUSDT", qty: "0.01", price: String(9000 + i) }),
        ).map((r): RawRequest => ({ ...r, account: "acct-rate" }));
        const before = (await auditLines(h.auditPath)).length;
        const got = await Promise.all(burst.map((r) => h.plane.sign(CALLER, r as unknown as SignRequest)));
        outcomes.push(...got);
        for (const r of burst) sent.push({ id: String(r.request_id), audited: true });
        expect((await auditLines(h.auditPath)).length - before).toBe(4);
        expect(got.filter((o) => o.granted)).toHaveLength(3);
        expect(got.filter((o) => !o.granted).map((o) => (o.granted ? "" : o.reason))).toEqual([
          "policy:rate",
        ]);
        // Another account's window is its own.
        await expectGranted(positionRisk("acct-binance"));
      });

      it("signer_unavailable: a corrupted vault entry / key object, and a key that is not there", async () => {
        await expectDenied(binanceOrder({ account: "acct-corrupt" }), "signer_unavailable");
        await expectDenied(binanceOrder({ account: "acct-missing" }), "signer_unavailable");
        // The plane keeps serving the keys it can read.
        await expectGranted(positionRisk("acct-binance"));
      });
    });

    if (traits.startsWithoutKeyStorage) {
      it("signer_unavailable, audited, for every request when the key storage cannot be opened", async () => {
        if (h.openWithStorageFailure === undefined)
          throw new Error(`the ${name} harness has no openWithStorageFailure`);
        const broken = await h.openWithStorageFailure();
        try {
          const reqs = [binanceOrder(), l2Request(), binanceOrder()];
          for (const req of reqs) {
            const out = await broken.plane.sign(CALLER, req as unknown as SignRequest);
            expect(out).toEqual({ granted: false, request_id: req.request_id, reason: "signer_unavailable" });
            expectNoSecret(JSON.stringify(out), secrets, "the outcome");
          }
          // Authorization still runs first: an earlier code wins over the storage failure.
          const early = binanceOrder({ route: "executor.elsewhere" });
          expect(await broken.plane.sign(CALLER, early as unknown as SignRequest)).toMatchObject({
            reason: "route_not_allowed",
          });
        } finally {
          await broken.plane.close();
        }
        const lines = await auditLines(broken.auditPath);
        expect(lines.map((l) => l.reason)).toEqual([
          "signer_unavailable",
          "signer_unavailable",
          "signer_unavailable",
          "route_not_allowed",
        ]);
        expect(await verifyAuditFile(broken.auditPath, broken.auditKey)).toEqual({ ok: true, lines: 4 });
      });
    }

    describe("multi-violation requests resolve to the earliest code", () => {
      const everythingWrong = (): RawRequest => ({
        request_id: nextId("multi"),
        account: "acct-nobody",
        intent: "teleport",
        route: "executor.elsewhere",
        target: null,
        guard_context: {},
        payload: { kind: "hmac-query", query: orderQuery({ symbol: "SOLUSDT", qty: "1000" }) },
      });
      it.each([
        ["unknown_caller before everything", { caller: "intruder" }, {}, "unknown_caller"],
        ["unknown_intent before the rest", {}, {}, "unknown_intent"],
        [
          "intent_not_enabled before route and target",
          {},
          { intent: "shared_clob_signer" },
          "intent_not_enabled",
        ],
        ["route_not_allowed before target", {}, { intent: "cex_api_signer" }, "route_not_allowed"],
        [
          "missing_target before guard_context and account",
          {},
          { intent: "cex_api_signer", route: ROUTE_BINANCE },
          "missing_target",
        ],
        [
          "missing_guard_context before account and payload",
          {},
          { intent: "cex_api_signer", route: ROUTE_BINANCE, target: binanceOrder().target },
          "missing_guard_context",
        ],
        [
          "unknown_account before payload and policy",
          {},
          {
            intent: "cex_api_signer",
            route: ROUTE_BINANCE,
            target: binanceOrder().target,
            guard_context: GUARD,
          },
          "unknown_account",
        ],
        [
          "caller_not_allowed before payload and policy",
          {},
          {
            intent: "cex_api_signer",
            route: ROUTE_BINANCE,
            target: binanceOrder().target,
            guard_context: GUARD,
            account: "acct-other",
          },
          "caller_not_allowed",
        ],
        [
          "payload_mismatch before policy and the key",
          {},
          {
            intent: "cex_api_signer",
            route: ROUTE_BINANCE,
            target: binanceOrder().target,
            guard_context: GUARD,
            account: "acct-corrupt",
          },
          "payload_mismatch:symbol",
        ],
        [
          "policy:max_notional before policy:symbols and the key",
          {},
          { ...binanceOrderFor({ symbol: "SOLUSDT", qty: "1000", price: "150" }), account: "acct-corrupt" },
          "policy:max_notional",
        ],
        [
          "policy:symbols before signer_unavailable",
          {},
          { ...binanceOrderFor({ symbol: "SOLUSDT", qty: "1", price: "150" }), account: "acct-missing" },
          "policy:symbols",
        ],
      ] as const)("%s", async (_label, opts, over, reason) => {
        const req: RawRequest = { ...everythingWrong(), ...over, request_id: nextId("multi") };
        await expectDenied(req, reason, "caller" in opts ? opts.caller : CALLER);
      });
    });

    describe("audit and key material", () => {
      it("has exactly one audit line per audited request, in order, and a chain verifyAudit accepts", async () => {
        const lines = await auditLines(h.auditPath);
        const audited = sent.filter((s) => s.audited).map((s) => s.id);
        // The burst of the rate test runs concurrently: compare it as a set, the rest in order.
        expect(lines.map((l) => l.request_id).sort()).toEqual([...audited].sort());
        expect(lines).toHaveLength(audited.length);
        expect(await verifyAuditFile(h.auditPath, h.auditKey)).toEqual({ ok: true, lines: audited.length });
        for (const line of lines) {
          for (const k of Object.keys(line.target)) expect(TARGET_FIELDS as readonly string[]).toContain(k);
          expect(line.reason === "ok").toBe(line.decision === "granted");
        }
        // Values, not just keys: a signature can be tied to its plan, symbol and quantity.
        const vector = lines.find(
          (l) => l.decision === "granted" && l.target.symbol === "BTCUSDT" && l.target.qty === "1",
        );
        expect(vector).toMatchObject({
          action: "order",
          target: {
            venue: "binance-usdm",
            action: "order",
            symbol: "BTCUSDT",
            side: "BUY",
            qty: "1",
            price: "9000",
          },
          guard_context: { plan_id: "plan-1", decision: "EXECUTE", trading_state: "ACTIVE", source: "src_a" },
          key: "trade",
          notional: "9000",
          reference_price: "9000",
        });
      });

      it("never holds key material in an outcome, the audit log, the plane or the signer's logs", async () => {
        expect(outcomes.length).toBeGreaterThan(40);
        for (const o of outcomes) {
          expect(Object.keys(o).sort()).toEqual(
            o.granted
              ? [
                  "granted",
                  "plane_version",
                  "request_id",
                  "signature",
                  ...(o.signer_address ? ["signer_address"] : []),
                ].sort()
              : ["granted", "reason", "request_id"],
          );
        }
        expectNoSecret(JSON.stringify(outcomes), secrets, "an outcome");
        expectNoSecret(await readFile(h.auditPath, "utf8"), secrets, "the audit log");
        // The audit never holds a payload that could be replayed, nor a signature.
        const audit = await readFile(h.auditPath, "utf8");
        expect(audit).not.toContain("timestamp=");
        expect(audit).not.toContain(BINANCE_VECTOR.signature);
        expectNoSecret(JSON.stringify(h.plane), secrets, "the serialised plane");
        expectNoSecret(inspect(h.plane, { depth: 8, showHidden: true }), secrets, "the inspected plane");
        if (h.logs !== undefined) expectNoSecret(h.logs(), secrets, "the signer's logs");
      });
    });
  });
}
