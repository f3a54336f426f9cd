import { spawn } from "node:child_process";
import { createHmac, createPublicKey, generateKeyPairSync, verify } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify as toYaml } from "yaml";
import { type CliRun, runCli } from "../../../test/support/runCli.js";
import { openBackend } from "../../adapters/openBackend.js";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const MAIN = fileURLToPath(new URL("./main.ts", import.meta.url));

const cli = (args: string[], env: Record<string, string> = {}): Promise<CliRun> => runCli([...args], env);

const HMAC_SECRET = "bot-secret-Vt3-at-least-32-bytes-long";
const ed = generateKeyPairSync("ed25519");
const ED_PUBLIC = ed.publicKey.export({ format: "jwk" }).x as string;
const ED_PRIVATE = ed.privateKey.export({ format: "der", type: "pkcs8" }).toString("base64url");

let dir: string;
let configPath: string;
let busUrl: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "ig-cli-"));
  busUrl = `sqlite:${join(dir, "bus.db")}`;
  configPath = join(dir, "intentgate.yaml");
  await writeFile(
    configPath,
    toYaml({
      bus: busUrl,
      prefix: "cli-test:",
      exit_owner: "bot",
      keys: {
        "bot-k1": { alg: "hmac-sha256", secret_env: "EXECUTOR_ONLY_SECRET", source: "bot" },
        "op-k1": { alg: "ed25519", public_key: ED_PUBLIC, source: "operator" },
        "gov-k1": { alg: "ed25519", public_key: ED_PUBLIC, role: "permit_issuer" },
      },
      sources: { bot: { lanes: ["main"] }, operator: { lanes: ["manual"] } },
      venues: { paper: { prices: { BTCUSDT: "65000" } } },
    }),
  );
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function withBus<T>(fn: (b: Awaited<ReturnType<typeof openBackend>>) => Promise<T>): Promise<T> {
  const b = await openBackend({ url: busUrl, prefix: "cli-test:" });
  try {
    return await fn(b);
  } finally {
    await b.close();
  }
}

describe("init (wire-v1 §7b)", () => {
  it("without a deployment, state get/set refuse (exit 69) instead of reading ACTIVE by default", async () => {
    for (const args of [
      ["state", "get"],
      ["state", "set", "ACTIVE"],
    ]) {
      const r = await cli([...args, "--config", configPath]);
      expect(r.code).toBe(69);
      expect(r.stderr).toContain("intentgate init");
      expect(r.stdout).toBe("");
    }
  });

  it("creates the deployment (default HALTED), refuses a second one, replaces it only with --force", async () => {
    const first = await cli(["init", "--config", configPath, "--who", "ops@desk"]);
    expect(first.code, first.stderr).toBe(0);
    const id = first.stdout.trim();
    expect(id).toMatch(/^dep-[0-9a-f-]{36}$/);
    expect((await cli(["state", "get", "--config", configPath])).stdout).toBe("HALTED\n");

    const again = await cli(["init", "--config", configPath, "--state", "ACTIVE"]);
    expect(again.code).toBe(73);
    expect(again.stderr).toContain(id);
    expect(again.stderr).toContain("--force");
    expect((await cli(["state", "get", "--config", configPath])).stdout).toBe("HALTED\n");

    const forced = await cli(["init", "--config", configPath, "--state", "active", "--force"]);
    expect(forced.code, forced.stderr).toBe(0);
    const replaced = forced.stdout.trim();
    expect(replaced).not.toBe(id);
    expect(await withBus((b) => b.readDeployment())).toBe(replaced);
    expect((await cli(["state", "get", "--config", configPath])).stdout).toBe("ACTIVE\n");
    const log = await withBus((b) => b.tradingStateLog());
    expect(log.map((c) => [c.state, c.who])).toEqual([
      ["HALTED", "init:ops@desk"],
      ["ACTIVE", expect.stringMatching(/^init:.+@.+/)],
    ]);
  });

  it("a relative sqlite: path is the config file's folder's, whatever the working directory", async () => {
    const cfg = join(dir, "relative.json");
    await writeFile(cfg, JSON.stringify({ bus: "sqlite:./rel/bus.db", prefix: "rel:" }));
    // runCli works from the repository root, not from the config's folder
    const r = await cli(["init", "--config", cfg, "--state", "ACTIVE"]);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(dir, "rel", "bus.db"))).toBe(true);
    expect(existsSync(join(ROOT, "rel"))).toBe(false);
    // a producer (state get here) reading the same config finds that bus, and never creates another
    expect(await cli(["state", "get", "--config", cfg])).toMatchObject({ code: 0, stdout: "ACTIVE\n" });
  });

  it("a bad --state is bad usage", async () => {
    const r = await cli(["init", "--config", configPath, "--state", "PAUSED"]);
    expect(r.code).toBe(64);
  });
});

describe("state", () => {
  it("get / set round trip, logged with who", async () => {
    const first = await cli(["state", "get", "--config", configPath]);
    expect(first).toMatchObject({ code: 0, stdout: "ACTIVE\n" });

    const set = await cli(["state", "set", "REDUCING", "--config", configPath, "--who", "alice@desk"]);
    expect(set.code).toBe(0);
    expect(set.stdout).toBe("");
    expect(set.stderr).toContain("ACTIVE -> REDUCING");
    expect(set.stderr).toContain('"msg":"trading state changed"');

    expect((await cli(["state", "get", "--config", configPath])).stdout).toBe("REDUCING\n");

    const defaultWho = await cli(["state", "set", "ACTIVE", "--config", configPath]);
    expect(defaultWho.code).toBe(0);
    expect((await cli(["state", "get", "--config", configPath])).stdout).toBe("ACTIVE\n");

    // the two init entries first (see above), then these two changes
    const log = (await withBus((b) => b.tradingStateLog())).slice(2);
    expect(log.map((c) => c.state)).toEqual(["REDUCING", "ACTIVE"]);
    expect(log[0]?.who).toBe("alice@desk");
    expect(log[1]?.who).toMatch(/.+@.+/);
  });

  it("an unknown state is bad usage", async () => {
    const r = await cli(["state", "set", "PAUSED", "--config", configPath]);
    expect(r.code).toBe(64);
    expect(r.stderr).toContain("ACTIVE, REDUCING, HALTED");
  });
});

describe("submit", () => {
  it("signs the file's exact bytes with an HMAC key and publishes plan + auth", async () => {
    const text =
      '{ "v": 1, "plan_id": "cli-1", "source": "bot", "venue": "paper", "symbol": "BTCUSDT",\n  "side": "BUY", "qty": "0.01", "created_at": 1700000000001 }\n';
    const file = join(dir, "plan1.json");
    await writeFile(file, text);
    // the executor's other secrets are not needed to submit
    const r = await cli(
      ["submit", "--config", configPath, "--key", "bot-k1", "--secret-env", "MY_SECRET", file],
      {
        MY_SECRET: HMAC_SECRET,
      },
    );
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { stream_id: string; lane: string };
    expect(out.lane).toBe("main");
    expect(out.stream_id).toMatch(/^\d+-\d+$/);

    const entries = await withBus(async (b) => {
      await b.ensureGroups();
      return b.readNew("cli-test-reader", 100, 0);
    });
    const entry = entries.find((e) => e.id === out.stream_id && e.lane === "main");
    expect(entry).toBeDefined();
    expect(entry?.fields.map(([n]) => n)).toEqual(["plan", "auth"]);
    const plan = entry?.fields[0]?.[1] ?? Buffer.alloc(0);
    expect(plan.equals(Buffer.from(text))).toBe(true);
    const want = createHmac("sha256", Buffer.from(HMAC_SECRET, "utf8")).update(plan).digest("base64url");
    expect(entry?.fields[1]?.[1].toString()).toBe(`hmac-sha256:bot-k1:${want}`);

    // results stay empty until an executor runs; positions too
    expect(await cli(["results", "--config", configPath])).toMatchObject({ code: 0, stdout: "" });
    expect(await cli(["positions", "--config", configPath])).toMatchObject({ code: 0, stdout: "" });
  });

  it("signs with an Ed25519 private key on the manual lane", async () => {
    const text =
      '{"v":1,"plan_id":"cli-2","source":"operator","venue":"paper","symbol":"BTCUSDT","side":"SELL","qty":"1","created_at":1700000000002}';
    const file = join(dir, "plan2.json");
    await writeFile(file, text);
    const r = await cli(
      [
        "submit",
        "--config",
        configPath,
        "--key",
        "op-k1",
        "--secret-env",
        "OP_KEY",
        "--lane",
        "manual",
        file,
      ],
      { OP_KEY: ED_PRIVATE },
    );
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { stream_id: string; lane: string };
    expect(out.lane).toBe("manual");
    const entries = await withBus(async (b) => {
      await b.ensureGroups();
      return b.readNew("cli-test-reader", 100, 0);
    });
    const entry = entries.find((e) => e.id === out.stream_id && e.lane === "manual");
    const [alg, keyId, sig] = (entry?.fields[1]?.[1].toString() ?? "").split(":");
    expect([alg, keyId]).toEqual(["ed25519", "op-k1"]);
    expect(verify(null, Buffer.from(text), ed.publicKey, Buffer.from(sig ?? "", "base64url"))).toBe(true);
  });

  it.each([
    ["the secret variable is unset", ["--key", "bot-k1", "--secret-env", "UNSET_VAR"], 78, "UNSET_VAR"],
    ["the key is not in the config", ["--key", "nope", "--secret-env", "MY_SECRET"], 64, "nope"],
    ["the key is a permit issuer's", ["--key", "gov-k1", "--secret-env", "MY_SECRET"], 64, "gov-k1"],
    ["the lane is unknown", ["--key", "bot-k1", "--secret-env", "MY_SECRET", "--lane", "side"], 64, "lane"],
  ])("fails when %s", async (_n, args, code, mention) => {
    const file = join(dir, "plan1.json");
    const r = await cli(["submit", "--config", configPath, ...args, file], { MY_SECRET: HMAC_SECRET });
    expect(r.code).toBe(code);
    expect(r.stderr).toContain(mention);
    expect(r.stderr).not.toContain(HMAC_SECRET);
  });

  it.each([
    ["bad JSON", "{not json", "plan: not a valid JSON plan"],
    [
      "an unknown field",
      '{"v":1,"plan_id":"u","source":"bot","venue":"paper","symbol":"BTCUSDT","side":"BUY","qty":"1","created_at":1700000000000,"colour":"red"}',
      "colour: not a plan field",
    ],
    [
      "a JSON number for qty",
      '{"v":1,"plan_id":"f","source":"bot","venue":"paper","symbol":"BTCUSDT","side":"BUY","qty":0.30000000000000004,"created_at":1700000000000}',
      "qty: a JSON number",
    ],
    [
      "created_at in seconds",
      '{"v":1,"plan_id":"s","source":"bot","venue":"paper","symbol":"BTCUSDT","side":"BUY","qty":"1","created_at":1700000000}',
      "created_at: 1700000000 looks like seconds",
    ],
  ])("%s exits 65 naming the field, and publishes nothing", async (_n, text, mention) => {
    const file = join(dir, "bad-plan.json");
    await writeFile(file, text);
    const before = await withBus(async (b) => {
      await b.ensureGroups();
      return (await b.readNew("cli-count", 1000, 0)).length;
    });
    const r = await cli(
      ["submit", "--config", configPath, "--key", "bot-k1", "--secret-env", "MY_SECRET", file],
      {
        MY_SECRET: HMAC_SECRET,
      },
    );
    expect(r.code).toBe(65);
    expect(r.stderr).toContain(mention);
    expect(r.stderr).toContain("nothing published");
    expect(r.stdout).toBe("");
    const after = await withBus((b) => b.readNew("cli-count", 1000, 0));
    expect(before).toBeGreaterThanOrEqual(0);
    expect(after).toEqual([]);
  });

  it("a key given for the wrong algorithm, or another key's, exits 78 without the key in the message", async () => {
    const file = join(dir, "plan1.json");
    const asHmac = await cli(
      ["submit", "--config", configPath, "--key", "bot-k1", "--secret-env", "K", file],
      {
        K: ED_PRIVATE,
      },
    );
    expect(asHmac.code).toBe(78);
    expect(asHmac.stderr).toContain("is an Ed25519 private key");
    expect(asHmac.stderr).not.toContain(ED_PRIVATE);
    const asEd = await cli(["submit", "--config", configPath, "--key", "op-k1", "--secret-env", "K", file], {
      K: Buffer.alloc(32, 7).toString("base64url"),
    });
    expect(asEd.code).toBe(78);
    expect(asEd.stderr).toContain("does not belong to key op-k1");
  });

  it("a missing plan file exits 66", async () => {
    const r = await cli(
      ["submit", "--config", configPath, "--key", "bot-k1", "--secret-env", "S", join(dir, "none.json")],
      {
        S: "x",
      },
    );
    expect(r.code).toBe(66);
  });
});

describe.concurrent("keys gen", () => {
  it.each(["ed25519", "hmac-sha256"])("%s output parses and carries a config snippet", async (alg) => {
    const r = await cli(["keys", "gen", "--alg", alg, "--key-id", "new-k1", "--source", "bot"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/warning: .*SECRET/);
    const out = JSON.parse(r.stdout) as Record<string, unknown> & {
      config: { keys: Record<string, unknown> };
    };
    expect(out).toMatchObject({ key_id: "new-k1", alg });
    expect(out.config.keys["new-k1"]).toMatchObject({ alg, source: "bot" });
    if (alg === "ed25519") {
      expect(Buffer.from(out.public_key as string, "base64url")).toHaveLength(32);
      expect(out.config.keys["new-k1"]).toMatchObject({ public_key: out.public_key });
    } else {
      expect(out.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(out.config.keys["new-k1"]).toMatchObject({ secret_env: out.secret_env });
      expect(JSON.stringify(out.config)).not.toContain(out.secret as string);
    }
  });

  it("an unknown alg is bad usage", async () => {
    expect((await cli(["keys", "gen", "--alg", "rsa", "--key-id", "k"])).code).toBe(64);
  });
});

describe.concurrent("permit issue", () => {
  it("prints a token that verifies with the issuer's public key", async () => {
    const before = Date.now();
    const r = await cli(
      [
        "permit",
        "issue",
        "--config",
        configPath,
        "--key-id",
        "gov-k1",
        "--secret-env",
        "GOV_KEY",
        "--plan-id",
        "cli-1",
        "--symbol",
        "BTCUSDT",
        "--side",
        "BUY",
        "--max-qty",
        "0.5",
        "--reduce-only",
        "--ttl-ms",
        "5000",
        "--permit-id",
        "pm-7",
      ],
      { GOV_KEY: ED_PRIVATE },
    );
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const [payload, sig] = r.stdout.trim().split(".") as [string, string];
    const pub = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: ED_PUBLIC }, format: "jwk" });
    expect(verify(null, Buffer.from(payload, "ascii"), pub, Buffer.from(sig, "base64url"))).toBe(true);
    const body = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as Record<string, unknown>;
    expect(body).toMatchObject({
      v: 1,
      permit_id: "pm-7",
      plan_id: "cli-1",
      symbol: "BTCUSDT",
      side: "BUY",
      max_qty: "0.5",
      reduce_only: true,
      iss: "gov-k1",
    });
    expect(body.exp as number).toBeGreaterThanOrEqual(before + 5000);
    expect(body.exp as number).toBeLessThan(before + 60_000);
  });

  it("works without a config given --alg (hmac), with a random permit id", async () => {
    const r = await cli(
      [
        "permit",
        "issue",
        "--alg",
        "hmac-sha256",
        "--key-id",
        "gov-h",
        "--secret-env",
        "GOV_SECRET",
        "--plan-id",
        "p",
        "--symbol",
        "ETHUSDT",
        "--side",
        "SELL",
        "--max-qty",
        "2",
      ],
      { GOV_SECRET: "governor-secret" },
    );
    expect(r.code).toBe(0);
    const [payload, sig] = r.stdout.trim().split(".") as [string, string];
    expect(sig).toBe(createHmac("sha256", "governor-secret").update(payload).digest("base64url"));
    const body = JSON.parse(Buffer.from(payload, "base64url").toString()) as {
      permit_id: string;
      reduce_only: boolean;
    };
    expect(body.permit_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(body.reduce_only).toBe(false);
  });

  it.each([
    [
      "neither --alg nor --config",
      [
        "--key-id",
        "g",
        "--secret-env",
        "E",
        "--plan-id",
        "p",
        "--symbol",
        "S",
        "--side",
        "BUY",
        "--max-qty",
        "1",
      ],
    ],
    [
      "a bad --max-qty",
      [
        "--alg",
        "ed25519",
        "--key-id",
        "g",
        "--secret-env",
        "E",
        "--plan-id",
        "p",
        "--symbol",
        "S",
        "--side",
        "BUY",
        "--max-qty",
        "1e3",
      ],
    ],
    [
      "a bad --side",
      [
        "--alg",
        "ed25519",
        "--key-id",
        "g",
        "--secret-env",
        "E",
        "--plan-id",
        "p",
        "--symbol",
        "S",
        "--side",
        "LONG",
        "--max-qty",
        "1",
      ],
    ],
    [
      "a producer key from the config",
      [
        "--config",
        "CONFIG",
        "--key-id",
        "op-k1",
        "--secret-env",
        "E",
        "--plan-id",
        "p",
        "--symbol",
        "S",
        "--side",
        "BUY",
        "--max-qty",
        "1",
      ],
    ],
  ])("%s is bad usage", async (_n, args) => {
    const r = await cli(["permit", "issue", ...args.map((a) => (a === "CONFIG" ? configPath : a))], {
      E: ED_PRIVATE,
    });
    expect(r.code).toBe(64);
  });
});

describe.concurrent("config and usage errors", () => {
  it("an invalid config exits 78 naming the field", async () => {
    const bad = join(dir, "bad.yaml");
    await writeFile(bad, toYaml({ bus: busUrl, limits: { max_notional: "-5" } }));
    const r = await cli(["state", "get", "--config", bad]);
    expect(r.code).toBe(78);
    expect(r.stderr).toMatch(/^intentgate: .*limits\.max_notional/);
    expect(r.stdout).toBe("");
  });

  it("a missing config file exits 78", async () => {
    const r = await cli(["positions", "--config", join(dir, "missing.json")]);
    expect(r.code).toBe(78);
    expect(r.stderr).toContain("missing.json");
  });

  it("the executor exits 78 on a config whose secret is missing, without starting", async () => {
    const r = await cli(["executor", "--config", configPath]);
    expect(r.code).toBe(78);
    expect(r.stderr).toContain("keys.bot-k1.secret_env");
  });

  it("watch exits 78 when its webhook URL variable is unset, naming it and not starting", async () => {
    const watchConfig = join(dir, "watch-config.yaml");
    await writeFile(
      watchConfig,
      `${await readFile(configPath, "utf8")}\nwatch:\n  sinks:\n    webhook:\n      url_env: IG_UNSET_WEBHOOK\n`,
    );
    const r = await cli(["watch", "--config", watchConfig]);
    expect(r.code).toBe(78);
    expect(r.stderr).toContain("watch.sinks.webhook.url_env");
  });

  it.each([
    [["bogus"]],
    [["state", "get"]],
    [["executor", "--config", "x", "--metrics-port", "99999"]],
    [["results", "--config", "x", "--after", "not-an-id"]],
  ])("%j exits 64", async (args) => {
    expect((await cli(args)).code).toBe(64);
  });

  it("--help exits 0", async () => {
    const r = await cli(["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Usage: intentgate");
  });
});

describe("with an executor running", () => {
  it("a submitted plan gets its result and moves the paper position; results --follow stops on SIGTERM", async () => {
    const cfg = join(dir, "e2e.json");
    const e2eBus = `sqlite:${join(dir, "e2e.db")}`;
    await writeFile(
      cfg,
      JSON.stringify({
        bus: e2eBus,
        keys: { "bot-k1": { alg: "hmac-sha256", secret_env: "BOT_SECRET", source: "bot" } },
        sources: { bot: { lanes: ["main"] } },
        venues: { paper: { prices: { BTCUSDT: "65000" } } },
        log_level: "warn",
      }),
    );
    const env = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", BOT_SECRET: HMAC_SECRET };
    const executor = spawn(
      process.execPath,
      ["--import", "tsx", MAIN, "executor", "--config", cfg, "--consumer", "e2e"],
      {
        cwd: ROOT,
        env,
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    // The executor creates the embedded bus file (producers and readers never do): wait for it.
    for (let i = 0; i < 400 && !existsSync(join(dir, "e2e.db")); i++)
      await new Promise((r) => setTimeout(r, 25));
    const follower = spawn(
      process.execPath,
      ["--import", "tsx", MAIN, "results", "--config", cfg, "--follow"],
      {
        cwd: ROOT,
        env,
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    const exited = (p: typeof executor) =>
      new Promise<number | null>((resolve) => p.once("exit", (code) => resolve(code)));
    const executorExit = exited(executor);
    const followerExit = exited(follower);
    let followed = "";
    follower.stdout.on("data", (c: Buffer) => {
      followed += c.toString();
    });
    try {
      const plan = join(dir, "e2e-plan.json");
      await writeFile(
        plan,
        JSON.stringify({
          v: 1,
          plan_id: "e2e-1",
          source: "bot",
          venue: "paper",
          symbol: "BTCUSDT",
          side: "BUY",
          qty: "0.25",
          created_at: Date.now(),
        }),
      );
      const sub = await cli(
        ["submit", "--config", cfg, "--key", "bot-k1", "--secret-env", "BOT_SECRET", plan],
        env,
      );
      expect(sub.code).toBe(0);
      const { stream_id } = JSON.parse(sub.stdout) as { stream_id: string };

      let lines: Array<Record<string, unknown>> = [];
      for (let i = 0; i < 60 && lines.length === 0; i++) {
        const r = await cli(["results", "--config", cfg]);
        lines = r.stdout
          .split("\n")
          .filter(Boolean)
          .map((l) => JSON.parse(l) as Record<string, unknown>);
        if (lines.length === 0) await new Promise((res) => setTimeout(res, 250));
      }
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({
        plan_id: "e2e-1",
        stream_id,
        decision: "EXECUTED",
        authenticated: true,
      });

      const pos = await cli(["positions", "--config", cfg]);
      expect(
        pos.stdout
          .trim()
          .split("\n")
          .map((l) => JSON.parse(l)),
      ).toEqual([{ venue: "paper", mode: "paper", account: "default", symbol: "BTCUSDT", qty: "0.25" }]);
      // filtered by book; a typo in the filter is a usage error naming the option, never an empty list
      expect((await cli(["positions", "--config", cfg, "--mode", "live"])).stdout).toBe("");
      expect((await cli(["positions", "--config", cfg, "--venue", "paper"])).stdout).toContain(
        '"qty":"0.25"',
      );
      const typo = await cli(["positions", "--config", cfg, "--mode", "lve"]);
      expect(typo.code).toBe(64);
      expect(typo.stderr).toContain("--mode");

      for (let i = 0; i < 40 && !followed.includes("e2e-1"); i++)
        await new Promise((res) => setTimeout(res, 250));
      expect(JSON.parse(followed.trim().split("\n")[0] ?? "{}")).toMatchObject({ plan_id: "e2e-1" });

      // check: the same plan_id again would certainly be denied (exit 2); a new one would not (exit 0).
      const again = await cli(
        ["check", "--config", cfg, "--key", "bot-k1", "--secret-env", "BOT_SECRET", plan],
        env,
      );
      expect(again.code).toBe(2);
      expect(JSON.parse(again.stdout)).toMatchObject({
        ok: false,
        decision: "DENIED",
        reason: "duplicate_plan_id",
        gate: 7,
      });
      expect(again.stdout).toContain("not a decision");
      const fresh = join(dir, "e2e-plan-2.json");
      await writeFile(
        fresh,
        JSON.stringify({
          v: 1,
          plan_id: "e2e-2",
          source: "bot",
          venue: "paper",
          symbol: "BTCUSDT",
          side: "SELL",
          qty: "0.05",
          created_at: Date.now(),
        }),
      );
      const ok = await cli(
        ["check", "--config", cfg, "--key", "bot-k1", "--secret-env", "BOT_SECRET", fresh],
        env,
      );
      expect(ok.code).toBe(0);
      expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, decision: null });
      // submit --check refuses the duplicate and publishes nothing; submit --wait prints the fresh plan's own result.
      const refused = await cli(
        ["submit", "--config", cfg, "--key", "bot-k1", "--secret-env", "BOT_SECRET", "--check", plan],
        env,
      );
      expect(refused.code).toBe(2);
      expect(JSON.parse(refused.stdout)).toMatchObject({ published: false, reason: "duplicate_plan_id" });
      const waited = await cli(
        ["submit", "--config", cfg, "--key", "bot-k1", "--secret-env", "BOT_SECRET", "--wait", fresh],
        env,
      );
      expect(waited.code).toBe(0);
      expect(JSON.parse(waited.stdout)).toMatchObject({
        plan_id: "e2e-2",
        decision: "EXECUTED",
        qty: "0.05",
      });
      const filtered = await cli(["results", "--config", cfg, "--plan-id", "e2e-2", "--ids"], env);
      const rows = filtered.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as { id: string; result: { plan_id: string } });
      expect(rows.map((r) => r.result.plan_id)).toEqual(["e2e-2"]);
      const later = await cli(["results", "--config", cfg, "--from", rows[0]!.id], env);
      expect(later.stdout).toBe("");
      const denied = await cli(["results", "--config", cfg, "--decision", "DENIED"], env);
      expect(denied.stdout).toBe("");
      for (const from of [
        ["--from", "now"],
        ["--after", "$"],
      ]) {
        const r = await cli(["results", "--config", cfg, ...from], env);
        expect(r, from.join(" ")).toMatchObject({ code: 0, stdout: "" });
      }
    } finally {
      executor.kill("SIGTERM");
      follower.kill("SIGTERM");
    }
    expect(await executorExit).toBe(0);
    expect(await followerExit).toBe(0);
  });
});
