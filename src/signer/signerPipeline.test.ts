import { type ChildProcess, spawn } from "node:child_process";
import { createHmac, randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createSoftHsmFixture,
  type SoftHsmFixture,
  softHsmAvailable,
} from "../../test/support/softhsmFixture.js";
import { SecretBytes } from "../core/auth/secretBytes.js";
import { toChecksumAddress } from "../core/evm/address.js";
import { addressOfPublicKey } from "../core/evm/ecdsa.js";
import { CTF_ORDER_VERSIONS, POLYGON_CHAIN_ID } from "../core/polymarket/ctfOrder.js";
import type { SignRequest } from "../ports/signingPlane.js";
import { verifyAuditFile } from "./audit/verifyAudit.js";

import { Pkcs11Token } from "./pkcs11/pkcs11Token.js";
import { createRemotePlane } from "./remote/remotePlaneClient.js";
import { loadSignerConfig } from "./signerConfig.js";
import { openSignerPipeline } from "./signerPipeline.js";
import { Vault } from "./vault/vault.js";

const ROOT = resolve(import.meta.dirname, "../..");
const CALLER = "exec-1";
const TOKEN = randomBytes(32).toString("base64url");
const AUDIT_KEY = randomBytes(32).toString("base64url");
const PASS = `pass-${randomBytes(12).toString("hex")}`;
const PIN = `pin-${randomBytes(6).toString("hex")}`;
const HMAC_SECRET = Buffer.from(randomBytes(32).toString("base64"), "utf8");
const EVM_KEY = Buffer.from(secp256k1.utils.randomSecretKey());
const EVM_ADDRESS = toChecksumAddress(addressOfPublicKey(secp256k1.getPublicKey(EVM_KEY, false)));
const TOKEN_ID = "71321045679252212594626385532706912750332728571942532289631379312455583992563";

function config(dir: string, keys: Record<string, unknown>, sync: "line" | "group" | "never") {
  return {
    live: false,
    vault: { path: "vault.json", passphrase_env: "IG_PIPE_PASS" },
    audit: { path: "audit.jsonl", sync, key_env: "IG_PIPE_AUDIT_KEY" },
    socket: { path: join(dir, "signer.sock") },
    callers: {
      [CALLER]: {
        token_env: "IG_PIPE_TOKEN",
        accounts: ["acct"],
        intents: ["cex_api_signer", "per_user_clob_signer"],
      },
    },
    intents: {
      cex_api_signer: { routes: { "executor.binance-usdm.position_risk": "position_risk" } },
      per_user_clob_signer: { routes: { "executor.polymarket.order": "order" } },
    },
    accounts: { acct: { cex_api_signer: "hmac", per_user_clob_signer: "evm" } },
    ...keys,
  };
}

function hmacRequest(i: number): SignRequest {
  return {
    request_id: `h-${i}`,
    account: "acct",
    intent: "cex_api_signer",
    route: "executor.binance-usdm.position_risk",
    target: { venue: "binance-usdm", action: "position_risk" },
    guard_context: { plan_id: `p-${i}` },
    payload: { kind: "hmac-query", query: `timestamp=${Date.now()}` },
  };
}

function orderRequest(i: number): SignRequest {
  const spec = CTF_ORDER_VERSIONS["2"];
  const zero = `0x${"00".repeat(32)}`;
  return {
    request_id: `o-${i}`,
    account: "acct",
    intent: "per_user_clob_signer",
    route: "executor.polymarket.order",
    target: {
      venue: "polymarket",
      action: "order",
      token_id: TOKEN_ID,
      side: "BUY",
      qty: "10",
      price: "0.57",
    },
    guard_context: { plan_id: `p-${i}` },
    payload: {
      kind: "eip712-order",
      domain: {
        name: "Polymarket CTF Exchange",
        version: "2",
        chainId: String(POLYGON_CHAIN_ID),
        verifyingContract: spec.exchanges[String(POLYGON_CHAIN_ID)]!.standard,
      },
      order: {
        salt: String(i + 1),
        maker: EVM_ADDRESS,
        signer: EVM_ADDRESS,
        tokenId: TOKEN_ID,
        makerAmount: "5700000",
        takerAmount: "10000000",
        side: "0",
        signatureType: "0",
        timestamp: String(1_700_000_000_000 + i),
        metadata: zero,
        builder: zero,
      },
    },
  };
}

/** The address a 0x r‖s‖v signature of `request`'s order recovers to (noble's own recovery). */
async function recoveredSigner(request: SignRequest, signature: string): Promise<string> {
  const { decodePolymarketOrder, polymarketOrderDigest } = await import("./payloads/polymarketOrder.js");
  const decoded = decodePolymarketOrder(
    request.payload as Extract<SignRequest["payload"], { kind: "eip712-order" }>,
    new Set([String(POLYGON_CHAIN_ID)]),
  );
  if (!decoded.ok) throw new Error(decoded.field);
  const sig = Buffer.from(signature.slice(2), "hex");
  const point = new secp256k1.Signature(
    BigInt(`0x${sig.subarray(0, 32).toString("hex")}`),
    BigInt(`0x${sig.subarray(32, 64).toString("hex")}`),
    (sig[64] as number) - 27,
  ).recoverPublicKey(polymarketOrderDigest(decoded.order));
  return toChecksumAddress(addressOfPublicKey(point.toBytes(false)));
}

/** The HMAC a request's query must be signed with. */
const hmacOf = (req: SignRequest): string =>
  createHmac("sha256", HMAC_SECRET)
    .update((req.payload as { query: string }).query)
    .digest("hex");

const auditLines = async (path: string) =>
  (await readFile(path, "utf8"))
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "ig-pipeline-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("signer pipeline over the vault", () => {
  it("signs with the vault's keys, audits with the config's sync policy, refuses a wrong passphrase", async () => {
    const sub = await mkdtemp(join(dir, "vault-"));
    const vault = await Vault.init(join(sub, "vault.json"), PASS, { scrypt: { N: 1024 } });
    await vault.add("hmac", "hmac", HMAC_SECRET);
    await vault.add("evm", "secp256k1", EVM_KEY);
    vault.close();
    await writeFile(join(sub, "signer.json"), JSON.stringify(config(sub, {}, "line")));
    const cfg = await loadSignerConfig(join(sub, "signer.json"));
    expect(cfg.audit.sync).toBe("line");

    const env = { IG_PIPE_PASS: PASS, IG_PIPE_AUDIT_KEY: AUDIT_KEY };
    const pipeline = await openSignerPipeline(cfg, env, { ecdsaWorkers: 0 });
    expect(pipeline.keys).toBe("vault");
    expect(JSON.stringify(pipeline.summary)).not.toContain(PASS);
    const hr = hmacRequest(1);
    const h = await pipeline.plane.sign(CALLER, hr);
    expect(h).toMatchObject({ granted: true, signature: hmacOf(hr) });
    const req = orderRequest(1);
    const o = await pipeline.plane.sign(CALLER, req);
    if (!o.granted) throw new Error(o.reason);
    expect(o.signer_address).toBe(EVM_ADDRESS);
    expect(await recoveredSigner(req, o.signature)).toBe(EVM_ADDRESS);
    await pipeline.close();
    expect(await verifyAuditFile(cfg.audit.path, Buffer.from(AUDIT_KEY))).toEqual({ ok: true, lines: 2 });

    await expect(openSignerPipeline(cfg, { ...env, IG_PIPE_PASS: `${PASS}x` })).rejects.toMatchObject({
      name: "KeyStoreError",
      code: "bad_passphrase",
    });
  });
});

describe.skipIf(!softHsmAvailable())("signer pipeline over a PKCS#11 token (SoftHSM2)", () => {
  let hsm: SoftHsmFixture;
  let sub: string;
  let configPath: string;

  beforeAll(async () => {
    hsm = await createSoftHsmFixture();
    await hsm.initToken("ig-pipeline", PIN, "so-1234");
    const admin = Pkcs11Token.open({
      module: hsm.module,
      tokenLabel: "ig-pipeline",
      pin: new SecretBytes(Buffer.from(PIN)),
    });
    try {
      admin.importHmacSecret("hmac", new SecretBytes(HMAC_SECRET));
      expect(admin.importSecp256k1("evm", new SecretBytes(EVM_KEY))).toBe(EVM_ADDRESS);
    } finally {
      admin.close();
    }
    sub = await mkdtemp(join(dir, "pkcs11-"));
    await writeFile(join(sub, "pin.txt"), `${PIN}\n`, { mode: 0o600 });
    configPath = join(sub, "signer.json");
    await writeFile(
      configPath,
      JSON.stringify(
        config(
          sub,
          { pkcs11: { module: hsm.module, token_label: "ig-pipeline", pin_file: "pin.txt" } },
          "group",
        ),
      ),
    );
  });

  afterAll(async () => {
    await hsm?.dispose();
  });

  it("refuses to start with a wrong PIN, naming no PIN", async () => {
    const cfg = await loadSignerConfig(configPath);
    expect(cfg.pkcs11?.pin_file).toBe(join(sub, "pin.txt"));
    const wrong = { ...cfg, pkcs11: { ...cfg.pkcs11!, pin_file: undefined, pin_env: "IG_PIPE_PIN" } };
    const err = await openSignerPipeline(wrong, {
      IG_PIPE_PIN: `${PIN}0`,
      IG_PIPE_AUDIT_KEY: AUDIT_KEY,
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: "Pkcs11TokenError", code: "bad_pin" });
    expect(String((err as Error).message)).not.toContain(PIN);
  });

  it("serves the token's keys from a signer process over the socket, auditing every request", async () => {
    const url = (p: string) => JSON.stringify(pathToFileURL(join(ROOT, p)).href);
    const script = join(sub, "signer.mts");
    await writeFile(
      script,
      `import { loadSignerConfig, loadSignerSecret } from ${url("src/signer/signerConfig.ts")};
import { openSignerPipeline } from ${url("src/signer/signerPipeline.ts")};
import { startSignerServer } from ${url("src/signer/remote/signerServer.ts")};
const config = await loadSignerConfig(process.argv[2]);
const callers = new Map();
for (const [id, ref] of Object.entries(config.callers)) callers.set(id, await loadSignerSecret({ ref, name: "token", field: id, env: process.env }));
const pipeline = await openSignerPipeline(config, process.env);
const server = await startSignerServer({ socketPath: config.socket.path, callers, plane: pipeline.plane, requestTimeoutMs: 5000 });
process.on("SIGTERM", () => { void server.close().then(() => pipeline.close()).then(() => process.exit(0)); });
process.stdout.write("ready " + JSON.stringify(pipeline.summary) + "\\n");
`,
    );
    const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", script, configPath], {
      cwd: ROOT,
      env: { ...process.env, IG_PIPE_TOKEN: TOKEN, IG_PIPE_AUDIT_KEY: AUDIT_KEY, SOFTHSM2_CONF: hsm.conf },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.stderr?.on("data", (d: Buffer) => {
      out += d.toString();
    });
    const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
    try {
      const t0 = Date.now();
      while (!out.includes("ready")) {
        if (Date.now() - t0 > 20_000 || child.exitCode !== null) throw new Error(`no ready:\n${out}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(out).toContain('"keys":"pkcs11"');
      const plane = createRemotePlane({
        socketPath: join(sub, "signer.sock"),
        caller: CALLER,
        token: new SecretBytes(Buffer.from(TOKEN)),
        timeoutMs: 5000,
      });
      try {
        const hr = hmacRequest(2);
        expect(await plane.sign(CALLER, hr)).toMatchObject({ granted: true, signature: hmacOf(hr) });
        for (let i = 0; i < 5; i++) {
          const req = orderRequest(i);
          const o = await plane.sign(CALLER, req);
          if (!o.granted) throw new Error(o.reason);
          expect(o.signer_address).toBe(EVM_ADDRESS);
          expect(await recoveredSigner(req, o.signature)).toBe(EVM_ADDRESS);
        }
        // Another caller than the token's: denied and audited by the signer, under the token's caller.
        expect(await plane.sign("intruder", hmacRequest(3))).toEqual({
          granted: false,
          request_id: "h-3",
          reason: "unknown_caller",
        });
      } finally {
        await plane.close();
      }
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
    const audit = join(sub, "audit.jsonl");
    expect(await verifyAuditFile(audit, Buffer.from(AUDIT_KEY))).toEqual({ ok: true, lines: 7 });
    const last = (await auditLines(audit)).at(-1);
    expect(last).toMatchObject({ caller: CALLER, decision: "denied", reason: "unknown_caller" });
    for (const text of [out, await readFile(audit, "utf8")]) {
      expect(text).not.toContain(PIN);
      expect(text).not.toContain(TOKEN);
      expect(text).not.toContain(AUDIT_KEY);
    }
  });
});
