import { createHash, createHmac, randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createSoftHsmFixture,
  type SoftHsmFixture,
  softHsmAvailable,
} from "../../../test/support/softhsmFixture.js";
import { SecretBytes } from "../../core/auth/secretBytes.js";
import { SECP256K1_HALF_N, toRsvHex } from "../../core/evm/ecdsa.js";
import {
  type PayloadKind,
  PLANE_PROTOCOL_VERSION,
  type SignOutcome,
  type SignPayload,
  type SignRequest,
} from "../../ports/signingPlane.js";
import { type AuditSink, openAuditLog } from "../audit/auditLog.js";
import type { AuditEntry, AuditRecord } from "../audit/auditRecord.js";
import { verifyAuditFile } from "../audit/verifyAudit.js";
import { type KeyStore, KeyStoreError, type RevealedKey } from "../keyStore.js";
import { createLocalPlane } from "../localPlane.js";
import type { PayloadKindHandler } from "../payloadKind.js";
import { binanceQueryHandler } from "../payloads/binanceQuery.js";
import { signDigest } from "../payloads/eip712/ethKey.js";
import { polymarketL2Handler } from "../payloads/polymarketL2.js";
import { parseSignerConfig } from "../signerConfig.js";
import { createPkcs11Plane, type Pkcs11Plane, Pkcs11PlaneError } from "./pkcs11Plane.js";
import { Pkcs11Token } from "./pkcs11Token.js";

const PIN = "plane-pin-canary-3141";
const WRONG_PIN = "wrong-pin-canary-2718";
const SO_PIN = "so-9999";
const TOKEN_LABEL = "ig-plane";
const LOCKED_TOKEN_LABEL = "ig-plane-wrong-pin";

const BINANCE_SECRET = "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9";
const BINANCE_QUERY =
  "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timeInForce=GTC&recvWindow=5000&timestamp=1591702613943";
const BINANCE_SIGNATURE = "3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9";
/** The planes' clock: just after the documented vector's own timestamp (the signer checks payload times). */
const CLOCK = 1_591_702_614_000;
/** A Polymarket L2 secret as the venue hands it out: base64 (urlsafe) of 32 bytes. */
const POLY_SECRET = randomBytes(32).toString("base64url");
const EVM_KEY = secp256k1.utils.randomSecretKey();
const AUDIT_KEY = randomBytes(32);

/**
 * A stand-in `eip712-order` handler (the real one is being written): binds
 * anything, exposes `digest(payload)`, and signs locally for the parity check.
 */
const testEip712Handler = {
  kind: "eip712-order" as const,
  bind: () => ({
    ok: true as const,
    effect: { venue: "polymarket", action: "order", replayableRead: false },
  }),
  digest(payload: Extract<SignPayload, { kind: "eip712-order" }>): Uint8Array {
    return createHash("sha256")
      .update(JSON.stringify([payload.domain, payload.order]))
      .digest();
  },
  async sign(payload: Extract<SignPayload, { kind: "eip712-order" }>, key: RevealedKey) {
    if (key.kind !== "secp256k1") throw new KeyStoreError("wrong_kind", "needs a secp256k1 key");
    return {
      signature: toRsvHex(signDigest(testEip712Handler.digest(payload), key.privateKey.expose())),
      signer_address: key.address,
    };
  },
};

const HANDLERS = new Map<PayloadKind, PayloadKindHandler>([
  ["hmac-query", binanceQueryHandler as unknown as PayloadKindHandler],
  ["hmac-clob-l2", polymarketL2Handler as unknown as PayloadKindHandler],
  ["eip712-order", testEip712Handler as unknown as PayloadKindHandler],
]);

const CONFIG_RAW = {
  live: true,
  vault: { path: "unused.json", passphrase_env: "UNUSED" },
  audit: { path: "audit.jsonl", key_env: "AUDIT_KEY" },
  callers: {
    "executor-1": {
      token_env: "EXEC_TOKEN",
      accounts: ["acct1", "nokey", "wrongkind"],
      intents: ["cex_api_signer", "clob_api_signer", "per_user_clob_signer"],
    },
  },
  intents: {
    cex_api_signer: { routes: { "executor.binance-usdm.order": "order" } },
    clob_api_signer: { routes: { "executor.polymarket.l2": "open_orders" } },
    per_user_clob_signer: { routes: { "executor.polymarket.order": "order" } },
  },
  reference_prices: { prices: { "binance-usdm": { BTCUSDT: "9000" } } },
  accounts: {
    acct1: {
      cex_api_signer: "binance-acct1",
      clob_api_signer: "poly-acct1",
      per_user_clob_signer: "evm-acct1",
    },
    nokey: { cex_api_signer: "binance-absent" },
    wrongkind: { cex_api_signer: "evm-acct1" },
  },
  policy: { cex_api_signer: { max_notional: "100000", symbols: ["BTCUSDT"], rate_per_account_per_s: 50 } },
};

const binanceReq = (over: Record<string, unknown> = {}): SignRequest =>
  ({
    request_id: "r-binance",
    account: "acct1",
    intent: "cex_api_signer",
    route: "executor.binance-usdm.order",
    target: {
      venue: "binance-usdm",
      action: "order",
      symbol: "BTCUSDT",
      side: "BUY",
      qty: "1",
      price: "9000",
    },
    guard_context: { plan_id: "p-1", decision: "allow" },
    payload: { kind: "hmac-query", query: BINANCE_QUERY },
    ...over,
  }) as SignRequest;

const polyReq = (over: Record<string, unknown> = {}): SignRequest =>
  ({
    request_id: "r-poly",
    account: "acct1",
    intent: "clob_api_signer",
    route: "executor.polymarket.l2",
    target: { venue: "polymarket", action: "open_orders", method: "GET", path: "/data/orders" },
    guard_context: { plan_id: "p-2", decision: "allow" },
    payload: {
      kind: "hmac-clob-l2",
      timestamp: String(CLOCK / 1000),
      method: "GET",
      path: "/data/orders",
      body: "",
    },
    ...over,
  }) as SignRequest;

const orderReq = (salt: number): SignRequest =>
  ({
    request_id: `r-order-${salt}`,
    account: "acct1",
    intent: "per_user_clob_signer",
    route: "executor.polymarket.order",
    target: { venue: "polymarket", action: "order", token_id: "1" },
    guard_context: { plan_id: "p-3", decision: "allow" },
    payload: { kind: "eip712-order", domain: { chainId: "137" }, order: { salt: String(salt) } },
  }) as SignRequest;

class MemoryAudit implements AuditSink {
  readonly lines: AuditEntry[] = [];
  closed = false;
  async append(entry: AuditEntry): Promise<AuditRecord> {
    this.lines.push(entry);
    return { ...entry, v: 2, seq: this.lines.length, prev_mac: "0".repeat(64), mac: "0".repeat(64) };
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

/** The same secrets in clear, for the local plane the token plane must agree with. */
class MemoryKeyStore implements KeyStore {
  async reveal(entryId: string): Promise<RevealedKey> {
    if (entryId === "binance-acct1")
      return { kind: "hmac", secret: new SecretBytes(Buffer.from(BINANCE_SECRET)) };
    if (entryId === "poly-acct1") return { kind: "hmac", secret: new SecretBytes(Buffer.from(POLY_SECRET)) };
    if (entryId === "evm-acct1") {
      return { kind: "secp256k1", privateKey: new SecretBytes(Buffer.from(EVM_KEY)), address: evmAddress };
    }
    throw new KeyStoreError("not_found", `no entry ${entryId}`);
  }
}

let evmAddress = "";
const reason = (o: SignOutcome): string => (o.granted ? "granted" : o.reason);

describe.skipIf(!softHsmAvailable())("pkcs11 plane on SoftHSM2", () => {
  let hsm: SoftHsmFixture;
  let audit: MemoryAudit;
  let plane: Pkcs11Plane;
  const config = parseSignerConfig(CONFIG_RAW);

  beforeAll(async () => {
    hsm = await createSoftHsmFixture();
    // Every token first: SoftHSM2 does not see tokens initialised after C_Initialize.
    await hsm.initToken(TOKEN_LABEL, PIN, SO_PIN);
    await hsm.initToken(LOCKED_TOKEN_LABEL, PIN, SO_PIN);
    // Provisioning, as an operator would: import the keys, then close.
    const admin = Pkcs11Token.open({
      module: hsm.module,
      tokenLabel: TOKEN_LABEL,
      pin: new SecretBytes(Buffer.from(PIN)),
    });
    admin.importHmacSecret("binance-acct1", new SecretBytes(Buffer.from(BINANCE_SECRET)));
    admin.importHmacSecret("poly-acct1", new SecretBytes(Buffer.from(POLY_SECRET)), "base64");
    evmAddress = admin.importSecp256k1("evm-acct1", new SecretBytes(Buffer.from(EVM_KEY)));
    admin.generateSecp256k1("evm-generated");
    admin.close();
    audit = new MemoryAudit();
    plane = createPkcs11Plane({
      clock: () => CLOCK,
      config,
      handlers: HANDLERS,
      audit,
      token: { module: hsm.module, tokenLabel: TOKEN_LABEL, pin: new SecretBytes(Buffer.from(PIN)) },
    });
  });

  afterAll(async () => {
    await plane?.close();
    await hsm?.dispose();
  });

  it("signs Binance's documented vector inside the token (live: true is allowed)", async () => {
    const out = await plane.sign("executor-1", binanceReq());
    expect(out).toEqual({
      granted: true,
      request_id: "r-binance",
      signature: BINANCE_SIGNATURE,
      plane_version: PLANE_PROTOCOL_VERSION,
    });
    expect(audit.lines.at(-1)).toMatchObject({ decision: "granted", reason: "ok", intent: "cex_api_signer" });
  });

  it("signs Polymarket L2 with the decoded secret, as clob-client does", async () => {
    const out = await plane.sign("executor-1", polyReq());
    const expected = createHmac("sha256", Buffer.from(POLY_SECRET, "base64url"))
      .update(`${CLOCK / 1000}GET/data/orders`)
      .digest("base64")
      .replaceAll("+", "-")
      .replaceAll("/", "_");
    expect(out).toMatchObject({ granted: true, signature: expected });
  });

  it("signs EIP-712 digests with CKM_ECDSA: low-S, v 27/28, recovering to the key's address", async () => {
    for (let salt = 0; salt < 50; salt++) {
      const req = orderReq(salt);
      const out = await plane.sign("executor-1", req);
      if (!out.granted) throw new Error(`denied ${out.reason}`);
      expect(out.signer_address).toBe(evmAddress);
      const sig = Buffer.from(out.signature.slice(2), "hex");
      expect(sig).toHaveLength(65);
      const r = BigInt(`0x${sig.subarray(0, 32).toString("hex")}`);
      const s = BigInt(`0x${sig.subarray(32, 64).toString("hex")}`);
      const v = sig[64] as number;
      expect(v === 27 || v === 28).toBe(true);
      expect(s <= SECP256K1_HALF_N).toBe(true);
      const digest = testEip712Handler.digest(req.payload as Extract<SignPayload, { kind: "eip712-order" }>);
      const pub = new secp256k1.Signature(r, s, v - 27).recoverPublicKey(digest).toBytes(false);
      expect(Buffer.from(pub).equals(Buffer.from(secp256k1.getPublicKey(EVM_KEY, false)))).toBe(true);
    }
  });

  it("agrees with the local plane on every kind (same secrets, same requests)", async () => {
    const local = createLocalPlane({
      clock: () => CLOCK,
      config: parseSignerConfig({ ...CONFIG_RAW, live: false }),
      keyStore: new MemoryKeyStore(),
      handlers: HANDLERS,
      audit: new MemoryAudit(),
    });
    const requests = [
      binanceReq(),
      polyReq(),
      polyReq({
        payload: {
          kind: "hmac-clob-l2",
          timestamp: String(CLOCK / 1000 + 1),
          method: "GET",
          path: "/data/orders",
          body: "",
        },
      }),
      ...[1, 2, 3].map(orderReq),
    ];
    for (const req of requests) {
      const [a, b] = [await plane.sign("executor-1", req), await local.sign("executor-1", req)];
      expect(a.granted && b.granted).toBe(true);
      if (req.intent === "per_user_clob_signer") {
        // ECDSA nonces differ (the token's are random, the local plane's RFC 6979); both recover to one address.
        expect(a.granted && a.signer_address).toBe(b.granted && b.signer_address);
      } else {
        expect(a).toEqual(b);
      }
    }
    await local.close();
  });

  it("denies with the local plane's codes, in its order, before touching the token", async () => {
    const cases: [SignRequest, string, string][] = [
      [binanceReq(), "stranger", "unknown_caller"],
      [binanceReq({ intent: "onchain_transfer" }), "executor-1", "intent_not_enabled"],
      [binanceReq({ route: "executor.other" }), "executor-1", "route_not_allowed"],
      [binanceReq({ target: {} }), "executor-1", "missing_target"],
      [binanceReq({ guard_context: null }), "executor-1", "missing_guard_context"],
      [binanceReq({ account: "ghost" }), "executor-1", "unknown_account"],
      [
        binanceReq({
          target: {
            venue: "binance-usdm",
            action: "order",
            symbol: "ETHUSDT",
            side: "BUY",
            qty: "1",
            price: "9000",
          },
        }),
        "executor-1",
        "payload_mismatch:symbol",
      ],
      [
        binanceReq({
          target: {
            venue: "binance-usdm",
            action: "order",
            symbol: "BTCUSDT",
            side: "BUY",
            qty: "100",
            price: "9000",
          },
          payload: { kind: "hmac-query", query: BINANCE_QUERY.replace("quantity=1", "quantity=100") },
        }),
        "executor-1",
        "policy:max_notional",
      ],
    ];
    for (const [req, caller, expected] of cases) {
      const before = audit.lines.length;
      expect(reason(await plane.sign(caller, req))).toBe(expected);
      expect(audit.lines).toHaveLength(before + 1);
      expect(audit.lines.at(-1)).toMatchObject({ decision: "denied", reason: expected });
    }
  });

  it("a key missing from the token, or of the wrong kind, is signer_unavailable", async () => {
    expect(reason(await plane.sign("executor-1", binanceReq({ account: "nokey" })))).toBe(
      "signer_unavailable",
    );
    expect(reason(await plane.sign("executor-1", binanceReq({ account: "wrongkind" })))).toBe(
      "signer_unavailable",
    );
    // The session survives: the next request signs.
    expect(reason(await plane.sign("executor-1", binanceReq()))).toBe("granted");
  });

  it("a wrong PIN is signer_unavailable, never retried, and the PIN shows nowhere", async () => {
    const wrongAudit = new MemoryAudit();
    let now = CLOCK;
    const wrong = createPkcs11Plane({
      config,
      handlers: HANDLERS,
      audit: wrongAudit,
      token: {
        module: hsm.module,
        tokenLabel: LOCKED_TOKEN_LABEL,
        pin: new SecretBytes(Buffer.from(WRONG_PIN)),
      },
      clock: () => now,
    });
    const first = await wrong.sign("executor-1", binanceReq());
    now += 60_000;
    const later = BINANCE_QUERY.replace(/timestamp=\d+/, `timestamp=${now}`);
    const second = await wrong.sign(
      "executor-1",
      binanceReq({ payload: { kind: "hmac-query", query: later } }),
    );
    expect([reason(first), reason(second)]).toEqual(["signer_unavailable", "signer_unavailable"]);
    const err = await wrong.connect().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "bad_pin", ckr: "CKR_PIN_INCORRECT" });
    const shown = [
      inspect(wrong),
      JSON.stringify(wrong),
      inspect(err),
      String((err as Error).stack),
      JSON.stringify(err),
      JSON.stringify(wrongAudit.lines),
      JSON.stringify([first, second]),
      inspect(plane),
      JSON.stringify(plane),
    ].join("\n");
    for (const secret of [WRONG_PIN, PIN, BINANCE_SECRET, POLY_SECRET]) expect(shown).not.toContain(secret);
    await wrong.close();
    expect(wrongAudit.closed).toBe(true);
  });

  it("a missing token (or module) is signer_unavailable, and is retried after the back-off", async () => {
    const missingAudit = new MemoryAudit();
    const missing = createPkcs11Plane({
      clock: () => CLOCK,
      config,
      handlers: HANDLERS,
      audit: missingAudit,
      token: { module: hsm.module, tokenLabel: "no-such-token", pin: new SecretBytes(Buffer.from(PIN)) },
    });
    expect(reason(await missing.sign("executor-1", binanceReq()))).toBe("signer_unavailable");
    expect(await missing.connect().catch((e: unknown) => e)).toMatchObject({ code: "token_not_found" });
    await missing.close();

    const noModule = createPkcs11Plane({
      clock: () => CLOCK,
      config,
      handlers: HANDLERS,
      audit: new MemoryAudit(),
      token: {
        module: "/nonexistent/libpkcs11.so",
        tokenLabel: TOKEN_LABEL,
        pin: new SecretBytes(Buffer.from(PIN)),
      },
    });
    expect(reason(await noModule.sign("executor-1", binanceReq()))).toBe("signer_unavailable");
    await noModule.close();
    expect(missingAudit.lines.map((l) => l.reason)).toEqual(["signer_unavailable"]);
  });

  it("writes a verifiable audit chain with a real audit log", async () => {
    const dir = await mkdtemp(join(tmpdir(), "intentgate-pkcs11-audit-"));
    try {
      const path = join(dir, "audit.jsonl");
      const p = createPkcs11Plane({
        clock: () => CLOCK,
        config,
        handlers: HANDLERS,
        audit: await openAuditLog(path, { key: AUDIT_KEY }),
        token: { module: hsm.module, tokenLabel: TOKEN_LABEL, pin: new SecretBytes(Buffer.from(PIN)) },
      });
      await p.sign("executor-1", binanceReq());
      await p.sign("stranger", binanceReq());
      await p.sign("executor-1", orderReq(7));
      await p.close();
      expect(await verifyAuditFile(path, AUDIT_KEY)).toMatchObject({ ok: true });
      const text = await readFile(path, "utf8");
      expect(text.trim().split("\n")).toHaveLength(3);
      for (const secret of [PIN, BINANCE_SECRET, BINANCE_SIGNATURE, BINANCE_QUERY])
        expect(text).not.toContain(secret);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("refuses to start with a handler a token cannot sign with, and refuses use after close", async () => {
    const { digest: _digest, ...noDigest } = testEip712Handler;
    expect(() =>
      createPkcs11Plane({
        clock: () => CLOCK,
        config,
        handlers: new Map<PayloadKind, PayloadKindHandler>([
          ["eip712-order", noDigest as unknown as PayloadKindHandler],
        ]),
        audit: new MemoryAudit(),
        token: { module: hsm.module, tokenLabel: TOKEN_LABEL, pin: new SecretBytes(Buffer.from(PIN)) },
      }),
    ).toThrow(Pkcs11PlaneError);
    const p = createPkcs11Plane({
      clock: () => CLOCK,
      config,
      handlers: HANDLERS,
      audit: new MemoryAudit(),
      token: { module: hsm.module, tokenLabel: TOKEN_LABEL, pin: new SecretBytes(Buffer.from(PIN)) },
    });
    await p.close();
    await expect(p.sign("executor-1", binanceReq())).rejects.toMatchObject({ code: "closed" });
  });
});
