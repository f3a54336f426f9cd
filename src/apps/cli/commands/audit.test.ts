import { execFile } from "node:child_process";
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

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
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
  const code = await main(args, { stdout, stderr, env: {} });
  return { code, stdout: out, stderr: err };
}

let dir: string;
let good: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "ig-cli-audit-"));
  good = join(dir, "audit.jsonl");
  const log = await openAuditLog(good, { sync: "never" });
  for (let i = 0; i < 4; i++) {
    await log.append({
      time: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
      request_id: `r-${i}`,
      caller: "executor-1",
      account: "acct1",
      intent: "cex_api_signer",
      route: "executor.binance-usdm.order",
      target_keys: ["symbol"],
      guard_context_keys: ["plan_id"],
      decision: "granted",
      reason: "ok",
    });
  }
  await log.close();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("intentgate audit verify", () => {
  it("prints ok: N lines and exits 0 for a good log", async () => {
    expect(await run(["audit", "verify", good])).toEqual({ code: 0, stdout: "ok: 4 lines\n", stderr: "" });
  });

  it.each([
    [
      "edited",
      (ls: string[]) => ls.map((l, i) => (i === 1 ? l.replace('"r-1"', '"r-9"') : l)),
      "bad line 2: hash",
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
    expect(await run(["audit", "verify", path])).toEqual({ code: 1, stdout: `${expected}\n`, stderr: "" });
  });

  it("a missing file is exit 66 with a message", async () => {
    const r = await run(["audit", "verify", join(dir, "nope.jsonl")]);
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
        ["--import", "tsx", MAIN, "audit", "verify", path],
        { cwd: ROOT, env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "" }, timeout: 30_000 },
        (err, stdout) => resolve({ code: err ? (typeof err.code === "number" ? err.code : -1) : 0, stdout }),
      );
    });
    expect(r).toEqual({ code: 1, stdout: "bad line 1: seq\n" });
  });
});
