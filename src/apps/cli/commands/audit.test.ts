import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openAuditLog } from "../../../signer/audit/auditLog.js";
import { main } from "../main.js";

const ROOT = fileURLToPath(new URL("../../../..", import.meta.url));
const MAIN = fileURLToPath(new URL("../main.ts", import.meta.url));

const KEY = randomBytes(32).toString("base64url");
const ENV = { IG_AUDIT_KEY: KEY };

async function run(
  args: string[],
  env: NodeJS.ProcessEnv = ENV,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = "";
  let err = "";
  stdout.on("data", (c) => {
    out += String(c);
  });
  stderr.on("data", (c) => {
    err += String(c);
  });
  const code = await main(args, { stdout, stderr, env });
  return { code, stdout: out, stderr: err };
}

let dir: string;
let good: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "ig-cli-audit-"));
  good = join(dir, "audit.jsonl");
  const log = await openAuditLog(good, { sync: "never", key: Buffer.from(KEY) });
  for (let i = 0; i < 4; i++) {
    await log.append({
      time: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
      request_id: `r-${i}`,
      caller: "executor-1",
      account: "acct1",
      intent: "cex_api_signer",
      route: "executor.binance-usdm.order",
      action: "order",
      target: { symbol: "BTCUSDT" },
      guard_context: { plan_id: `p-${i}` },
      key: "trade",
      cancel_capable: false,
      notional: null,
      reference_price: null,
      decision: "granted",
      reason: "ok",
    });
  }
  await log.close();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const verify = (path: string) => ["audit", "verify", path, "--key-env", "IG_AUDIT_KEY"];

/** Recomputes each line's `mac` as a plain SHA-256 (a forger without the key), chaining prev_mac. */
function rechainWithoutKey(lines: string[]): string[] {
  let prev = "0".repeat(64);
  return lines.map((l) => {
    const { mac: _m, ...rest } = JSON.parse(l);
    const rec = { ...rest, prev_mac: prev };
    const mac = createHash("sha256").update(JSON.stringify(rec)).digest("hex");
    prev = mac;
    return JSON.stringify({ ...rec, mac });
  });
}

describe("intentgate audit verify", () => {
  it("prints ok: N lines and exits 0 for a good log (key from --key-env or --key-file)", async () => {
    expect(await run(verify(good))).toEqual({ code: 0, stdout: "ok: 4 lines\n", stderr: "" });
    const keyFile = join(dir, "audit.key");
    await writeFile(keyFile, `${KEY}\n`, { mode: 0o600 });
    expect(await run(["audit", "verify", good, "--key-file", keyFile], {})).toEqual({
      code: 0,
      stdout: "ok: 4 lines\n",
      stderr: "",
    });
  });

  it("without the key, or with another, it cannot say ok", async () => {
    const none = await run(["audit", "verify", good], {});
    expect(none.code).toBe(64);
    expect(none.stderr).toMatch(/--key-env .*--key-file/);
    const other = await run(verify(good), { IG_AUDIT_KEY: randomBytes(32).toString("base64url") });
    expect(other).toEqual({ code: 1, stdout: "bad line 1: mac\n", stderr: "" });
  });

  it.each([
    [
      "edited",
      (ls: string[]) => ls.map((l, i) => (i === 1 ? l.replace('"r-1"', '"r-9"') : l)),
      "bad line 2: mac",
    ],
    [
      "edited and re-chained",
      (ls: string[]) =>
        rechainWithoutKey(ls.map((l, i) => (i === 1 ? l.replace('"granted"', '"denied"') : l))),
      "bad line 1: mac",
    ],
    ["deleted", (ls: string[]) => ls.filter((_, i) => i !== 1), "bad line 2: seq"],
    ["inserted", (ls: string[]) => [...ls.slice(0, 3), ls[0]!, ...ls.slice(3)], "bad line 4: seq"],
    ["reordered", (ls: string[]) => [ls[0]!, ls[2]!, ls[1]!, ls[3]!], "bad line 2: seq"],
    ["torn", (ls: string[]) => [...ls.slice(0, 3), ls[3]!.slice(0, 10)], "bad line 4: json"],
  ])("%s line: prints the first bad line and exits 1", async (name, edit, expected) => {
    const lines = (await readFile(good, "utf8")).split("\n").slice(0, -1);
    const path = join(dir, `${name}.jsonl`);
    const edited = edit(lines);
    await writeFile(path, name === "torn" ? edited.join("\n") : `${edited.join("\n")}\n`);
    expect(await run(verify(path))).toEqual({ code: 1, stdout: `${expected}\n`, stderr: "" });
  });

  it("a missing file is exit 66 with a message", async () => {
    const r = await run(verify(join(dir, "nope.jsonl")));
    expect(r.code).toBe(66);
    expect(r.stderr).toMatch(/cannot read .*nope\.jsonl \(ENOENT\)/);
  });

  it("no file argument is a usage error", async () => {
    expect((await run(["audit", "verify"])).code).toBe(64);
  });

  it("runs as a process with the right exit code", async () => {
    const path = join(dir, "proc-bad.jsonl");
    const lines = (await readFile(good, "utf8")).split("\n");
    await writeFile(path, [lines[1], lines[0], ""].join("\n"));
    const r = await new Promise<{ code: number; stdout: string }>((resolve) => {
      execFile(
        process.execPath,
        ["--import", "tsx", MAIN, ...verify(path)],
        {
          cwd: ROOT,
          env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...ENV },
          timeout: 30_000,
        },
        (err, stdout) => resolve({ code: err ? (typeof err.code === "number" ? err.code : -1) : 0, stdout }),
      );
    });
    expect(r).toEqual({ code: 1, stdout: "bad line 1: seq\n" });
  });
});

describe("intentgate audit key gen", () => {
  it("prints a 32-byte base64url key and the config snippet; --out writes a new 0600 file", async () => {
    const r = await run(["audit", "key", "gen"], {});
    expect(r.code).toBe(0);
    const [key, ...rest] = r.stdout.trim().split("\n");
    expect(key).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(key!, "base64url")).toHaveLength(32);
    expect(rest.join("\n")).toContain('"key_env":"IG_AUDIT_KEY"');
    const out = join(dir, "gen.key");
    const w = await run(["audit", "key", "gen", "--out", out], {});
    expect(w.code).toBe(0);
    expect(w.stdout).not.toMatch(/^[A-Za-z0-9_-]{43}$/m);
    const { stat } = await import("node:fs/promises");
    expect((await stat(out)).mode & 0o777).toBe(0o600);
    expect((await readFile(out, "utf8")).trim()).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await run(["audit", "key", "gen", "--out", out], {})).code).toBe(1); // never overwritten
  });
});
