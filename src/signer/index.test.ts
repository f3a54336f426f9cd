import { createHmac, randomBytes } from "node:crypto";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openSigningPlane } from "./index.js";
import { Vault } from "./vault/vault.js";

const PASS = randomBytes(12).toString("hex");
const SECRET = "index-test-binance-secret";
const ENV = { IG_IDX_PASS: PASS, IG_IDX_AUDIT_KEY: randomBytes(32).toString("base64url") };
let dir: string;

async function writeConfig(over: Record<string, unknown> = {}): Promise<string> {
  const path = join(dir, `signer-${Math.random().toString(36).slice(2)}.json`);
  await writeFile(
    path,
    JSON.stringify({
      vault: { path: "vault.json", passphrase_env: "IG_IDX_PASS" },
      audit: { path: `audit-${Math.random().toString(36).slice(2)}.jsonl`, key_env: "IG_IDX_AUDIT_KEY" },
      callers: { exec: { token_env: "UNUSED", accounts: ["a1"], intents: ["cex_api_signer"] } },
      intents: { cex_api_signer: { routes: { read: "position_risk" } } },
      accounts: { a1: { cex_api_signer: "bn" } },
      ...over,
    }),
  );
  return path;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "ig-index-"));
  const vault = await Vault.init(join(dir, "vault.json"), PASS, { scrypt: { N: 1024 } });
  await vault.add("bn", "hmac", Buffer.from(SECRET));
  vault.close();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("openSigningPlane: the local plane runs the signer's own pipeline", () => {
  it("signs with the vault's key under the config's rules", async () => {
    const path = await writeConfig();
    const { plane, caller } = await openSigningPlane(
      { plane: "local", signer_config: path, caller: "exec" },
      { env: ENV, baseDir: dir, live: false },
    );
    const query = `timestamp=${Date.now()}`;
    const out = await plane.sign(caller, {
      request_id: "idx-1",
      account: "a1",
      intent: "cex_api_signer",
      route: "read",
      target: { venue: "binance-usdm", action: "position_risk" },
      guard_context: { purpose: "test" },
      payload: { kind: "hmac-query", query },
    });
    await plane.close();
    expect(out).toMatchObject({
      granted: true,
      signature: createHmac("sha256", SECRET).update(query).digest("hex"),
    });
  });

  it("refuses live trading, and a vault open to others (the same file checks as a signer process)", async () => {
    await expect(
      openSigningPlane(
        { plane: "local", signer_config: await writeConfig(), caller: "exec" },
        { env: ENV, baseDir: dir, live: true },
      ),
    ).rejects.toThrow(/refuses live trading/);
    await expect(
      openSigningPlane(
        { plane: "local", signer_config: await writeConfig({ live: true }), caller: "exec" },
        { env: ENV, baseDir: dir, live: false },
      ),
    ).rejects.toThrow(/refuses to start with live: true/);
    await chmod(join(dir, "vault.json"), 0o644);
    try {
      await expect(
        openSigningPlane(
          { plane: "local", signer_config: await writeConfig(), caller: "exec" },
          { env: ENV, baseDir: dir, live: false },
        ),
      ).rejects.toThrow(/vault .*vault\.json has mode 0644.*chmod 600/);
    } finally {
      await chmod(join(dir, "vault.json"), 0o600);
    }
  });
});
