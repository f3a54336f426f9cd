/**
 * Issue 9, "an audit an editor can forge": keyed chain, verify with the key, lock, file modes, values in lines, probes.
 * Against a real `intentgate signer` process over its Unix socket (the
 * world: `test/support/attackWorld.ts`); each test is the attack, and
 * passes only when the attack fails.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SignRequest } from "../../src/ports/signingPlane.js";
import * as W from "../support/attackWorld.js";
import { spawnSigner } from "../support/signerProcess.js";

let world: W.AttackWorld;
beforeAll(async () => {
  world = await W.openAttackWorld();
});
afterAll(() => {
  world?.close();
});

describe("an audit an editor can forge", () => {
  it("two signers on one audit file: the second refuses to start", async () => {
    const s = await world.signerIn("lock");
    try {
      const second = await spawnSigner({
        dir: s.dir,
        file: "second.json",
        config: world.config({ socket: { path: "second.sock" } }),
        env: W.ENV,
      });
      expect(await W.within(30_000, second.exited, "second signer exit")).not.toBe(0);
      expect(second.output()).toMatch(/audit.*(held|locked|another signer)/i);
    } finally {
      await s.p.stop();
    }
  });

  it("a line changed from granted to denied, later hashes recomputed: verify finds it, the signer will not restart on it", async () => {
    const s = await world.signerIn("forge");
    const plane = W.remote(s);
    try {
      for (let i = 0; i < 4; i++)
        expect(W.reasonOf(await plane.sign("exec-a", W.binanceOrder({})))).toBe("granted");
    } finally {
      await plane.close();
      await s.p.stop();
    }
    // The forger edits line 2 and re-chains every later line, as one could with an unkeyed hash chain.
    const lines = readFileSync(s.audit, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    let prev = lines[0].mac as string;
    for (let i = 1; i < lines.length; i++) {
      const { mac: _m, ...rest } = lines[i];
      if (i === 1) Object.assign(rest, { decision: "denied", reason: "policy:max_notional" });
      rest.prev_mac = prev;
      prev = createHash("sha256").update(JSON.stringify(rest)).digest("hex");
      lines[i] = { ...rest, mac: prev };
    }
    writeFileSync(s.audit, `${lines.map((l) => JSON.stringify(l)).join("\n")}\n`);
    const verify = await new Promise<{ code: number; stdout: string }>((done) =>
      execFile(
        process.execPath,
        [
          "--import",
          "tsx",
          join(W.ROOT, "src/apps/cli/main.ts"),
          "audit",
          "verify",
          s.audit,
          "--key-env",
          "IG_AUDIT_KEY",
        ],
        { cwd: W.ROOT, env: { PATH: process.env.PATH ?? "", IG_AUDIT_KEY: W.AUDIT_KEY } },
        (err, stdout) => done({ code: err ? Number(err.code) : 0, stdout }),
      ),
    );
    expect(verify).toEqual({ code: 1, stdout: "bad line 2: mac\n" });
    const again = await spawnSigner({ dir: s.dir, config: world.config(), env: W.ENV, file: "again.json" });
    expect(await W.within(30_000, again.exited, "signer exit")).toBe(65);
    expect(again.output()).toMatch(/line 2 does not verify \(mac\)/);
  });

  it.each([
    ["vault", 0o644],
    ["audit", 0o666],
    ["token", 0o644],
    ["key", 0o640],
  ])(
    "a %s file readable or writable by others (%o) refuses the start, naming it and the mode to set",
    async (which, mode) => {
      const d = mkdtempSync(join(world.dir, `perm-${which}-`));
      const v = join(d, "vault.json");
      writeFileSync(v, readFileSync(world.vaultPath));
      chmodSync(v, which === "vault" ? mode : 0o600);
      const files: Record<string, string> = {
        audit: join(d, "audit.jsonl"),
        token: join(d, "b.token"),
        key: join(d, "audit.key"),
      };
      writeFileSync(files.audit!, "");
      writeFileSync(files.token!, `${W.TOKEN_B}\n`);
      writeFileSync(files.key!, `${W.AUDIT_KEY}\n`);
      for (const [name, path] of Object.entries(files)) chmodSync(path, name === which ? mode : 0o600);
      const base = world.config();
      const cfg = world.config({
        vault: { path: v, passphrase_env: "IG_PASS" },
        audit: { path: "audit.jsonl", key_file: "audit.key" },
        callers: {
          ...(base.callers as Record<string, unknown>),
          "exec-b": { token_file: "b.token", accounts: ["acct-2"], intents: ["cex_api_signer"] },
        },
      });
      const p = await spawnSigner({ dir: d, config: cfg, env: W.ENV });
      expect(await W.within(30_000, p.exited, "signer exit")).toBe(78);
      const named = which === "vault" ? v : files[which]!;
      expect(p.output()).toContain(`${named} has mode 0${mode.toString(8)}`);
      expect(p.output()).toContain(`chmod 600 ${named}`);
    },
  );

  it("readiness probes are audited once per change of outcome, not every probe", async () => {
    const s = await world.signerIn("probes");
    const plane = W.remote(s);
    const probe = (ts: number): SignRequest => ({
      request_id: `probe-${W.nextSeq()}`,
      account: "acct-1",
      intent: "cex_api_signer",
      route: W.R.readiness,
      target: { venue: "binance-usdm", action: "position_risk" },
      guard_context: { purpose: "readiness", mode: "live" },
      payload: { kind: "hmac-query", query: `recvWindow=5000&timestamp=${ts}` },
    });
    const outs: string[] = [];
    try {
      for (let i = 0; i < 40; i++) outs.push(W.reasonOf(await plane.sign("exec-a", probe(Date.now()))));
      outs.push(W.reasonOf(await plane.sign("exec-a", probe(Date.now() + 3_600_000))));
      for (let i = 0; i < 5; i++) outs.push(W.reasonOf(await plane.sign("exec-a", probe(Date.now()))));
    } finally {
      await plane.close();
      await s.p.stop();
    }
    expect(outs.filter((o) => o === "granted")).toHaveLength(45);
    const lines = readFileSync(s.audit, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.reason)).toEqual(["ok", "policy:stale_timestamp", "ok"]);
  });

  it("an audit line holds the target's and guard context's values", async () => {
    const s = await world.signerIn("values");
    const plane = W.remote(s);
    try {
      await plane.sign("exec-a", W.binanceOrder({ qty: "0.02", price: "31000", referencePrice: "30500" }));
    } finally {
      await plane.close();
      await s.p.stop();
    }
    const line = JSON.parse(readFileSync(s.audit, "utf8").trim().split("\n")[0]!) as Record<string, unknown>;
    expect(line.target).toMatchObject({
      symbol: "BTCUSDT",
      side: "BUY",
      qty: "0.02",
      price: "31000",
      reference_price: "30500",
    });
    expect(line.guard_context).toMatchObject({ plan_id: "plan-attack" });
  });
});
