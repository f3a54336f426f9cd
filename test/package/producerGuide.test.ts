/**
 * docs/producers.md's shell signing blocks, run as written with bash,
 * openssl and redis-cli against a real executor on the test Redis: a plan
 * signed with an HMAC key and one signed with an Ed25519 key from
 * `keys gen` are both EXECUTED, and the signatures equal `signPlan`'s.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { generateKeyMaterial } from "../../src/sdk/generateKeys.js";
import { ResultReader } from "../../src/sdk/resultReader.js";
import { signPlan } from "../../src/sdk/signPlan.js";
import { repoText } from "../architecture/docTables.js";
import { ExecutorHarness } from "../support/executorHarness.js";

/** The ```sh blocks of the guide's "Signing from the shell" section, in order. */
function shellBlocks(): string[] {
  // Not markdownSection: a shell comment line (`# …`) would read as a heading there.
  const doc = repoText("docs/producers.md");
  const start = doc.indexOf("\n### Signing from the shell (openssl)\n");
  const rest = doc.slice(start + 1);
  const next = rest.slice(1).search(/\n#{2,3} /);
  const section = next < 0 ? rest : rest.slice(0, next + 1);
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] as string);
}

describe("docs/producers.md: signing from the shell (openssl + redis-cli)", () => {
  let h: ExecutorHarness;
  let dir: string;
  const hmac = generateKeyMaterial("hmac-sha256", "shell-h1", "shell_src");
  const ed = generateKeyMaterial("ed25519", "shell-e1", "shell_src");
  if (hmac.alg !== "hmac-sha256" || ed.alg !== "ed25519") throw new Error("unexpected key material");

  beforeAll(async () => {
    h = await ExecutorHarness.create({ bus: "redis", redisUrl: inject("redisUrl") });
    const secretEnv = hmac.secretEnv;
    const config = h.writeConfig({
      keys: { ...hmac.config.keys, ...ed.config.keys },
      sources: { shell_src: { lanes: ["main"] } },
      exit_owner: "shell_src",
    });
    await h.start(["shell-exec-1"], { config, env: h.childEnv({ [secretEnv]: hmac.secret }) });
    dir = mkdtempSync(join(tmpdir(), "ig-shell-"));
  }, 60_000);

  afterAll(async () => {
    await h?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("finds the two blocks", () => {
    expect(shellBlocks()).toHaveLength(2);
  });

  it.each([
    ["HMAC", 0],
    ["Ed25519", 1],
  ] as const)("the %s block signs like signPlan and the executor EXECUTES the plan", async (_n, i) => {
    const plan = JSON.stringify({
      v: 1,
      plan_id: `shell-${i}-${Date.now()}`,
      source: "shell_src",
      venue: "paper",
      symbol: "BTCUSDT",
      side: "BUY",
      qty: "0.01",
      created_at: Date.now(),
    });
    writeFileSync(join(dir, "plan.json"), `${plan}\n`);
    const after = await h.backend.lastResultId();
    const streamId = execFileSync("bash", ["-euo", "pipefail", "-c", shellBlocks()[i] as string], {
      cwd: dir,
      env: {
        ...process.env,
        PREFIX: h.prefix,
        REDIS_URL: h.busUrl,
        KEY_ID: i === 0 ? "shell-h1" : "shell-e1",
        IG_SECRET: hmac.secret,
        IG_PRIVATE_KEY: ed.privateKey,
      },
      encoding: "utf8",
    }).trim();
    expect(streamId).toMatch(/^\d+-\d+$/);
    const [entry] = (await h.redis!.xrange(`${h.prefix}stream:apply.plan`, streamId, streamId)) as Array<
      [string, string[]]
    >;
    const auth = entry?.[1][3];
    const key =
      i === 0
        ? ({ keyId: "shell-h1", alg: "hmac-sha256", secret: hmac.secret } as const)
        : ({ keyId: "shell-e1", alg: "ed25519", privateKey: ed.privateKey } as const);
    expect(auth).toBe(signPlan({ plan, key }).auth);
    const result = await new ResultReader({ bus: h.backend }).awaitResult({
      lane: "main",
      streamId,
      after,
      timeoutMs: 20_000,
    });
    expect(result).toMatchObject({ decision: "EXECUTED", authenticated: true, source: "shell_src" });
  });
});
