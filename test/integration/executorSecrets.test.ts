/**
 * Secrets canary: an executor whose HMAC secret is a recognisable canary
 * decides valid and invalid plans (bad signature, malformed auth, unknown key,
 * unreadable plan, missing auth) at log level `trace`, goes through a refused
 * config reload and a clean stop, and a second executor fails to start on an
 * invalid config. The canary (raw, hex, base64, base64url) must appear in none
 * of their stdout or stderr, GET /metrics, or the result, DLQ or alert entries.
 */
import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, inject, it } from "vitest";
import {
  type BusKind,
  EXIT_KEY_ID,
  ExecutorHarness,
  entryFields,
  LOAD_KEY_ID,
  makePlans,
  type PlanSpec,
} from "../support/executorHarness.js";

let h: ExecutorHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** Every form of the canary a leak could take. */
function canaryForms(canary: string): string[] {
  const bytes = Buffer.from(canary, "utf8");
  const hex = bytes.toString("hex");
  const b64 = bytes.toString("base64");
  return [canary, hex, hex.toUpperCase(), b64, b64.replace(/=+$/, ""), bytes.toString("base64url")];
}

/** The forms found in `text` (case-sensitive, as the encodings are). */
function leaks(text: string, forms: readonly string[]): string[] {
  return forms.filter((f) => text.includes(f));
}

describe.each<BusKind>(["redis", "sqlite"])("secrets canary (%s)", (bus) => {
  it("the HMAC secret appears in no output and no stream entry", async () => {
    const canary = `CANARY-SECRET-${randomBytes(16).toString("hex")}`;
    const forms = canaryForms(canary);
    // The detector itself works (so the test cannot pass vacuously).
    for (const f of forms) expect(leaks(`x${f}y`, forms)).toContain(f);

    const harness = await ExecutorHarness.create({ bus, redisUrl: inject("redisUrl"), secret: canary });
    h = harness;
    const config = harness.writeConfig({ log_level: "trace", limits: { max_qty: { BTCUSDT: "1" } } });
    const [exec] = await harness.start(["canary-1"], { config, args: ["--metrics-port", "0"] });

    const specs = makePlans(40, { tag: "canary", badEvery: 5 });
    const valid = specs[0]!;
    const published = await harness.publish(specs);
    const odd: Array<[PlanSpec, Array<[string, string]>]> = [];
    const mk = (planId: string, over: Partial<PlanSpec> = {}): PlanSpec => ({ ...valid, planId, ...over });
    const malformed = mk("canary-malformed", { auth: "malformed_auth" });
    odd.push([malformed, entryFields(malformed, canary)]);
    const unknownKey = mk("canary-unknown-key");
    odd.push([
      unknownKey,
      entryFields(unknownKey, canary).map(([n, v]) => [
        n,
        n === "auth" ? v.replace(LOAD_KEY_ID, "nokey-1") : v,
      ]),
    ]);
    const wrongKey = mk("canary-source-mismatch");
    odd.push([
      wrongKey,
      entryFields(wrongKey, canary).map(([n, v]) => [
        n,
        n === "auth" ? v.replace(LOAD_KEY_ID, EXIT_KEY_ID) : v,
      ]),
    ]);
    const noAuth = mk("canary-no-auth");
    odd.push([noAuth, entryFields(noAuth, canary).filter(([n]) => n !== "auth")]);
    const broken = mk("canary-broken");
    odd.push([broken, [["plan", '{"v":1,"plan_id":'], entryFields(broken, canary)[1]!]]);
    const tooBig = mk("canary-too-big", { qty: "5", symbol: "BTCUSDT" });
    odd.push([tooBig, entryFields(tooBig, canary)]);
    const repeated = mk("canary-repeated");
    const rf = entryFields(repeated, canary);
    odd.push([repeated, [...rf, rf[1]!]]);
    const decided = [];
    for (const [spec, fields] of odd) decided.push((await harness.decide(spec, fields)).result);
    await harness.waitForResults(published.length + odd.length);
    const errors = decided.map((r) => r.error);
    expect(errors).toEqual([
      "unauthenticated:malformed_auth",
      "unauthenticated:unknown_key",
      "unauthenticated:source_mismatch", // both keys hold the canary; exit-k1 signs for another source
      "unauthenticated:missing_auth",
      expect.stringMatching(/^invalid_plan/),
      "limit:max_qty",
      expect.stringMatching(/^invalid_plan/),
    ]);
    const all = await harness.results.poll();
    const port = Number(exec!.logsWith("executor started")[0]?.metrics_port);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toContain("intentgate_decisions_total");
    expect(leaks(metrics, forms), "GET /metrics").toEqual([]);
    expect(
      all.filter((r) => r.result.error === "unauthenticated:bad_signature").length,
    ).toBeGreaterThanOrEqual(8);
    expect(all.filter((r) => r.result.decision === "EXECUTED").length).toBeGreaterThan(0);

    // A refused reload (the secret's env var name now points at nothing) and a clean stop.
    harness.writeConfig({
      log_level: "trace",
      keys: { k: { alg: "hmac-sha256", secret_env: "NOPE_ENV", source: "x" } },
    });
    exec!.kill("SIGHUP");
    await exec!.waitForLog(
      (l) => String(l.msg).startsWith("config reload refused"),
      "'config reload refused'",
    );
    expect(await exec!.stop()).toEqual({ code: 0, signal: null });

    // An executor that cannot start: its config is invalid (the canary is in its env).
    const bad = harness.spawn("canary-bad", {
      config: harness.writeConfig({ claim_idle_ms: -1, log_level: "trace" }, "bad.json"),
    });
    expect((await bad.exited).code).not.toBe(0);

    for (const p of [exec!, bad]) {
      expect(leaks(p.stdout, forms), `${p.consumer} stdout`).toEqual([]);
      expect(leaks(p.stderr, forms), `${p.consumer} stderr`).toEqual([]);
    }
    expect(exec!.stdout.length).toBeGreaterThan(1000); // it did log (trace level)
    expect(leaks(JSON.stringify(all), forms), "result entries").toEqual([]);
    if (harness.redis) {
      for (const stream of ["apply.result", "apply.dlq", "exit.alert"]) {
        const raw = JSON.stringify(
          await harness.redis.call("XRANGE", `${harness.prefix}stream:${stream}`, "-", "+"),
        );
        expect(leaks(raw, forms), stream).toEqual([]);
      }
    } else {
      const rows = harness
        .sqlite!.prepare("SELECT fields FROM ig_stream WHERE prefix = ? AND stream NOT LIKE '%apply.plan%'")
        .all(harness.prefix) as Array<{ fields: Buffer }>;
      expect(rows.length).toBeGreaterThanOrEqual(all.length);
      expect(
        leaks(rows.map((r) => Buffer.from(r.fields).toString("latin1")).join("\n"), forms),
        "streams",
      ).toEqual([]);
    }
  }, 60_000);
});

describe("bus URL credentials (redis)", () => {
  it("a password holding '@' is fully redacted wherever the URL is printed", async () => {
    const harness = await ExecutorHarness.create({ bus: "redis", redisUrl: inject("redisUrl") });
    h = harness;
    const port = new URL(harness.busUrl).port;
    const password = "Top@Secret-Canary-9f1c";
    // Reachable (the test server has no password: ioredis goes on after a warning) and unreachable.
    const reachable = harness.writeConfig({ bus: `redis://:${password}@127.0.0.1:${port}` }, "pw.json");
    const [exec] = await harness.start(["pw-1"], { config: reachable });
    const started = await exec!.ready();
    expect(started.bus).toBe(`redis://[REDACTED]@127.0.0.1:${port}`);
    const unreachable = harness.writeConfig({ bus: `redis://:${password}@127.0.0.1:1` }, "pw-down.json");
    const down = harness.spawn("pw-2", { config: unreachable });
    await down.waitForLog(
      (l) => typeof l.msg === "string" && l.msg.startsWith("bus unreachable"),
      "bus unreachable",
    );
    for (const p of [exec!, down]) {
      const out = p.stdout + p.stderr;
      for (const piece of [password, "Top@", "Secret-Canary", encodeURIComponent(password)])
        expect(out, p.describe()).not.toContain(piece);
      expect(out).toContain("[REDACTED]@127.0.0.1");
    }
  });
});
