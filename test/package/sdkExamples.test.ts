/**
 * The SDK's TSDoc examples are run, as written, against a real executor on
 * the embedded bus: each ```ts block under an `@example` tag in `src/sdk/`
 * becomes a module that imports the package's public entry, and each line
 * `expr; // => VALUE` asserts that `expr` equals the JSON `VALUE`. The
 * examples' free names are the context a reader would have: `bus` (an open
 * bus), `secret` (the `bridge-k1` HMAC secret), `configPath` (the
 * executor's config) and `privateKey` (an Ed25519 private key, base64url).
 */
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PlanPublisher } from "../../src/sdk/planPublisher.js";
import { ExecutorHarness } from "../support/executorHarness.js";

const ROOT = resolve(import.meta.dirname, "../..");
const SDK = join(ROOT, "src", "sdk");
const SECRET_ENV = "IG_EXAMPLE_BRIDGE_SECRET";

/** Every `@example` block of the SDK's sources, with where it is. */
function examples(): Array<{ where: string; code: string }> {
  const out: Array<{ where: string; code: string }> = [];
  for (const file of readdirSync(SDK)
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"))
    .sort()) {
    const text = readFileSync(join(SDK, file), "utf8");
    for (const m of text.matchAll(/\* @example\n\s*\* ```ts\n([\s\S]*?)\n\s*\* ```/g)) {
      const code = (m[1] as string)
        .split("\n")
        .map((l) => l.replace(/^\s*\* ?/, ""))
        .join("\n");
      out.push({ where: `src/sdk/${file}`, code });
    }
  }
  return out;
}

/** `expr; // => VALUE` → an assertion; everything else as written. */
function withAssertions(code: string): string {
  return code
    .split("\n")
    .map((line) => {
      const m = /^(\s*)(.+?);\s*\/\/ => (.+)$/.exec(line);
      return m ? `${m[1]}__expectEqual(${m[2]}, ${m[3]}, ${JSON.stringify(m[2])});` : line;
    })
    .join("\n");
}

describe("the SDK's TSDoc examples run as written (embedded bus, a real executor)", () => {
  let h: ExecutorHarness;
  let dir: string;
  let context: Record<string, unknown>;
  const secret = `bridge-secret-${"x".repeat(32)}`;

  beforeAll(async () => {
    h = await ExecutorHarness.create({ bus: "sqlite" });
    const configPath = h.writeConfig({
      keys: { "bridge-k1": { alg: "hmac-sha256", secret_env: SECRET_ENV, source: "bridge" } },
      sources: { bridge: { lanes: ["main"] } },
      exit_owner: "bridge",
    });
    await h.start(["examples-1"], { config: configPath, env: h.childEnv({ [SECRET_ENV]: secret }) });
    const privateKey = generateKeyPairSync("ed25519")
      .privateKey.export({ format: "der", type: "pkcs8" })
      .toString("base64url");
    context = { bus: h.backend, secret, configPath, privateKey };
    // One executed result for the examples that read results.
    await new PlanPublisher({
      bus: h.backend,
      key: { keyId: "bridge-k1", alg: "hmac-sha256", secret },
    }).publishAndWait({
      source: "bridge",
      symbol: "BTCUSDT",
      side: "BUY",
      qty: "0.01",
    });
    dir = mkdtempSync(join(tmpdir(), "ig-examples-"));
  }, 60_000);

  afterAll(async () => {
    await h?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it("finds the examples it runs", () => {
    expect(examples().map((e) => e.where)).toEqual(
      expect.arrayContaining([
        "src/sdk/planInput.ts",
        "src/sdk/planPublisher.ts",
        "src/sdk/prechecker.ts",
        "src/sdk/permitIssuer.ts",
        "src/sdk/resultReader.ts",
      ]),
    );
    expect(withAssertions('x; // => "a"')).toBe('__expectEqual(x, "a", "x");');
  });

  it.each(examples().map((e, i) => [e.where, i, e.code] as const))(
    "%s (#%i)",
    async (where, i, code) => {
      const entry = pathToFileURL(join(ROOT, "src", "index.ts")).href;
      const names = Object.keys(await import(entry));
      const file = join(dir, `example-${i}.ts`);
      writeFileSync(
        file,
        [
          `import { ${names.join(", ")} } from ${JSON.stringify(entry)};`,
          "export default async function run(ctx: any, __expectEqual: (a: unknown, b: unknown, what: string) => void) {",
          "  const { bus, secret, configPath, privateKey } = ctx;",
          withAssertions(code),
          "}",
        ].join("\n"),
      );
      const mod = (await import(pathToFileURL(file).href)) as {
        default: (ctx: unknown, check: (a: unknown, b: unknown, what: string) => void) => Promise<void>;
      };
      let asserted = 0;
      await mod.default(context, (actual, wanted, what) => {
        asserted++;
        expect(actual, `${where}: ${what}`).toEqual(wanted);
      });
      expect(asserted, `${where}: an example with no "// =>" line proves nothing`).toBeGreaterThan(0);
    },
    60_000,
  );
});
