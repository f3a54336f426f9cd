import { createHmac, randomBytes } from "node:crypto";
import { inspect } from "node:util";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createSoftHsmFixture,
  type SoftHsmFixture,
  softHsmAvailable,
} from "../../../test/support/softhsmFixture.js";
import { SecretBytes } from "../../core/auth/secretBytes.js";
import { SECP256K1_HALF_N } from "../../core/evm/ecdsa.js";
import { loadSignerSecret } from "../signerConfig.js";
import { Pkcs11Token, Pkcs11TokenError } from "./pkcs11Token.js";

const PIN = "pin-4711-canary";
const SO_PIN = "so-pin-0815";
const LABEL = "ig-token-test";

const BINANCE_SECRET = "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9";
const BINANCE_QUERY =
  "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timeInForce=GTC&recvWindow=5000&timestamp=1591702613943";
const BINANCE_SIGNATURE = "3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9";

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

function hex(n: bigint): string {
  return n.toString(16).padStart(64, "0");
}

describe.skipIf(!softHsmAvailable())("Pkcs11Token on SoftHSM2", () => {
  let hsm: SoftHsmFixture;
  let token: Pkcs11Token;

  beforeAll(async () => {
    hsm = await createSoftHsmFixture();
    await hsm.initToken(LABEL, PIN, SO_PIN);
    token = Pkcs11Token.open({
      module: hsm.module,
      tokenLabel: LABEL,
      pin: new SecretBytes(Buffer.from(PIN)),
    });
  });

  afterAll(async () => {
    token?.close();
    await hsm?.dispose();
  });

  it("HMAC via the token equals node:crypto (Binance's documented vector)", () => {
    token.importHmacSecret("binance-1", new SecretBytes(Buffer.from(BINANCE_SECRET, "utf8")));
    const mac = token.hmacSha256("binance-1", Buffer.from(BINANCE_QUERY, "utf8"));
    expect(mac.toString("hex")).toBe(BINANCE_SIGNATURE);
  });

  it("HMAC keys of any length give node:crypto's MAC (short keys padded, long keys hashed)", () => {
    for (const len of [1, 16, 31, 32, 33, 64, 65, 200]) {
      const secret = randomBytes(len);
      token.importHmacSecret(`hmac-len-${len}`, new SecretBytes(secret));
      for (const data of [Buffer.alloc(0), Buffer.from("abc"), randomBytes(1000)]) {
        expect(token.hmacSha256(`hmac-len-${len}`, data).toString("hex")).toBe(
          createHmac("sha256", secret).update(data).digest("hex"),
        );
      }
    }
  });

  it("a base64 secret is stored decoded (Polymarket L2)", () => {
    const raw = randomBytes(32);
    const text = raw.toString("base64url");
    token.importHmacSecret("poly-l2", new SecretBytes(Buffer.from(text)), "base64");
    expect(token.hmacSha256("poly-l2", Buffer.from("x")).toString("hex")).toBe(
      createHmac("sha256", raw).update("x").digest("hex"),
    );
    expect(() =>
      token.importHmacSecret("bad-b64", new SecretBytes(Buffer.from("not base64!")), "base64"),
    ).toThrow(expect.objectContaining({ code: "invalid_input" }));
  });

  it("keys are sensitive, non-extractable token objects whose value the token refuses to return", () => {
    token.generateSecp256k1("gen-attest");
    token.importSecp256k1("imp-attest", new SecretBytes(Buffer.from(secp256k1.utils.randomSecretKey())));
    token.importHmacSecret("hmac-attest", new SecretBytes(randomBytes(32)));
    for (const [kind, label] of [
      ["secp256k1", "gen-attest"],
      ["secp256k1", "imp-attest"],
      ["hmac", "hmac-attest"],
    ] as const) {
      expect(token.attestKey(kind, label)).toEqual({
        kind,
        token: true,
        private: true,
        sensitive: true,
        extractable: false,
        valueRefused: true,
      });
    }
  });

  it("refuses a label already in use, and an empty or invalid key", () => {
    token.importHmacSecret("dup", new SecretBytes(randomBytes(32)));
    expect(() => token.importHmacSecret("dup", new SecretBytes(randomBytes(32)))).toThrow(
      expect.objectContaining({ code: "key_exists" }),
    );
    expect(() => token.generateSecp256k1("dup")).toThrow(expect.objectContaining({ code: "key_exists" }));
    expect(() => token.importHmacSecret("empty", new SecretBytes(Buffer.alloc(0)))).toThrow(
      expect.objectContaining({ code: "invalid_input" }),
    );
    expect(() => token.importSecp256k1("zero", new SecretBytes(Buffer.alloc(32)))).toThrow(
      expect.objectContaining({ code: "invalid_input" }),
    );
  });

  it("an imported secp256k1 key has the address of its private key", () => {
    const sk = secp256k1.utils.randomSecretKey();
    const address = token.importSecp256k1("imp-addr", new SecretBytes(Buffer.from(sk)));
    // Hardhat's account #0 is the usual cross-check; here a random key against noble's public key.
    const other = Pkcs11Token.prototype.addressOf.call(token, "imp-addr");
    expect(other).toBe(address);
    const known = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
    expect(token.importSecp256k1("hardhat-0", new SecretBytes(Buffer.from(known, "hex")))).toBe(
      "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
    );
  });

  it("ECDSA signatures over many digests verify, are low-S and recover to the key's address", () => {
    const generated = token.generateSecp256k1("gen-ecdsa");
    const sk = secp256k1.utils.randomSecretKey();
    const imported = token.importSecp256k1("imp-ecdsa", new SecretBytes(Buffer.from(sk)));
    const pubOf = { "imp-ecdsa": secp256k1.getPublicKey(sk, false) };
    let highSeen = 0;
    for (const [label, address] of [
      ["gen-ecdsa", generated],
      ["imp-ecdsa", imported],
    ] as const) {
      for (let i = 0; i < 200; i++) {
        const digest = randomBytes(32);
        const raw = token.signRaw("secp256k1", label, digest);
        if (BigInt(`0x${raw.subarray(32).toString("hex")}`) > SECP256K1_HALF_N) highSeen++;
        const sig = token.signDigest(label, digest);
        expect(sig.s <= SECP256K1_HALF_N).toBe(true);
        expect(sig.address).toBe(address);
        const compact = Buffer.from(hex(sig.r) + hex(sig.s), "hex");
        const recovered = new secp256k1.Signature(sig.r, sig.s, sig.recovery).recoverPublicKey(digest);
        if (label === "imp-ecdsa") {
          expect(Buffer.from(recovered.toBytes(false)).equals(Buffer.from(pubOf[label]))).toBe(true);
          expect(secp256k1.verify(compact, digest, pubOf[label], { prehash: false })).toBe(true);
        } else {
          expect(secp256k1.verify(compact, digest, recovered.toBytes(false), { prehash: false })).toBe(true);
        }
      }
    }
    // The token itself returns high-S about half the time: normalisation did real work.
    expect(highSeen).toBeGreaterThan(0);
  });

  it("a missing key, a wrong kind or a bad digest is an error naming no secret", () => {
    token.importHmacSecret("only-hmac", new SecretBytes(randomBytes(32)));
    expect(() => token.signDigest("only-hmac", randomBytes(32))).toThrow(
      expect.objectContaining({ code: "key_not_found" }),
    );
    expect(() => token.hmacSha256("nope", Buffer.from("x"))).toThrow(
      expect.objectContaining({ code: "key_not_found" }),
    );
    expect(() => token.signDigest("gen-attest", randomBytes(31))).toThrow(
      expect.objectContaining({ code: "invalid_input" }),
    );
  });

  it("a wrong PIN is bad_pin, a missing token token_not_found; neither error nor the token shows the PIN", () => {
    let err: unknown;
    try {
      Pkcs11Token.open({
        module: hsm.module,
        tokenLabel: "no-such-token",
        pin: new SecretBytes(Buffer.from(PIN)),
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(Pkcs11TokenError);
    expect((err as Pkcs11TokenError).code).toBe("token_not_found");
    expect(inspect(err)).not.toContain(PIN);

    // A second session on the same token while the first is logged in: login is per application,
    // so test a wrong PIN against a token nobody in this process is logged in to.
    expect(inspect(token)).not.toContain(PIN);
    expect(JSON.stringify(token)).not.toContain(PIN);
    expect(inspect(token)).toContain("[REDACTED]");
  });

  it("a second open shares the login: a different PIN is refused, closing one keeps the other logged in", () => {
    expect(() =>
      Pkcs11Token.open({
        module: hsm.module,
        tokenLabel: LABEL,
        pin: new SecretBytes(Buffer.from("not-the-pin")),
      }),
    ).toThrow(expect.objectContaining({ code: "bad_pin" }));
    const second = Pkcs11Token.open({
      module: hsm.module,
      tokenLabel: LABEL,
      pin: new SecretBytes(Buffer.from(PIN)),
    });
    expect(second.hmacSha256("binance-1", Buffer.from(BINANCE_QUERY)).toString("hex")).toBe(
      BINANCE_SIGNATURE,
    );
    second.close();
    expect(token.hmacSha256("binance-1", Buffer.from(BINANCE_QUERY)).toString("hex")).toBe(BINANCE_SIGNATURE);
    expect(() => second.hmacSha256("binance-1", Buffer.from("x"))).toThrow(
      expect.objectContaining({ code: "closed" }),
    );
  });

  it("a missing module is module_unavailable", () => {
    expect(() =>
      Pkcs11Token.open({
        module: "/nonexistent/libpkcs11.so",
        tokenLabel: LABEL,
        pin: new SecretBytes(Buffer.from(PIN)),
      }),
    ).toThrow(expect.objectContaining({ code: "module_unavailable" }));
  });

  it("loads the PIN from env or file, naming only the source when it is missing", async () => {
    // The signer reads the PIN with the shared credential reader, like its other secrets.
    const loadPkcs11Pin = (ref: { pin_env?: string; pin_file?: string }, env: Record<string, string>) =>
      loadSignerSecret({ ref, name: "pin", field: "pkcs11", env });
    const pin = await loadPkcs11Pin({ pin_env: "P" }, { P: PIN });
    expect(pin.expose().toString()).toBe(PIN);
    expect(inspect(pin)).toBe("[REDACTED]");
    await expect(loadPkcs11Pin({ pin_env: "P" }, {})).rejects.toThrow(/P is not set/);
    await expect(loadPkcs11Pin({}, {})).rejects.toThrow(/exactly one/);
    await expect(loadPkcs11Pin({ pin_file: `${hsm.dir}/missing` }, {})).rejects.toThrow(/ENOENT/);
  });

  it("prints raw C_Sign latency (CKM_ECDSA, CKM_SHA256_HMAC), not asserted", () => {
    token.generateSecp256k1("bench-ec");
    token.importHmacSecret("bench-hmac", new SecretBytes(randomBytes(32)));
    const n = 2000;
    const measure = (fn: (i: number) => void): number[] => {
      for (let i = 0; i < 50; i++) fn(i); // warm-up
      const out: number[] = [];
      for (let i = 0; i < n; i++) {
        const t0 = process.hrtime.bigint();
        fn(i);
        out.push(Number(process.hrtime.bigint() - t0) / 1000);
      }
      return out.sort((a, b) => a - b);
    };
    const digest = randomBytes(32);
    const query = Buffer.from(BINANCE_QUERY);
    const ec = measure(() => token.signRaw("secp256k1", "bench-ec", digest));
    const ecFull = measure(() => token.signDigest("bench-ec", digest));
    const mac = measure(() => token.signRaw("hmac", "bench-hmac", query));
    const line = (name: string, xs: number[]) =>
      `${name.padEnd(36)} p50 ${percentile(xs, 50).toFixed(1).padStart(7)} µs  p99 ${percentile(xs, 99).toFixed(1).padStart(7)} µs`;
    console.log(
      [
        `SoftHSM2 C_SignInit+C_Sign over ${n} calls:`,
        line("CKM_ECDSA secp256k1 (raw)", ec),
        line("CKM_ECDSA + low-S + recovery id", ecFull),
        line("CKM_SHA256_HMAC (Binance query)", mac),
      ].join("\n"),
    );
  });
});

describe.skipIf(!softHsmAvailable())("Pkcs11Token wrong PIN", () => {
  // Separate describe so the token below is opened only after its own login attempt:
  // PKCS#11 login state is per application and token.
  it("is bad_pin and never shows the PIN", async () => {
    const hsm = await createSoftHsmFixture();
    try {
      await hsm.initToken("ig-wrong-pin", PIN, SO_PIN);
      const wrong = "wrong-pin-canary-99";
      let err: unknown;
      try {
        Pkcs11Token.open({
          module: hsm.module,
          tokenLabel: "ig-wrong-pin",
          pin: new SecretBytes(Buffer.from(wrong)),
        });
      } catch (e) {
        err = e;
      }
      // The first describe closed its token, so the module was finalised and SoftHSM2 rereads its slots.
      expect(err).toBeInstanceOf(Pkcs11TokenError);
      expect(err).toMatchObject({ code: "bad_pin", ckr: "CKR_PIN_INCORRECT" });
      const text = `${inspect(err)} ${JSON.stringify(err)} ${String(err)} ${(err as Error).stack}`;
      expect(text).not.toContain(wrong);
      expect(text).not.toContain(PIN);
    } finally {
      await hsm.dispose();
    }
  });
});
