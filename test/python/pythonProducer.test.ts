/**
 * The Python producer package (python/): its own unittest suite against the
 * test Redis, an offline `pip install`, and the cross-language cases against a
 * real executor (the CLI, as a child process) on the test Redis: plans signed
 * in Python (HMAC, and ed25519 with the key `intentgate keys gen` printed) are
 * EXECUTED on the paper venue, permits issued in Python are accepted by an
 * executor that requires permits, Python waits for its own result by
 * (lane, stream_id) among others' results and parses it, and a float qty, a
 * `created_at` in seconds and an unknown field are refused in Python with
 * nothing published. Signatures and permits are compared byte for byte with
 * the TypeScript SDK.
 *
 * The interpreter: /usr/bin/python3 when it exists and can `import redis`
 * (Debian's python3-redis), else `python3`; neither: the tests fail (never skip).
 */
import { spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { ResultEntry } from "../../src/ports/bus.js";
import { generateKeyMaterial } from "../../src/sdk/generateKeys.js";
import { issuePermit } from "../../src/sdk/issuePermit.js";
import { PlanPublisher } from "../../src/sdk/planPublisher.js";
import { signPlan } from "../../src/sdk/signPlan.js";
import { ExecutorHarness, makePlans, ROOT } from "../support/executorHarness.js";
import { runCli } from "../support/runCli.js";
import { uniquePrefix } from "../support/uniquePrefix.js";

const PY_DIR = join(ROOT, "python");
const DRIVER = join(PY_DIR, "tests", "interop.py");

/** /usr/bin/python3 if it can import redis, else python3 if it can; else a clear failure. */
function pickPython(): string {
  const candidates = existsSync("/usr/bin/python3") ? ["/usr/bin/python3", "python3"] : ["python3"];
  const tried: string[] = [];
  for (const exe of candidates) {
    const r = spawnSync(exe, ["-c", "import redis"], { encoding: "utf8" });
    if (r.status === 0) return exe;
    tried.push(`${exe}: ${r.error?.message ?? r.stderr.trim().split("\n").pop()}`);
  }
  throw new Error(
    `no Python interpreter with the redis package (install Debian's python3-redis and python3-cryptography; .ci/run does): ${tried.join("; ")}`,
  );
}

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a child to its end without blocking the event loop (the executors' output must keep flowing). */
function run(
  exe: string,
  args: readonly string[],
  opts: { input?: string; cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(exe, args, { cwd: opts.cwd ?? ROOT, env: opts.env ?? process.env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString("utf8");
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString("utf8");
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 120_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(opts.input ?? "");
  });
}

let python = "";
beforeAll(() => {
  python = pickPython();
});

/** One request to python/tests/interop.py; fails the test on a crash. */
async function py(request: Record<string, unknown>): Promise<Record<string, unknown>> {
  const r = await run(python, [DRIVER], {
    input: JSON.stringify(request),
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1" },
    timeoutMs: 90_000,
  });
  expect(r.code, r.stderr).toBe(0);
  const out = JSON.parse(r.stdout) as Record<string, unknown>;
  if (out.crash !== undefined) throw new Error(`python driver crashed:\n${String(out.crash)}`);
  return out;
}

describe("python package", () => {
  it("its unittest suite passes against the test Redis: every test ran, none skipped", async () => {
    const defined = readdirSync(join(PY_DIR, "tests"))
      .filter((f) => /^test_.*\.py$/.test(f))
      .reduce(
        (n, f) => n + (readFileSync(join(PY_DIR, "tests", f), "utf8").match(/^ {4}def test_/gm)?.length ?? 0),
        0,
      );
    const r = await run(python, ["-m", "unittest", "discover", "-s", "tests", "-t", ".", "-v"], {
      cwd: PY_DIR,
      env: { ...process.env, IG_TEST_REDIS_URL: inject("redisUrl"), PYTHONDONTWRITEBYTECODE: "1" },
    });
    const ran = Number(/^Ran (\d+) tests? in/m.exec(r.stderr)?.[1] ?? -1);
    console.log(`[python] ${python}: ${ran} unittest tests ran`);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^OK$/m); // "OK (skipped=N)" would mean a test did not run
    expect(defined).toBeGreaterThanOrEqual(40);
    expect(ran).toBe(defined);
  });

  it("installs offline with pip (--no-index --no-deps --no-build-isolation --target) and imports from there", async () => {
    const withPip = ["python3", "/usr/bin/python3"].find(
      (exe) => spawnSync(exe, ["-m", "pip", "--version"], { encoding: "utf8" }).status === 0,
    );
    if (withPip === undefined)
      throw new Error("neither python3 nor /usr/bin/python3 has pip (Debian: python3-pip)");
    const dir = mkdtempSync(join(tmpdir(), "ig-pip-"));
    try {
      cpSync(PY_DIR, join(dir, "src"), { recursive: true, filter: (p) => !p.includes("__pycache__") });
      const env = { ...process.env, PIP_NO_INDEX: "1", PIP_DISABLE_PIP_VERSION_CHECK: "1" };
      const site = join(dir, "site");
      const install = await run(
        withPip,
        [
          "-m",
          "pip",
          "install",
          "--no-index",
          "--no-deps",
          "--no-build-isolation",
          "--target",
          site,
          join(dir, "src"),
        ],
        { cwd: dir, env },
      );
      expect(install.code, `${install.stdout}\n${install.stderr}`).toBe(0);
      const meta = readFileSync(join(site, "intentgate_producer-0.1.0.dist-info", "METADATA"), "utf8");
      expect(meta).toContain("Requires-Dist: redis>=4.3");
      const smoke = [
        "import sys; sys.path.insert(0, sys.argv[1])",
        "import intentgate_producer as ig",
        "assert ig.__file__.startswith(sys.argv[1]), ig.__file__",
        "k = ig.HmacKey('k1', 'x' * 32)",
        "print(ig.sign_plan(ig.build_plan(plan_id='p', source='s', symbol='X', side='BUY', qty='1'), k).auth.split(':')[0])",
      ].join("\n");
      const r = await run(python, ["-c", smoke, site], { cwd: dir });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.trim()).toBe("hmac-sha256");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("python and the TypeScript SDK sign byte for byte alike", () => {
  const texts = [
    '{"v":1,"plan_id":"x-1","source":"py_src","venue":"paper","symbol":"BTCUSDT","side":"BUY","qty":"0.3","created_at":1700000000000}',
    ' {"v":1,"plan_id":"x-2","source":"py_src","venue":"paper","symbol":"BTC€😀","side":"SELL","qty":"0.000000000000000001","created_at":1700000000000,"meta":{"why":"naïve \\u00e9","kelly_fraction":0.25}}\n',
  ];

  it.each(["hmac-sha256", "ed25519"] as const)("%s plan signatures", async (alg) => {
    const m = generateKeyMaterial(alg, "py-k1", "py_src");
    const keysGen =
      m.alg === "ed25519"
        ? {
            key_id: m.keyId,
            alg: m.alg,
            private_key: m.privateKey,
            public_key: m.publicKey,
            config: m.config,
          }
        : { key_id: m.keyId, alg: m.alg, secret: m.secret, secret_env: m.secretEnv, config: m.config };
    const key =
      m.alg === "ed25519"
        ? { keyId: m.keyId, alg: m.alg, privateKey: m.privateKey }
        : { keyId: m.keyId, alg: m.alg, secret: m.secret };
    const out = (await py({ op: "sign", key: keysGen, plans: texts })) as {
      signed: Array<{ plan: string; auth: string }>;
    };
    expect(out.signed).toEqual(texts.map((plan) => signPlan({ plan, key })));
  });

  it("a plan object serialises to JSON.stringify's text", async () => {
    const plan = {
      v: 1,
      plan_id: "x-3",
      source: "py_src",
      venue: "paper",
      symbol: "BTC€",
      side: "BUY",
      type: "LIMIT",
      qty: "1.5",
      price: "65000.25",
      reduce_only: false,
      created_at: 1700000000000,
      meta: { note: 'quote " and \\ and \u0001 and é', nested: { a: [1, "b", null, true] } },
    };
    expect(((await py({ op: "plan_text", plan })) as { text: string }).text).toBe(JSON.stringify(plan));
  });

  it.each(["hmac-sha256", "ed25519"] as const)("%s permits", async (alg) => {
    const m = generateKeyMaterial(alg, "gov-k1");
    const keysGen =
      m.alg === "ed25519"
        ? {
            key_id: m.keyId,
            alg: m.alg,
            private_key: m.privateKey,
            public_key: m.publicKey,
            config: m.config,
          }
        : { key_id: m.keyId, alg: m.alg, secret: m.secret, secret_env: m.secretEnv, config: m.config };
    const key =
      m.alg === "ed25519"
        ? { keyId: m.keyId, alg: m.alg, privateKey: m.privateKey }
        : { keyId: m.keyId, alg: m.alg, secret: m.secret };
    const payload = {
      permit_id: "pm-1",
      plan_id: "x-1",
      symbol: "BTC€",
      side: "SELL" as const,
      max_qty: "1.5",
      reduce_only: true,
      exp: 1764864060000,
    };
    const out = (await py({ op: "permit", key: keysGen, args: payload })) as { token: string };
    expect(out.token).toBe(issuePermit(payload, key));
  });
});

describe("python against a real executor (Redis, paper venue, permits required)", () => {
  let h: ExecutorHarness;
  let producerHmac: Record<string, unknown>;
  let producerEd: Record<string, unknown>;
  let govHmac: Record<string, unknown>;
  let govEd: Record<string, unknown>;
  const redisUrl = () => h.busUrl;

  /** `intentgate keys gen` output, as a producer receives it. */
  async function keysGen(args: string[]): Promise<Record<string, unknown>> {
    const r = await runCli(["keys", "gen", ...args]);
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as Record<string, unknown>;
  }

  beforeAll(async () => {
    h = await ExecutorHarness.create({ bus: "redis", redisUrl: inject("redisUrl") });
    producerEd = await keysGen(["--alg", "ed25519", "--key-id", "py-ed", "--source", "py_src"]);
    govEd = await keysGen(["--alg", "ed25519", "--key-id", "gov-ed"]);
    producerHmac = await keysGen(["--alg", "hmac-sha256", "--key-id", "py-hmac", "--source", "py_src"]);
    govHmac = await keysGen(["--alg", "hmac-sha256", "--key-id", "gov-hmac"]);
    const snippets = [producerEd, govEd, producerHmac, govHmac].map(
      (k) => (k.config as { keys: Record<string, unknown> }).keys,
    );
    const base = h.config();
    const config = h.writeConfig({
      keys: Object.assign({ ...(base.keys as object) }, ...snippets),
      sources: { ...(base.sources as object), py_src: { lanes: ["main", "manual"] } },
      permits: { required: true, issuers: ["gov-ed", "gov-hmac"] },
    });
    const env = h.childEnv({
      [producerHmac.secret_env as string]: producerHmac.secret as string,
      [govHmac.secret_env as string]: govHmac.secret as string,
    });
    await h.start(["py-exec-1"], { config, env });
  }, 60_000);

  afterAll(async () => {
    await h?.close();
  });

  const permitFor = (gov: Record<string, unknown>, planId: string, symbol: string, qty: string) => ({
    key: gov,
    args: { plan_id: planId, symbol, side: "BUY", max_qty: qty, permit_id: `pm-${planId}` },
  });

  it("plans signed in Python (hmac, and ed25519 from `keys gen`) with Python permits are EXECUTED; Python finds and parses its own results among others'", async () => {
    const tag = uniquePrefix("py").split(":")[1]!;
    const noise = h.publish(makePlans(60, { tag: `noise-${tag}` }), { burst: 10, pauseMs: 20 });
    const hmacPlans = [
      {
        plan_id: `${tag}-h1`,
        source: "py_src",
        venue: "paper",
        account: "py-acct",
        symbol: "BTCUSDT",
        side: "BUY",
        qty: "0.3",
      },
      {
        plan_id: `${tag}-h2`,
        source: "py_src",
        venue: "paper",
        account: "py-acct",
        symbol: "ETHUSDT",
        side: "BUY",
        qty: "1.000000000000000001",
      },
      {
        plan_id: `${tag}-h3`,
        source: "py_src",
        venue: "paper",
        account: "py-acct",
        symbol: "SOLUSDT",
        side: "BUY",
        qty: "2",
        type: "LIMIT",
        price: "150.5",
      },
    ];
    const hmacRun = py({
      op: "submit",
      redis_url: redisUrl(),
      prefix: h.prefix,
      key: producerHmac,
      plans: hmacPlans,
      permits: Object.fromEntries(
        hmacPlans.map((p, i) => [
          p.plan_id,
          permitFor(i % 2 === 0 ? govHmac : govEd, p.plan_id, p.symbol, p.qty),
        ]),
      ),
    });
    const edPlans = [
      {
        plan_id: `${tag}-e1`,
        source: "py_src",
        venue: "paper",
        account: "py-acct",
        symbol: "BTCUSDT",
        side: "BUY",
        qty: "0.5",
      },
    ];
    const edRun = py({
      op: "submit",
      redis_url: redisUrl(),
      prefix: h.prefix,
      key: producerEd,
      lane: "manual",
      plans: edPlans,
      permits: { [`${tag}-e1`]: permitFor(govEd, `${tag}-e1`, "BTCUSDT", "0.5") },
    });
    const outs = await Promise.all([hmacRun, edRun]);
    await noise;
    const cases: Array<[Record<string, unknown>, Array<Record<string, string>>, string, string]> = [
      [outs[0], hmacPlans, "main", "hmac-sha256"],
      [outs[1], edPlans, "manual", "ed25519"],
    ];
    for (const [out, plans, lane, alg] of cases) {
      expect(out.error, JSON.stringify(out.error)).toBeUndefined();
      const published = out.published as Array<{
        lane: string;
        stream_id: string;
        plan_id: string;
        plan: string;
      }>;
      const results = out.results as Array<{
        entry_id: string;
        raw: Record<string, unknown>;
        parsed: Record<string, unknown>;
      }>;
      expect(published.map((p) => p.plan_id)).toEqual(plans.map((p) => p.plan_id));
      for (const [i, pub] of published.entries()) {
        const mine: ResultEntry = await h.waitForResult(pub.lane as "main" | "manual", pub.stream_id);
        // Python read exactly the executor's result for its own entry, and parsed it.
        expect(results[i]!.entry_id).toBe(mine.id);
        expect(results[i]!.raw).toEqual(mine.result);
        expect(results[i]!.parsed).toMatchObject({
          stream_id: pub.stream_id,
          lane,
          decision: "EXECUTED",
          error: null,
          executed: true,
          authenticated: true,
          plan_id: plans[i]!.plan_id,
          qty: plans[i]!.qty,
          fill_qty: plans[i]!.qty,
          reason_code: null,
          reconciled: false,
          mode: "paper",
          order_id: `paper:${lane}:${pub.stream_id}`,
        });
        // The entry on the stream carries what Python signed, with its algorithm.
        const [[, fields]] = (await h.redis!.xrange(
          h.streamKey(lane as "main" | "manual"),
          pub.stream_id,
          pub.stream_id,
        )) as [[string, string[]]];
        expect(fields[0]).toBe("plan");
        expect(fields[1]).toBe(pub.plan);
        expect(fields[3]!.startsWith(`${alg}:`)).toBe(true);
      }
    }
    // The noise got results of its own (denied: it carries no permit), none of which Python took.
    const all = await h.results.poll();
    expect(all.filter((r) => r.result.error === "permit_required").length).toBeGreaterThanOrEqual(60);
  }, 120_000);

  it("the executor really checks the permits: none is permit_required, too small a max_qty is permit_mismatch:max_qty", async () => {
    const tag = uniquePrefix("py").split(":")[1]!;
    const plans = [
      { plan_id: `${tag}-n1`, source: "py_src", venue: "paper", symbol: "BTCUSDT", side: "BUY", qty: "0.1" },
      { plan_id: `${tag}-n2`, source: "py_src", venue: "paper", symbol: "BTCUSDT", side: "BUY", qty: "0.2" },
    ];
    const out = await py({
      op: "submit",
      redis_url: redisUrl(),
      prefix: h.prefix,
      key: producerHmac,
      plans,
      permits: { [`${tag}-n2`]: permitFor(govHmac, `${tag}-n2`, "BTCUSDT", "0.1") },
    });
    const results = out.results as Array<{ parsed: Record<string, unknown> }>;
    expect(results.map((r) => [r.parsed.decision, r.parsed.error, r.parsed.authenticated])).toEqual([
      ["DENIED", "permit_required", true],
      ["DENIED", "permit_mismatch:max_qty", true],
    ]);
  }, 60_000);

  it.each([
    ["a float qty (0.1 + 0.2)", { qty: 0.1 + 0.2 }, "qty", /float/],
    ["a created_at in seconds", { created_at: Math.floor(Date.now() / 1000) }, "created_at", /seconds/],
    ["an unknown field", { reduceOnly: true }, "reduceOnly", /not a plan field/],
  ])(
    "%s is refused in Python with a clear error, and nothing is published",
    async (_n, bad, field, message) => {
      const lengths = async () =>
        Promise.all([h.redis!.xlen(h.streamKey("main")), h.redis!.xlen(h.streamKey("manual"))]);
      const before = await lengths();
      const plan = {
        plan_id: "refused-1",
        source: "py_src",
        venue: "paper",
        symbol: "BTCUSDT",
        side: "BUY",
        qty: "0.1",
        ...bad,
      };
      for (const lane of ["main", "manual"]) {
        const out = await py({
          op: "submit",
          redis_url: redisUrl(),
          prefix: h.prefix,
          key: producerHmac,
          plans: [plan],
          lane,
        });
        const error = out.error as { type: string; field: string; message: string };
        expect(error).toMatchObject({ type: "PlanError", field });
        expect(error.message).toMatch(message);
      }
      expect(await lengths()).toEqual(before);
    },
    60_000,
  );
});

describe("python and the TypeScript SDK publishing the same plan_ids at once (Redis, one executor)", () => {
  let h: ExecutorHarness;
  let producer: Record<string, unknown>;

  beforeAll(async () => {
    h = await ExecutorHarness.create({ bus: "redis", redisUrl: inject("redisUrl") });
    const r = await runCli(["keys", "gen", "--alg", "hmac-sha256", "--key-id", "py-k", "--source", "py_src"]);
    producer = JSON.parse(r.stdout) as Record<string, unknown>;
    const base = h.config();
    const config = h.writeConfig({
      keys: { ...(base.keys as object), ...(producer.config as { keys: object }).keys },
      sources: {
        ...(base.sources as object),
        py_src: { lanes: ["main"] },
        ts_open: { lanes: ["main"], require_auth: false },
      },
    });
    await h.start(["py-mixed-1"], {
      config,
      env: h.childEnv({ [producer.secret_env as string]: producer.secret as string }),
    });
  }, 60_000);

  afterAll(async () => {
    await h?.close();
  });

  it("1,000 plans: 500 signed in Python, 500 unsigned from TypeScript under the same plan_ids; each gets its own result", async () => {
    const tag = uniquePrefix("mix").split(":")[1]!;
    const ids = Array.from({ length: 500 }, (_, i) => `${tag}-${i}`);
    const fromTs = new PlanPublisher({ bus: h.backend });
    const tsResults = Promise.all(
      ids.map((plan_id) =>
        fromTs.publishAndWait(
          { plan_id, source: "ts_open", symbol: "BTCUSDT", side: "SELL", qty: "0.002" },
          { timeoutMs: 120_000 },
        ),
      ),
    );
    const out = await py({
      op: "submit",
      redis_url: h.busUrl,
      prefix: h.prefix,
      key: producer,
      plans: ids.map((plan_id) => ({
        plan_id,
        source: "py_src",
        venue: "paper",
        symbol: "BTCUSDT",
        side: "BUY",
        qty: "0.001",
      })),
      timeout: 120,
    });
    const published = out.published as Array<{ stream_id: string; plan_id: string }>;
    const results = out.results as Array<{ parsed: Record<string, unknown> }>;
    expect(results).toHaveLength(500);
    results.forEach((r, i) => {
      expect(r.parsed).toMatchObject({
        stream_id: published[i]!.stream_id,
        plan_id: ids[i],
        decision: "EXECUTED",
        authenticated: true,
        qty: "0.001",
      });
    });
    const ts = await tsResults;
    ts.forEach((r, i) => {
      expect(r).toMatchObject({
        plan_id: ids[i],
        source: "ts_open",
        authenticated: false,
        decision: "EXECUTED",
        qty: "0.002",
      });
    });
    const streamIds = new Set([...published.map((p) => p.stream_id), ...ts.map((r) => r.stream_id)]);
    expect(streamIds.size).toBe(1000);
  }, 180_000);
});
