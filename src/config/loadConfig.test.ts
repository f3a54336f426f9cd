import { createHmac, createPublicKey, generateKeyPairSync, sign, verify } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { inspect } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify as toYaml } from "yaml";
import { DEFAULT_ALERT_RULES } from "../core/alertRules/settings.js";
import { parseDecimal } from "../core/decimal.js";
import { findDuplicateKey as findDuplicateJsonKey } from "../core/strictJson.js";
import { ConfigError } from "./configError.js";
import { loadConfig, parseConfigText, readConfigFile } from "./loadConfig.js";

const CANARY = "canary-Zq8vX-very-secret-value-of-32-bytes+";

function edPublic(): string {
  const { publicKey } = generateKeyPairSync("ed25519");
  return publicKey.export({ format: "jwk" }).x as string;
}
const PUB = edPublic();
const PUB2 = edPublic();

const SPEC_EXAMPLE = {
  bus: "redis://127.0.0.1:6379",
  prefix: "intentgate:",
  exit_owner: "exitbrain_v3_5",
  require_auth: true,
  keys: {
    "exitbrain-k1": { alg: "hmac-sha256", secret_env: "IG_SECRET_EXITBRAIN", source: "exitbrain_v3_5" },
    "bridge-k1": { alg: "ed25519", public_key: PUB, source: "intent_bridge" },
    "governor-k1": { alg: "ed25519", public_key: PUB2, role: "permit_issuer" },
  },
  sources: {
    exitbrain_v3_5: { lanes: ["main"] },
    intent_bridge: { lanes: ["main"] },
    operator: { lanes: ["manual"], require_auth: false },
  },
  permits: { required: false, issuers: ["governor-k1"] },
  limits: {
    max_qty: { BTCUSDT: "5" },
    max_notional: "250000",
    rate_per_source_per_s: 200,
    max_kelly_fraction: 0.25,
    max_plan_age_ms: 30000,
    max_clock_skew_ms: 5000,
  },
  claim_idle_ms: 15000,
  max_deliveries: 10,
  venues: { paper: { prices: { BTCUSDT: "65000" } } },
  live: false,
};
const ENV = { IG_SECRET_EXITBRAIN: CANARY };

type Json = Record<string, unknown>;
const hmacKey = (extra: Json = {}): Json => ({
  alg: "hmac-sha256",
  secret_env: "S",
  source: "src",
  ...extra,
});
const edKey = (extra: Json = {}): Json => ({ alg: "ed25519", public_key: PUB, source: "src", ...extra });

async function fails(
  cfg: unknown,
  env: Record<string, string | undefined> = { S: CANARY },
): Promise<ConfigError> {
  try {
    await parseConfigText(JSON.stringify(cfg), "json", env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error("expected a ConfigError");
}

describe("defaults", () => {
  it.each(["json", "yaml"] as const)("an empty %s document gets every default", async (format) => {
    const { config, policy } = await parseConfigText(format === "json" ? "{}" : "{}\n", format, {});
    expect(config).toEqual({
      // a relative sqlite: path resolves against the config's folder (here: the working directory)
      bus: `sqlite:${resolve("./data/intentgate.db")}`,
      prefix: "intentgate:",
      require_auth: true,
      keys: {},
      sources: {},
      permits: { required: false, issuers: [] },
      limits: { max_clock_skew_ms: 5000, max_plan_age_ms: 60000, max_price_age_ms: 10000 },
      claim_idle_ms: 15000,
      max_bus_clock_skew_ms: 1000,
      max_deliveries: 10,
      batch_size: 100,
      venues: {},
      live: false,
      live_fallback: "paper",
      on_halt: "cancel",
      on_reducing: "cancel",
      reconcile_interval_ms: 2000,
      log_level: "info",
      watch: {
        interval_ms: 1000,
        lease_ms: 10000,
        rules: DEFAULT_ALERT_RULES,
        positions: {
          enabled: true,
          paper: true,
          settle_ms: 30_000,
          unreadable_repeat_ms: 300_000,
          on_drift: {},
        },
        sinks: {},
      },
    });
    expect(policy.live).toBe(false);
    expect(policy.liveEnv).toBe(false);
    expect(policy.liveFallback).toBe("paper");
    expect(policy.requireAuth).toBe(true);
    expect(policy.exitOwner).toBeUndefined();
    expect([...policy.enabledVenues]).toEqual(["paper"]);
    expect(policy.limits.maxClockSkewMs).toBe(5000);
    expect(policy.limits.maxNotional).toBeUndefined();
    expect(policy.limits.maxQty.size).toBe(0);
  });
});

describe("the wire-v1 §8 example", () => {
  it.each(["json", "yaml"] as const)("loads as %s and builds the policy", async (format) => {
    const text = format === "json" ? JSON.stringify(SPEC_EXAMPLE) : toYaml(SPEC_EXAMPLE);
    const { config, policy } = await parseConfigText(text, format, ENV);
    expect(config.bus).toBe("redis://127.0.0.1:6379");
    expect(policy.exitOwner).toBe("exitbrain_v3_5");
    expect(policy.requireAuth).toBe(true);

    const hk = policy.keys.get("exitbrain-k1");
    expect(hk?.alg).toBe("hmac-sha256");
    expect(hk?.source).toBe("exitbrain_v3_5");
    expect(hk?.role).toBe("producer");
    if (hk?.alg !== "hmac-sha256") throw new Error("unreachable");
    expect(hk.secret.expose().equals(Buffer.from(CANARY, "utf8"))).toBe(true);

    const ek = policy.keys.get("bridge-k1");
    if (ek?.alg !== "ed25519") throw new Error("expected ed25519");
    expect(ek.role).toBe("producer");
    expect(ek.publicKey.asymmetricKeyType).toBe("ed25519");
    expect(ek.publicKey.export({ format: "jwk" }).x).toBe(PUB);

    const gk = policy.keys.get("governor-k1");
    expect(gk?.role).toBe("permit_issuer");
    expect(gk?.source).toBeUndefined();

    expect([...(policy.sources.get("exitbrain_v3_5")?.lanes ?? [])]).toEqual(["main"]);
    expect(policy.sources.get("exitbrain_v3_5")?.requireAuth).toBeUndefined();
    expect(policy.sources.get("operator")?.requireAuth).toBe(false);
    expect([...policy.permits.issuers]).toEqual(["governor-k1"]);
    expect(policy.permits.required).toBe(false);
    expect(policy.limits.maxQty.get("BTCUSDT")).toBe(parseDecimal("5"));
    expect(policy.limits.maxNotional).toBe(parseDecimal("250000"));
    expect(policy.limits.ratePerSourcePerS).toBe(200);
    expect(policy.limits.maxKellyFraction).toBe(0.25);
    expect(policy.limits.maxPlanAgeMs).toBe(30000);
    expect(policy.referencePrices.get("BTCUSDT")).toBe(parseDecimal("65000"));
    expect(policy.live).toBe(false);
  });

  it("an ed25519 key from config verifies a signature made with its private key", async () => {
    const { publicKey, privateKey } = generateKeyPairSync("ed25519");
    const x = publicKey.export({ format: "jwk" }).x as string;
    const { policy } = await parseConfigText(
      JSON.stringify({ keys: { k: edKey({ public_key: x }) } }),
      "json",
      {},
    );
    const k = policy.keys.get("k");
    if (k?.alg !== "ed25519") throw new Error("expected ed25519");
    const msg = Buffer.from('{"v":1}');
    expect(verify(null, msg, k.publicKey, sign(null, msg, privateKey))).toBe(true);
  });

  it("the HMAC secret is the raw UTF-8 bytes of the value (not decoded)", async () => {
    const secret = "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"; // looks like base64, must not be decoded
    const { policy } = await parseConfigText(JSON.stringify({ keys: { k: hmacKey() } }), "json", {
      S: secret,
    });
    const k = policy.keys.get("k");
    if (k?.alg !== "hmac-sha256") throw new Error("expected hmac");
    const want = createHmac("sha256", Buffer.from(secret, "utf8")).update("x").digest();
    expect(createHmac("sha256", k.secret.expose()).update("x").digest().equals(want)).toBe(true);
  });
});

describe("rules", () => {
  const cases: Array<[string, unknown, string]> = [
    // strictness at every level
    ["unknown top-level key", { bogus: 1 }, "bogus"],
    ["unknown key in a key entry", { keys: { k: hmacKey({ colour: "red" }) } }, "keys.k.colour"],
    ["inline secret", { keys: { k: hmacKey({ secret: CANARY }) } }, "keys.k.secret"],
    ["unknown key in a source", { sources: { s: { lanes: ["main"], lane: "x" } } }, "sources.s.lane"],
    ["unknown key in permits", { permits: { requried: true } }, "permits.requried"],
    ["unknown key in limits", { limits: { max_qtty: {} } }, "limits.max_qtty"],
    ["unknown venue", { venues: { kraken: {} } }, "venues.kraken"],
    ["unknown key in venues.paper", { venues: { paper: { prices: {}, fee: "1" } } }, "venues.paper.fee"],
    [
      "a Binance read-only API key given both ways",
      {
        venues: {
          "binance-usdm": {
            base_url: "https://demo-fapi.binance.com",
            accounts: { a: { api_key_env: "K", read_api_key_env: "R", read_api_key_file: "r.key" } },
          },
        },
      },
      "venues.binance-usdm.accounts.a.read_api_key_env",
    ],
    [
      "binance-usdm not yet configurable",
      { venues: { "binance-usdm": { api_key_env: "X" } } },
      "venues.binance-usdm.api_key_env",
    ],
    ["polymarket not yet configurable", { venues: { polymarket: { x: 1 } } }, "venues.polymarket.x"],
    // scalars
    ["bus scheme", { bus: "postgres://x" }, "bus"],
    ["empty prefix", { prefix: "" }, "prefix"],
    ["require_auth as string", { require_auth: "false" }, "require_auth"],
    ["live as string", { live: "true" }, "live"],
    ["claim_idle_ms zero", { claim_idle_ms: 0 }, "claim_idle_ms"],
    [
      "max_bus_clock_skew_ms zero (the guard cannot be turned off)",
      { max_bus_clock_skew_ms: 0 },
      "max_bus_clock_skew_ms",
    ],
    ["max_bus_clock_skew_ms above a day", { max_bus_clock_skew_ms: 86_400_001 }, "max_bus_clock_skew_ms"],
    ["max_deliveries fractional", { max_deliveries: 1.5 }, "max_deliveries"],
    ["batch_size too large", { batch_size: 1_000_000 }, "batch_size"],
    ["metrics_port out of range", { metrics_port: 70000 }, "metrics_port"],
    ["log_level unknown", { log_level: "verbose" }, "log_level"],
    ["exit_owner empty", { exit_owner: "" }, "exit_owner"],
    // keys
    ["alg unknown", { keys: { k: hmacKey({ alg: "rsa" }) } }, "keys.k.alg"],
    ["key id with a colon", { keys: { "a:b": hmacKey() } }, "keys.a:b"],
    ["hmac without secret", { keys: { k: { alg: "hmac-sha256", source: "src" } } }, "keys.k.secret_env"],
    [
      "hmac with both secret_env and secret_file",
      { keys: { k: hmacKey({ secret_file: "/x" }) } },
      "keys.k.secret_file",
    ],
    ["hmac with a public_key", { keys: { k: hmacKey({ public_key: PUB }) } }, "keys.k.public_key"],
    ["secret_env not a variable name", { keys: { k: hmacKey({ secret_env: "A-B" }) } }, "keys.k.secret_env"],
    ["ed25519 without public_key", { keys: { k: { alg: "ed25519", source: "src" } } }, "keys.k.public_key"],
    ["ed25519 public_key padded", { keys: { k: edKey({ public_key: `${PUB}=` }) } }, "keys.k.public_key"],
    [
      "ed25519 public_key standard base64",
      { keys: { k: edKey({ public_key: `${PUB.slice(0, 42)}+` }) } },
      "keys.k.public_key",
    ],
    [
      "ed25519 public_key 31 bytes",
      { keys: { k: edKey({ public_key: Buffer.alloc(31, 7).toString("base64url") }) } },
      "keys.k.public_key",
    ],
    [
      "ed25519 public_key 33 bytes",
      { keys: { k: edKey({ public_key: Buffer.alloc(33, 7).toString("base64url") }) } },
      "keys.k.public_key",
    ],
    ["ed25519 public_key hex", { keys: { k: edKey({ public_key: "ab".repeat(32) }) } }, "keys.k.public_key"],
    ["ed25519 with secret_env", { keys: { k: edKey({ secret_env: "S" }) } }, "keys.k.secret_env"],
    ["producer key without source", { keys: { k: { alg: "ed25519", public_key: PUB } } }, "keys.k.source"],
    ["issuer key with source", { keys: { k: edKey({ role: "permit_issuer" }) } }, "keys.k.source"],
    ["unknown role", { keys: { k: edKey({ role: "admin" }) } }, "keys.k.role"],
    // sources
    ["source without lanes", { sources: { s: {} } }, "sources.s.lanes"],
    ["source with empty lanes", { sources: { s: { lanes: [] } } }, "sources.s.lanes"],
    ["source with unknown lane", { sources: { s: { lanes: ["side"] } } }, "sources.s.lanes.0"],
    [
      "source require_auth as string",
      { sources: { s: { lanes: ["main"], require_auth: "no" } } },
      "sources.s.require_auth",
    ],
    // permits
    ["issuer names no key", { permits: { issuers: ["nope"] } }, "permits.issuers.0"],
    ["issuer is a producer key", { keys: { k: edKey() }, permits: { issuers: ["k"] } }, "permits.issuers.0"],
    ["permits.required as string", { permits: { required: "yes" } }, "permits.required"],
    // limits
    ["max_qty with exponent", { limits: { max_qty: { BTCUSDT: "1e5" } } }, "limits.max_qty.BTCUSDT"],
    ["max_qty negative", { limits: { max_qty: { BTCUSDT: "-1" } } }, "limits.max_qty.BTCUSDT"],
    ["max_qty zero", { limits: { max_qty: { BTCUSDT: "0.000" } } }, "limits.max_qty.BTCUSDT"],
    ["max_qty as number", { limits: { max_qty: { BTCUSDT: 5 } } }, "limits.max_qty.BTCUSDT"],
    ["max_notional 19 decimals", { limits: { max_notional: `1.${"1".repeat(19)}` } }, "limits.max_notional"],
    ["max_notional leading zero", { limits: { max_notional: "01" } }, "limits.max_notional"],
    ["rate zero", { limits: { rate_per_source_per_s: 0 } }, "limits.rate_per_source_per_s"],
    ["rate fractional", { limits: { rate_per_source_per_s: 2.5 } }, "limits.rate_per_source_per_s"],
    ["kelly above 1", { limits: { max_kelly_fraction: 1.5 } }, "limits.max_kelly_fraction"],
    ["kelly negative", { limits: { max_kelly_fraction: -0.1 } }, "limits.max_kelly_fraction"],
    ["max_plan_age_ms negative", { limits: { max_plan_age_ms: -1 } }, "limits.max_plan_age_ms"],
    ["max_clock_skew_ms negative", { limits: { max_clock_skew_ms: -1 } }, "limits.max_clock_skew_ms"],
    ["daily cap not a decimal", { limits: { max_daily_notional: 5e6 } }, "limits.max_daily_notional"],
    [
      "daily cap per account negative",
      { limits: { max_daily_notional: { "*": "-1" } } },
      "limits.max_daily_notional.*",
    ],
    ["open orders zero", { limits: { max_open_orders: 0 } }, "limits.max_open_orders"],
    [
      "open orders per account fractional",
      { limits: { max_open_orders: { a: 1.5 } } },
      "limits.max_open_orders",
    ],
    // venues
    [
      "paper price invalid",
      { venues: { paper: { prices: { BTCUSDT: "65,000" } } } },
      "venues.paper.prices.BTCUSDT",
    ],
    // secrets
    ["secret_env unset", { keys: { k: hmacKey({ secret_env: "NOT_SET_ANYWHERE" }) } }, "keys.k.secret_env"],
    ["secret_env empty", { keys: { k: hmacKey({ secret_env: "EMPTY" }) } }, "keys.k.secret_env"],
    [
      "secret_file unreadable",
      { keys: { k: { alg: "hmac-sha256", secret_file: "/nonexistent/ig-secret", source: "s" } } },
      "keys.k.secret_file",
    ],
  ];

  it.each(cases)("%s → names %s", async (_name, cfg, field) => {
    const err = await fails(cfg, { S: CANARY, EMPTY: "" });
    expect(err.issues.map((i) => i.field)).toContain(field);
    expect(err.message).toContain(field);
    expect(err.message).not.toContain(CANARY);
  });

  it.each(cases)("%s → also rejected as YAML", async (_name, cfg, field) => {
    await expect(parseConfigText(toYaml(cfg), "yaml", { S: CANARY, EMPTY: "" })).rejects.toMatchObject({
      name: "ConfigError",
      issues: expect.arrayContaining([expect.objectContaining({ field })]),
    });
  });

  const LIVE_VENUES = {
    "binance-usdm": { base_url: "https://demo-fapi.binance.com", accounts: { a1: { api_key_env: "BK" } } },
    polymarket: {
      base_url: "https://clob.polymarket.com",
      accounts: {
        u1: {
          api_key_env: "PK",
          passphrase_file: "pp.txt",
          address: "0x0000000000000000000000000000000000000001",
        },
      },
    },
  };
  const REMOTE = { plane: "remote", socket: "/run/ig/signer.sock", caller: "executor-1", token_env: "TOK" };

  it("enables the configured live venues, with their defaults", async () => {
    const { policy, config } = await parseConfigText(
      JSON.stringify({ venues: LIVE_VENUES, live: true, signing: REMOTE }),
      "json",
      {},
    );
    expect([...policy.enabledVenues].sort()).toEqual(["binance-usdm", "paper", "polymarket"]);
    expect(policy.live).toBe(true);
    expect(config.venues["binance-usdm"]?.recv_window_ms).toBe(5000);
    expect(config.venues.polymarket?.order_version).toBe("2");
    expect(config.venues.polymarket?.chain_id).toBe(137);
    expect(config.signing).toEqual({ ...REMOTE, timeout_ms: 2000 });
  });

  it("the live guard's second key is INTENTGATE_LIVE=1 exactly", async () => {
    for (const [value, armed] of [
      ["1", true],
      ["true", false],
      ["0", false],
      ["", false],
      [undefined, false],
    ] as const) {
      const { policy } = await parseConfigText("{}", "json", { INTENTGATE_LIVE: value });
      expect(policy.liveEnv, String(value)).toBe(armed);
    }
  });

  it("live: true with a live venue needs a signing section; the local plane refuses live", async () => {
    expect((await fails({ venues: LIVE_VENUES, live: true })).issues.map((i) => i.field)).toEqual([
      "signing",
    ]);
    const local = { plane: "local", signer_config: "signer.yaml", caller: "dev" };
    expect(
      (await fails({ venues: LIVE_VENUES, live: true, signing: local })).issues.map((i) => i.field),
    ).toEqual(["signing.plane"]);
    // without live, the local plane is fine (paper fallback, development)
    await parseConfigText(JSON.stringify({ venues: LIVE_VENUES, signing: local }), "json", {});
  });

  it("venue credentials are never inline: exactly one of <name>_env and <name>_file", async () => {
    const err = await fails({
      venues: {
        "binance-usdm": { base_url: "https://x.test", accounts: { a1: { api_key: "inline" } } },
        polymarket: {
          base_url: "https://y.test",
          accounts: {
            u1: {
              api_key_env: "A",
              api_key_file: "f",
              passphrase_env: "P",
              address: "0x0000000000000000000000000000000000000001",
            },
          },
        },
      },
    });
    expect(err.issues.map((i) => i.field).sort()).toEqual([
      "venues.binance-usdm.accounts.a1.api_key",
      "venues.binance-usdm.accounts.a1.api_key_env",
      "venues.polymarket.accounts.u1.api_key_env",
    ]);
  });

  it("reports every problem, not just the first", async () => {
    const err = await fails({ bogus: 1, live: "x", limits: { max_notional: "-1" } });
    expect(err.issues.map((i) => i.field).sort()).toEqual(["bogus", "limits.max_notional", "live"]);
  });

  it("reports every missing secret", async () => {
    const err = await fails(
      { keys: { a: hmacKey({ secret_env: "A" }), b: hmacKey({ secret_env: "B" }) } },
      {},
    );
    expect(err.issues.map((i) => i.field)).toEqual(["keys.a.secret_env", "keys.b.secret_env"]);
  });
});

describe("parsing", () => {
  it.each([
    ["JSON", '{"live": false, "live": true}', "json", "live"],
    [
      "nested JSON",
      '{"limits": {"max_qty": {"BTCUSDT": "1", "BTCUSDT": "9"}}}',
      "json",
      "limits.max_qty.BTCUSDT",
    ],
    ["YAML", "live: false\nlive: true\n", "yaml", "<file>"],
  ] as const)("a repeated key in %s is an error", async (_n, text, format, field) => {
    await expect(parseConfigText(text, format, {})).rejects.toMatchObject({
      field,
      message: expect.stringContaining("repeated key"),
    });
  });

  it("finds repeated keys only within one object", () => {
    expect(
      findDuplicateJsonKey('{"a":{"x":1},"b":{"x":2},"c":[{"x":1},{"x":2}],"d":"\\"x\\""}'),
    ).toBeUndefined();
    expect(findDuplicateJsonKey('{"c":[{"x":1},{"x":2,"x":3}]}')).toBe("c.1.x");
  });

  it.each([
    ["JSON", `{"keys": {"k": ${CANARY}}}`, "json"],
    ["YAML", `keys:\n  k: [${CANARY}\n bad: indentation`, "yaml"],
  ] as const)("a %s syntax error names the file and never quotes the text", async (_n, text, format) => {
    try {
      await parseConfigText(text, format, {});
      throw new Error("expected failure");
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      const ce = e as ConfigError;
      expect(ce.field).toBe("<file>");
      expect(ce.message).toMatch(/line \d+, column \d+/);
      expect(ce.message).not.toContain(CANARY);
    }
  });

  it("a top-level array is rejected", async () => {
    await expect(parseConfigText("[]", "json", {})).rejects.toMatchObject({ field: "<root>" });
  });
});

describe("files and environment", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "ig-config-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it.each([
    ["a.yaml", (c: unknown) => toYaml(c)],
    ["a.yml", (c: unknown) => toYaml(c)],
    ["a.json", (c: unknown) => JSON.stringify(c)],
    ["a.conf", (c: unknown) => JSON.stringify(c)],
  ])("loads %s by extension", async (name, render) => {
    const file = join(dir, name);
    await writeFile(file, render({ ...SPEC_EXAMPLE, log_level: "debug" }));
    const loaded = await loadConfig(file, ENV);
    expect(loaded.config.log_level).toBe("debug");
    expect(loaded.path).toBe(file);
  });

  it("YAML in a .json file is a JSON syntax error", async () => {
    const file = join(dir, "yaml-in.json");
    await writeFile(file, "live: false\n");
    await expect(loadConfig(file, {})).rejects.toMatchObject({
      field: "<file>",
      message: expect.stringContaining("JSON"),
    });
  });

  it("a missing config file is a ConfigError", async () => {
    await expect(loadConfig(join(dir, "missing.yaml"), {})).rejects.toMatchObject({
      name: "ConfigError",
      field: "<file>",
      message: expect.stringContaining("ENOENT"),
    });
  });

  it("secret_file is read (one trailing newline dropped), relative to the config file", async () => {
    await writeFile(join(dir, "hmac.secret"), `${CANARY}\n`);
    const file = join(dir, "secret-file.yaml");
    await writeFile(
      file,
      toYaml({ keys: { k: { alg: "hmac-sha256", secret_file: "hmac.secret", source: "s" } } }),
    );
    const { policy } = await loadConfig(file, {});
    const k = policy.keys.get("k");
    if (k?.alg !== "hmac-sha256") throw new Error("expected hmac");
    expect(k.secret.expose().toString("utf8")).toBe(CANARY);
  });

  it("readConfigFile validates strictly but loads no secret (for tools that only need the bus)", async () => {
    const file = join(dir, "tools.yaml");
    await writeFile(file, toYaml(SPEC_EXAMPLE));
    const config = await readConfigFile(file);
    expect(config.keys["exitbrain-k1"]).toEqual(SPEC_EXAMPLE.keys["exitbrain-k1"]);
    expect(Object.isFrozen(config.keys)).toBe(true);
    await expect(loadConfig(file, {})).rejects.toMatchObject({ field: "keys.exitbrain-k1.secret_env" });
    await writeFile(file, toYaml({ ...SPEC_EXAMPLE, lve: true }));
    await expect(readConfigFile(file)).rejects.toMatchObject({ field: "lve" });
    await expect(readConfigFile(join(dir, "nope.yml"))).rejects.toMatchObject({ field: "<file>" });
  });

  it("an empty secret_file is an error", async () => {
    await writeFile(join(dir, "empty.secret"), "\n");
    const file = join(dir, "empty-secret.json");
    await writeFile(
      file,
      JSON.stringify({ keys: { k: { alg: "hmac-sha256", secret_file: "empty.secret", source: "s" } } }),
    );
    await expect(loadConfig(file, {})).rejects.toMatchObject({ field: "keys.k.secret_file" });
  });

  it.each([
    [{ INTENTGATE_EXIT_OWNER: "intent_bridge" }, "intent_bridge"],
    [{ INTENTGATE_EXIT_OWNER: "" }, "exitbrain_v3_5"],
    [{}, "exitbrain_v3_5"],
  ])("INTENTGATE_EXIT_OWNER %j → exit owner %s", async (extra, owner) => {
    const { policy, config } = await parseConfigText(JSON.stringify(SPEC_EXAMPLE), "json", {
      ...ENV,
      ...extra,
    });
    expect(policy.exitOwner).toBe(owner);
    expect(config.exit_owner).toBe("exitbrain_v3_5");
  });

  it("the env override applies with no exit_owner in the file", async () => {
    const cfg = { sources: { x: { lanes: ["main"] } } };
    const { policy } = await parseConfigText(JSON.stringify(cfg), "json", { INTENTGATE_EXIT_OWNER: "x" });
    expect(policy.exitOwner).toBe("x");
  });
});

describe("weak or wrong keys are refused (wire-v1 §8)", () => {
  it("exit_owner naming no configured source (a typo) is a config error naming exit_owner", async () => {
    const err = await fails({ ...SPEC_EXAMPLE, exit_owner: "exitbrain_v3_6" }, ENV);
    expect(err.issues).toEqual([
      expect.objectContaining({ field: "exit_owner", message: expect.stringContaining("exitbrain_v3_6") }),
    ]);
  });

  it("INTENTGATE_EXIT_OWNER naming no configured source is refused too", async () => {
    const err = await fails(SPEC_EXAMPLE, { ...ENV, INTENTGATE_EXIT_OWNER: "nobody" });
    expect(err.issues).toEqual([
      expect.objectContaining({
        field: "exit_owner",
        message: expect.stringContaining("INTENTGATE_EXIT_OWNER"),
      }),
    ]);
  });

  it.each([
    ["a 1-byte secret", "x"],
    ["a 31-byte secret", "a".repeat(31)],
  ])("an HMAC key with %s is refused, naming the key and never the secret", async (_name, secret) => {
    const err = await fails({ keys: { k: hmacKey() }, sources: { src: { lanes: ["main"] } } }, { S: secret });
    expect(err.issues).toEqual([
      expect.objectContaining({ field: "keys.k.secret_env", message: expect.stringContaining("32 bytes") }),
    ]);
    expect(err.message).not.toContain(secret.length > 1 ? secret : '"x"');
  });

  it("a 32-byte HMAC secret is accepted, from a file as from the environment", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ig-key32-"));
    try {
      await writeFile(join(dir, "k.secret"), `${"b".repeat(32)}\n`);
      const cfg = {
        keys: { k: { ...hmacKey(), secret_env: undefined, secret_file: "k.secret" } },
        sources: { src: { lanes: ["main"] } },
      };
      const { policy } = await parseConfigText(JSON.stringify(cfg), "json", {}, { baseDir: dir });
      expect(policy.keys.get("k")?.alg).toBe("hmac-sha256");
      await writeFile(join(dir, "k.secret"), "short\n");
      const err = await parseConfigText(JSON.stringify(cfg), "json", {}, { baseDir: dir }).catch((e) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).issues[0]?.field).toBe("keys.k.secret_file");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  // The eight small-order points of Ed25519 (the identity first), canonically encoded.
  const SMALL_ORDER = [
    "0100000000000000000000000000000000000000000000000000000000000000",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000080",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
  ].map((hex) => Buffer.from(hex, "hex").toString("base64url"));

  it.each(SMALL_ORDER.map((k, i) => [i, k]))(
    "small-order point #%i as a producer or issuer key is refused",
    async (_i, key) => {
      for (const cfg of [
        { keys: { k: edKey({ public_key: key }) }, sources: { src: { lanes: ["main"] } } },
        {
          keys: { g: { alg: "ed25519", public_key: key, role: "permit_issuer" } },
          permits: { issuers: ["g"] },
        },
      ]) {
        const err = await fails(cfg, {});
        expect(err.issues).toEqual([
          expect.objectContaining({ message: expect.stringMatching(/small-order|canonical/) }),
        ]);
        expect(err.issues[0]?.field).toMatch(/^keys\.(k|g)\.public_key$/);
      }
    },
  );

  it("the identity key would let a permit be forged without any private key (why it is refused)", () => {
    // R = identity, S = 0: the verification equation holds for every message under A = identity.
    const identity = Buffer.from(SMALL_ORDER[0]!, "base64url");
    const forged = Buffer.concat([identity, Buffer.alloc(32)]);
    const key = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: SMALL_ORDER[0]! }, format: "jwk" });
    expect(verify(null, Buffer.from("any permit payload"), key, forged)).toBe(true);
  });

  it("the account caps take wire-v1's one value for every account, or a value per account with `*`", async () => {
    const one = await parseConfigText(
      JSON.stringify({ limits: { max_daily_notional: "5000000", max_open_orders: 50 } }),
      "json",
      {},
    );
    expect([...one.policy.limits.maxDailyNotional]).toEqual([["*", 5_000_000n * 10n ** 18n]]);
    expect([...one.policy.limits.maxOpenOrders]).toEqual([["*", 50]]);
    const each = await parseConfigText(
      JSON.stringify({
        limits: { max_daily_notional: { big: "9", "*": "1.5" }, max_open_orders: { big: 3 } },
      }),
      "json",
      {},
    );
    expect(each.policy.limits.maxDailyNotional.get("big")).toBe(9n * 10n ** 18n);
    expect(each.policy.limits.maxDailyNotional.get("*")).toBe(15n * 10n ** 17n);
    expect([...each.policy.limits.maxOpenOrders]).toEqual([["big", 3]]);
  });

  it("max_plan_age_ms defaults to 60000, so created_at in seconds is stale", async () => {
    const { policy } = await parseConfigText("{}", "json", {});
    expect(policy.limits.maxPlanAgeMs).toBe(60000);
  });

  it("a relative sqlite: path resolves against the config file's folder, wherever the process runs", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ig-busdir-"));
    try {
      const path = join(dir, "c.json");
      await writeFile(path, JSON.stringify({ bus: "sqlite:./data/bus.db" }));
      expect((await readConfigFile(path)).bus).toBe(`sqlite:${join(dir, "data", "bus.db")}`);
      expect((await loadConfig(path, {})).config.bus).toBe(`sqlite:${join(dir, "data", "bus.db")}`);
      await writeFile(path, JSON.stringify({ bus: "sqlite:/abs/bus.db" }));
      expect((await readConfigFile(path)).bus).toBe("sqlite:/abs/bus.db");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("secrets never leak", () => {
  it("neither util.inspect nor JSON of the loaded config holds the secret", async () => {
    const loaded = await parseConfigText(JSON.stringify(SPEC_EXAMPLE), "json", ENV);
    const dumps = [
      inspect(loaded, { depth: Number.POSITIVE_INFINITY, showHidden: false }),
      inspect(loaded.policy.keys, { depth: Number.POSITIVE_INFINITY }),
      JSON.stringify(loaded, (_k, v) =>
        v instanceof Map || v instanceof Set ? [...v] : typeof v === "bigint" ? String(v) : v,
      ),
      String(
        loaded.policy.keys.get("exitbrain-k1") &&
          (loaded.policy.keys.get("exitbrain-k1") as { secret: unknown }).secret,
      ),
    ];
    for (const d of dumps) {
      expect(d).not.toContain(CANARY);
      expect(d).not.toContain(Buffer.from(CANARY).toString("hex"));
      expect(d).not.toContain(Buffer.from(CANARY).toString("base64"));
    }
    expect(dumps[0]).toContain("[REDACTED]");
  });

  it("no error message quotes the secret, whatever else is wrong", async () => {
    const bad = [
      { ...SPEC_EXAMPLE, live: "yes" },
      {
        ...SPEC_EXAMPLE,
        keys: { ...SPEC_EXAMPLE.keys, x: { alg: "hmac-sha256", secret: CANARY, source: "s" } },
      },
      { ...SPEC_EXAMPLE, keys: { x: { alg: CANARY, secret_env: "IG_SECRET_EXITBRAIN", source: "s" } } },
      { ...SPEC_EXAMPLE, keys: { x: { alg: "ed25519", public_key: CANARY, source: "s" } } },
      { ...SPEC_EXAMPLE, prefix: { [CANARY]: 1 } },
    ];
    for (const cfg of bad) {
      const err = await fails(cfg, ENV);
      expect(err.message).not.toContain(CANARY);
      expect(inspect(err)).not.toContain(CANARY);
      expect(JSON.stringify(err.issues)).not.toContain(CANARY);
    }
  });
});

describe("immutability", () => {
  it("the policy and config cannot be changed", async () => {
    const { policy, config } = await parseConfigText(JSON.stringify(SPEC_EXAMPLE), "json", ENV);
    expect(Object.isFrozen(policy)).toBe(true);
    expect(Object.isFrozen(policy.limits)).toBe(true);
    expect(() => (policy.keys as Map<string, unknown>).set("x", {})).toThrow(TypeError);
    expect(() => (policy.keys as Map<string, unknown>).delete("bridge-k1")).toThrow(TypeError);
    expect(() => (policy.enabledVenues as Set<string>).add("polymarket")).toThrow(TypeError);
    expect(() => (policy.permits.issuers as Set<string>).clear()).toThrow(TypeError);
    expect(() => (policy.limits.maxQty as unknown as Map<string, bigint>).set("ETHUSDT", 1n)).toThrow(
      TypeError,
    );
    expect(() => {
      (config as { live: boolean }).live = true;
    }).toThrow(TypeError);
    expect(policy.keys.size).toBe(3);
  });
});

describe("watch", () => {
  it.each([
    [
      "both url_env and url_file",
      { sinks: { webhook: { url_env: "A", url_file: "b" } } },
      "watch.sinks.webhook",
    ],
    ["neither", { sinks: { webhook: {} } }, "watch.sinks.webhook"],
    ["a lease shorter than 3 intervals", { interval_ms: 1000, lease_ms: 2000 }, "watch.lease_ms"],
    ["an unknown rule setting", { rules: { deny_burst: { treshold: 3 } } }, "watch.rules.deny_burst"],
    ["a command with no program", { sinks: { command: { argv: [] } } }, "watch.sinks.command.argv"],
    [
      "a drift action that does not exist",
      { positions: { on_drift: { "*": "panic" } } },
      "watch.positions.on_drift.*",
    ],
    [
      "a drift scope naming no venue",
      { positions: { on_drift: { kraken: "halt" } } },
      "watch.positions.on_drift",
    ],
    ["a settle time of zero", { positions: { settle_ms: 0 } }, "watch.positions.settle_ms"],
  ])("%s is refused naming the field", async (_n, watch, field) => {
    const err = await fails({ watch });
    expect(err.issues.map((i) => i.field).join(" ")).toContain(field);
  });
});
