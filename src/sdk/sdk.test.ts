import { createHmac, createPublicKey, generateKeyPairSync, type KeyObject, verify } from "node:crypto";
import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { parseConfigText } from "../config/loadConfig.js";
import { generateKeyMaterial } from "./generateKeys.js";
import { issuePermit } from "./issuePermit.js";
import { signPlan } from "./signPlan.js";

type Pair = { publicKey: KeyObject; privateKey: KeyObject };
const B64URL = /^[A-Za-z0-9_-]+$/;
const PLAN =
  '{"v":1,"plan_id":"p-1","source":"bot","venue":"paper","symbol":"BTCUSDT","side":"BUY","qty":"0.5","created_at":1}';

function hmac(secret: string, bytes: Buffer): string {
  return createHmac("sha256", Buffer.from(secret, "utf8")).update(bytes).digest("base64url");
}
function edVerify(publicX: string, bytes: Buffer, sig: string): boolean {
  const pub = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: publicX }, format: "jwk" });
  return verify(null, bytes, pub, Buffer.from(sig, "base64url"));
}
function splitAuth(auth: string): [string, string, string] {
  const parts = auth.split(":");
  expect(parts).toHaveLength(3);
  return parts as [string, string, string];
}

describe("signPlan", () => {
  it("hmac-sha256 signs the exact UTF-8 bytes with the secret's UTF-8 bytes", () => {
    const text = ` ${PLAN.replace("BTCUSDT", "BTCUSDT€")}\n`; // whitespace and non-ASCII kept as is
    const secret = "c2VjcmV0"; // base64-looking: must NOT be decoded
    const out = signPlan({ plan: text, key: { keyId: "bot-k1", alg: "hmac-sha256", secret } });
    expect(out.plan).toBe(text);
    const [alg, keyId, sig] = splitAuth(out.auth);
    expect([alg, keyId]).toEqual(["hmac-sha256", "bot-k1"]);
    expect(sig).toMatch(B64URL);
    expect(sig).toHaveLength(43); // 32 bytes, unpadded
    expect(sig).toBe(hmac(secret, Buffer.from(text, "utf8")));
    expect(sig).not.toBe(hmac("secret", Buffer.from(text, "utf8")));
  });

  it("an object is serialised once and the returned text is what was signed", () => {
    const obj = JSON.parse(PLAN) as object;
    const out = signPlan({ plan: obj, key: { keyId: "k", alg: "hmac-sha256", secret: "s" } });
    expect(out.plan).toBe(JSON.stringify(obj));
    expect(splitAuth(out.auth)[2]).toBe(hmac("s", Buffer.from(out.plan, "utf8")));
  });

  it.each([
    ["KeyObject", (k: Pair) => k.privateKey],
    [
      "PKCS#8 base64url",
      (k: Pair) => k.privateKey.export({ format: "der", type: "pkcs8" }).toString("base64url"),
    ],
    ["32-byte seed base64url", (k: Pair) => k.privateKey.export({ format: "jwk" }).d as string],
  ])("ed25519 with a %s private key verifies with the public key", (_n, pick) => {
    const pair = generateKeyPairSync("ed25519");
    const x = pair.publicKey.export({ format: "jwk" }).x as string;
    const out = signPlan({ plan: PLAN, key: { keyId: "bridge-k1", alg: "ed25519", privateKey: pick(pair) } });
    const [alg, keyId, sig] = splitAuth(out.auth);
    expect([alg, keyId]).toEqual(["ed25519", "bridge-k1"]);
    expect(sig).toMatch(B64URL);
    expect(sig).toHaveLength(86); // 64 bytes, unpadded
    expect(edVerify(x, Buffer.from(PLAN, "utf8"), sig)).toBe(true);
    expect(edVerify(x, Buffer.from(`${PLAN} `, "utf8"), sig)).toBe(false);
  });

  it.each([
    ["a key id with a colon", { keyId: "a:b", alg: "hmac-sha256", secret: "s" }],
    ["an empty secret", { keyId: "k", alg: "hmac-sha256", secret: "" }],
    ["garbage ed25519 key", { keyId: "k", alg: "ed25519", privateKey: "bm90IGEga2V5" }],
    [
      "an RSA key",
      {
        keyId: "k",
        alg: "ed25519",
        privateKey: generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey,
      },
    ],
    [
      "an ed25519 public key",
      { keyId: "k", alg: "ed25519", privateKey: generateKeyPairSync("ed25519").publicKey },
    ],
  ] as const)("rejects %s without echoing key material", (_n, key) => {
    let msg = "";
    try {
      signPlan({ plan: PLAN, key: key as never });
    } catch (err) {
      msg = String((err as Error).message);
    }
    expect(msg).not.toBe("");
    expect(msg).not.toContain("bm90IGEga2V5");
  });

  it("refuses raw bytes (they would be JSON-serialised as an object)", () => {
    expect(() =>
      signPlan({ plan: Buffer.from(PLAN), key: { keyId: "k", alg: "hmac-sha256", secret: "s" } }),
    ).toThrow(TypeError);
  });
});

describe("issuePermit", () => {
  const payload = {
    permit_id: "pm-1",
    plan_id: "p-1",
    symbol: "BTCUSDT",
    side: "BUY" as const,
    max_qty: "0.5",
    reduce_only: false,
    exp: 1_900_000_000_000,
    iss: "governor-k1",
  };

  it("ed25519: payload is base64url JSON with v:1 and the signature covers the base64url text", () => {
    const pair = generateKeyPairSync("ed25519");
    const x = pair.publicKey.export({ format: "jwk" }).x as string;
    const token = issuePermit(payload, { keyId: "governor-k1", alg: "ed25519", privateKey: pair.privateKey });
    const [p, s, extra] = token.split(".");
    expect(extra).toBeUndefined();
    expect(p).toMatch(B64URL);
    expect(s).toMatch(B64URL);
    const json = Buffer.from(p ?? "", "base64url").toString("utf8");
    expect(Object.keys(JSON.parse(json) as object)).toEqual([
      "v",
      "permit_id",
      "plan_id",
      "symbol",
      "side",
      "max_qty",
      "reduce_only",
      "exp",
      "iss",
    ]);
    expect(JSON.parse(json)).toEqual({ v: 1, ...payload });
    expect(edVerify(x, Buffer.from(p ?? "", "ascii"), s ?? "")).toBe(true);
    // not over the decoded JSON
    expect(edVerify(x, Buffer.from(json, "utf8"), s ?? "")).toBe(false);
  });

  it("hmac-sha256: signature is HMAC over the payload's base64url text", () => {
    const token = issuePermit(
      { ...payload, iss: "gov-h" },
      { keyId: "gov-h", alg: "hmac-sha256", secret: "topsecret" },
    );
    const [p, s] = token.split(".") as [string, string];
    expect(s).toBe(hmac("topsecret", Buffer.from(p, "ascii")));
  });

  it("iss defaults to the key id and must match it", () => {
    const key = { keyId: "gov-h", alg: "hmac-sha256", secret: "x" } as const;
    const { iss: _omit, ...noIss } = payload;
    const token = issuePermit(noIss, key);
    expect(JSON.parse(Buffer.from(token.split(".")[0] ?? "", "base64url").toString()).iss).toBe("gov-h");
    expect(() => issuePermit(payload, key)).toThrow(/iss/);
  });

  it.each([
    ["max_qty", { max_qty: "1e3" }],
    ["side", { side: "LONG" }],
    ["exp", { exp: 1.5 }],
    ["reduce_only", { reduce_only: "true" }],
    ["plan_id", { plan_id: "" }],
  ])("rejects a bad %s", (_n, patch) => {
    expect(() =>
      issuePermit({ ...payload, ...patch } as never, {
        keyId: "governor-k1",
        alg: "hmac-sha256",
        secret: "x",
      }),
    ).toThrow(TypeError);
  });
});

describe("generateKeyMaterial", () => {
  it("ed25519: a working key pair, and a snippet the executor config accepts", async () => {
    const m = generateKeyMaterial("ed25519", "bridge-k1", "intent_bridge");
    if (m.alg !== "ed25519") throw new Error("expected ed25519");
    expect(m.publicKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(m.publicKey, "base64url")).toHaveLength(32);
    expect(m.config).toEqual({
      keys: { "bridge-k1": { alg: "ed25519", public_key: m.publicKey, source: "intent_bridge" } },
    });
    expect(JSON.stringify(m.config)).not.toContain(m.privateKey);

    const signed = signPlan({
      plan: PLAN,
      key: { keyId: "bridge-k1", alg: "ed25519", privateKey: m.privateKey },
    });
    expect(edVerify(m.publicKey, Buffer.from(PLAN), splitAuth(signed.auth)[2])).toBe(true);

    const { policy } = await parseConfigText(JSON.stringify(m.config), "json", {});
    const k = policy.keys.get("bridge-k1");
    if (k?.alg !== "ed25519") throw new Error("expected ed25519");
    expect(
      verify(null, Buffer.from(PLAN), k.publicKey, Buffer.from(splitAuth(signed.auth)[2], "base64url")),
    ).toBe(true);
  });

  it("hmac-sha256: 32 random bytes as base64url text, used as UTF-8 by both sides", async () => {
    const m = generateKeyMaterial("hmac-sha256", "exitbrain-k1", "exitbrain_v3_5");
    if (m.alg !== "hmac-sha256") throw new Error("expected hmac");
    expect(m.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(m.secretEnv).toBe("IG_SECRET_EXITBRAIN_K1");
    expect(m.config).toEqual({
      keys: {
        "exitbrain-k1": {
          alg: "hmac-sha256",
          secret_env: "IG_SECRET_EXITBRAIN_K1",
          source: "exitbrain_v3_5",
        },
      },
    });
    expect(JSON.stringify(m.config)).not.toContain(m.secret);

    const { policy } = await parseConfigText(JSON.stringify(m.config), "json", {
      IG_SECRET_EXITBRAIN_K1: m.secret,
    });
    const k = policy.keys.get("exitbrain-k1");
    if (k?.alg !== "hmac-sha256") throw new Error("expected hmac");
    const signed = signPlan({
      plan: PLAN,
      key: { keyId: "exitbrain-k1", alg: "hmac-sha256", secret: m.secret },
    });
    const want = createHmac("sha256", k.secret.expose()).update(PLAN).digest("base64url");
    expect(splitAuth(signed.auth)[2]).toBe(want);
    expect(inspect(k)).not.toContain(m.secret);
  });

  it("without a source the key is a permit issuer's", async () => {
    const m = generateKeyMaterial("ed25519", "governor-k1");
    expect(m.config.keys["governor-k1"]).toMatchObject({ role: "permit_issuer" });
    expect(m.config.keys["governor-k1"]).not.toHaveProperty("source");
    const { policy } = await parseConfigText(
      JSON.stringify({ ...m.config, permits: { required: true, issuers: ["governor-k1"] } }),
      "json",
      {},
    );
    expect(policy.keys.get("governor-k1")?.role).toBe("permit_issuer");
  });

  it("generates different keys each time", () => {
    const a = generateKeyMaterial("hmac-sha256", "k", "s");
    const b = generateKeyMaterial("hmac-sha256", "k", "s");
    expect(a.alg === "hmac-sha256" && b.alg === "hmac-sha256" && a.secret !== b.secret).toBe(true);
  });

  it("rejects a key id that cannot appear in an auth field", () => {
    expect(() => generateKeyMaterial("ed25519", "a:b", "s")).toThrow(TypeError);
  });
});
