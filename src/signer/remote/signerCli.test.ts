import { spawn } from "node:child_process";
import { createHmac } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SecretBytes } from "../../core/auth/secretBytes.js";
import type { SignRequest } from "../../ports/signingPlane.js";
import { Vault } from "../vault/vault.js";
import { createRemotePlane } from "./remotePlaneClient.js";

/**
 * `intentgate signer --config F` as a real process: the signer config, the
 * vault and the audit log of the colleagues' modules, served on the socket,
 * asked by the remote client.
 */

const ROOT = resolve(import.meta.dirname, "../../..");
const CANARY_TOKEN = "CANARY-caller-token-5d1e9a-0123456789abcdefghijkl";
const CANARY_PASS = "CANARY-vault-pass-77c0b2";
const CANARY_AUDIT_KEY = "CANARY-audit-key-1f2e3d4c5b6a-0123456789ABCDEFGH";
const API_SECRET = "binance-api-secret-for-tests";
const ROUTE = "executor.binance-usdm.position";

let dir: string;
const kills: (() => void)[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "ig-signer-cli-"));
});

afterEach(() => {
  for (const k of kills.splice(0)) k();
  rmSync(dir, { recursive: true, force: true });
});

async function setUp(): Promise<string> {
  const vault = await Vault.init(join(dir, "vault.json"), CANARY_PASS, { scrypt: { N: 1024 } });
  await vault.add("binance-acct-1", "hmac", Buffer.from(API_SECRET));
  vault.close();
  const config = join(dir, "signer.json");
  writeFileSync(
    config,
    JSON.stringify({
      vault: { path: "vault.json", passphrase_env: "IG_TEST_VAULT_PASS" },
      audit: { path: "audit.jsonl", key_env: "IG_TEST_AUDIT_KEY" },
      socket: { path: "signer.sock" },
      callers: {
        "exec-a": { token_env: "IG_TEST_EXEC_A_TOKEN", accounts: ["acct-1"], intents: ["cex_api_signer"] },
      },
      intents: { cex_api_signer: { routes: { [ROUTE]: "position_risk" } } },
      accounts: { "acct-1": { cex_api_signer: "binance-acct-1" } },
    }),
  );
  return config;
}

function startSigner(config: string, env: Record<string, string>) {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", join(ROOT, "src/apps/cli/main.ts"), "signer", "--config", config],
    { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  child.stdout.on("data", (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on("data", (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  kills.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
  const waitFor = async (text: string, ms = 20_000) => {
    const t0 = Date.now();
    while (!out.includes(text)) {
      if (Date.now() - t0 > ms || child.exitCode !== null)
        throw new Error(`no ${JSON.stringify(text)} from the signer; output:\n${out}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return { child, exited, waitFor, out: () => out };
}

const ENV = {
  IG_TEST_VAULT_PASS: CANARY_PASS,
  IG_TEST_EXEC_A_TOKEN: CANARY_TOKEN,
  IG_TEST_AUDIT_KEY: CANARY_AUDIT_KEY,
};

describe("intentgate signer --config F", () => {
  it("serves the vault's keys to an authenticated caller, audits, and stops on SIGTERM with exit 0", async () => {
    const config = await setUp();
    const signer = startSigner(config, ENV);
    await signer.waitFor("signer ready");
    const socketPath = join(dir, "signer.sock");
    expect((statSync(socketPath).mode & 0o777).toString(8)).toBe("600");

    const plane = createRemotePlane({
      socketPath,
      caller: "exec-a",
      token: new SecretBytes(Buffer.from(CANARY_TOKEN)),
      timeoutMs: 5000,
    });
    const query = `symbol=BTCUSDT&timestamp=${Date.now()}`;
    const request: SignRequest = {
      request_id: "cli-req-1",
      account: "acct-1",
      intent: "cex_api_signer",
      route: ROUTE,
      target: { venue: "binance-usdm", action: "position_risk", symbol: "BTCUSDT" },
      guard_context: { plan_id: "p1", mode: "paper" },
      payload: { kind: "hmac-query", query },
    };
    expect(await plane.sign("exec-a", request)).toEqual({
      granted: true,
      request_id: "cli-req-1",
      signature: createHmac("sha256", API_SECRET).update(query).digest("hex"),
      plane_version: "signing-plane-v1",
    });
    expect(await plane.sign("exec-a", { ...request, request_id: "cli-req-2", route: "elsewhere" })).toEqual({
      granted: false,
      request_id: "cli-req-2",
      reason: "route_not_allowed",
    });
    await plane.close();

    signer.child.kill("SIGTERM");
    expect(await signer.exited).toBe(0);
    expect(() => statSync(socketPath)).toThrow(/ENOENT/);
    const audit = readFileSync(join(dir, "audit.jsonl"), "utf8").trim().split("\n");
    expect(audit).toHaveLength(2);
    expect(audit[0]).toContain("cli-req-1");
    expect(audit[1]).toContain("route_not_allowed");
    for (const text of [signer.out(), ...audit]) {
      expect(text).not.toContain(CANARY_TOKEN);
      expect(text).not.toContain(CANARY_PASS);
      expect(text).not.toContain(CANARY_AUDIT_KEY);
      expect(text).not.toContain(API_SECRET);
    }
  });

  it("exits 78 on a caller token shorter than 32 random bytes or a missing audit key, naming the field only", async () => {
    const config = await setUp();
    const short = startSigner(config, { ...ENV, IG_TEST_EXEC_A_TOKEN: "abcde" });
    expect(await short.exited).toBe(78);
    expect(short.out()).toMatch(
      /callers\.exec-a\.token_env: the token is 5 characters long; it needs at least 32 random bytes/,
    );
    const noKey = startSigner(config, {
      IG_TEST_VAULT_PASS: CANARY_PASS,
      IG_TEST_EXEC_A_TOKEN: CANARY_TOKEN,
    });
    expect(await noKey.exited).toBe(78);
    expect(noKey.out()).toContain("audit.key_env");
    for (const text of [short.out(), noKey.out()]) {
      expect(text).not.toContain('abcde"');
      expect(text).not.toContain(CANARY_TOKEN);
    }
  });

  it("exits 78 on a wrong vault passphrase or a missing caller token, without printing either", async () => {
    const config = await setUp();
    const wrong = startSigner(config, { ...ENV, IG_TEST_VAULT_PASS: `${CANARY_PASS}-wrong` });
    expect(await wrong.exited).toBe(78);
    expect(wrong.out()).toMatch(/passphrase/);
    const noToken = startSigner(config, { IG_TEST_VAULT_PASS: CANARY_PASS });
    expect(await noToken.exited).toBe(78);
    expect(noToken.out()).toContain("IG_TEST_EXEC_A_TOKEN");
    for (const text of [wrong.out(), noToken.out()]) {
      expect(text).not.toContain(CANARY_PASS);
      expect(text).not.toContain(CANARY_TOKEN);
    }
    expect(() => statSync(join(dir, "signer.sock"))).toThrow(/ENOENT/);
  });
});
