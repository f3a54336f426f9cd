import { chmodSync, chownSync, mkdtempSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SecretBytes } from "../../src/core/auth/secretBytes.js";
import { createRemotePlane } from "../../src/signer/remote/remotePlaneClient.js";
import * as W from "../support/attackWorld.js";
import { spawnSigner } from "../support/signerProcess.js";

let world: W.AttackWorld;
beforeAll(async () => {
  world = await W.openAttackWorld();
});
afterAll(() => {
  world?.close();
});

describe("unscoped callers", () => {
  it("a caller signs only for the accounts and intents its config lists", async () => {
    const s = await world.signerIn("scope");
    const plane = W.remote(s, "exec-b", W.TOKEN_B);
    try {
      expect(W.reasonOf(await plane.sign("exec-b", W.binanceOrder({ account: "acct-1" })))).toBe(
        "caller_not_allowed",
      );
      expect(W.reasonOf(await plane.sign("exec-b", W.pmSellL2()))).toBe("caller_not_allowed");
      expect(W.reasonOf(await plane.sign("exec-b", W.binanceOrder({ account: "acct-2" })))).toBe("granted");
    } finally {
      await plane.close();
      await s.p.stop();
    }
  });

  it("a 5-character token is a config error: the signer does not start", async () => {
    const d = mkdtempSync(join(world.dir, "short-"));
    const p = await spawnSigner({ dir: d, config: world.config(), env: { ...W.ENV, IG_TOKEN_B: "abcde" } });
    expect(await W.within(30_000, p.exited, "signer exit")).toBe(78);
    expect(p.output()).toMatch(/callers\.exec-b.*32/);
  });
});

describe("token to an impostor", () => {
  it("the client sends no token to a socket another user created", async () => {
    const d = mkdtempSync(join(world.dir, "impostor-"));
    const path = join(d, "signer.sock");
    const received: Buffer[] = [];
    const server = createServer((sock: Socket) => sock.on("data", (b: Buffer) => received.push(b)));
    await new Promise<void>((r) => server.listen(path, r));
    chmodSync(path, 0o666);
    // As root, hand the socket to another uid; otherwise the client expects another uid than ours.
    const me = process.getuid?.() ?? 0;
    const root = me === 0;
    if (root) chownSync(path, 4242, 4242);
    const owner = root ? 4242 : me;
    const logged: string[] = [];
    const log = (fields: Record<string, unknown>, msg: string) =>
      logged.push(`${msg} ${JSON.stringify(fields)}`);
    const plane = createRemotePlane({
      socketPath: path,
      caller: "exec-a",
      token: new SecretBytes(Buffer.from(W.TOKEN_A, "utf8")),
      timeoutMs: 5000,
      logger: { info: log, warn: log, error: log },
      ...(root ? {} : { socketOwnerUid: me + 4242 }),
    });
    try {
      const out = await plane.sign("exec-a", W.binanceOrder({}));
      expect(W.reasonOf(out)).toBe("signer_unavailable");
      expect(Buffer.concat(received).toString("utf8")).not.toContain("hello");
      expect(Buffer.concat(received)).toHaveLength(0);
      // A clear log line, naming why (and never the token).
      expect(logged.join("\n")).toMatch(
        new RegExp(`signer socket refused, token not sent: .*owned by uid ${owner}`),
      );
      expect(logged.join("\n")).not.toContain(W.TOKEN_A);
    } finally {
      await plane.close();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
