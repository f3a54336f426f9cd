import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { secretStrengthProblem } from "../../../signer/secretStrength.js";
import { main } from "../main.js";

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
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "ig-cli-token-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("intentgate signer token gen", () => {
  it("prints a fresh 32-byte token the signer accepts, and both config snippets", async () => {
    const a = await run(["signer", "token", "gen", "--caller", "executor-1"]);
    const b = await run(["signer", "token", "gen", "--caller", "executor-1"]);
    expect(a.code).toBe(0);
    const [token, ...rest] = a.stdout.trim().split("\n");
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(token!, "base64url")).toHaveLength(32);
    expect(secretStrengthProblem(Buffer.from(token!))).toBeUndefined();
    expect(b.stdout.split("\n")[0]).not.toBe(token);
    const snippets = rest.filter((l) => !l.startsWith("#")).map((l) => JSON.parse(l));
    expect(snippets[0]).toEqual({
      "executor-1": {
        token_env: "IG_SIGNER_TOKEN_EXECUTOR_1",
        accounts: ["<account id>"],
        intents: ["<intent>"],
      },
    });
    expect(snippets[1]).toMatchObject({
      plane: "remote",
      caller: "executor-1",
      token_env: "IG_SIGNER_TOKEN_EXECUTOR_1",
    });
    expect(rest.join("\n")).not.toContain(token);
  });

  it("--out writes it to a new 0600 file (never over an existing one) and prints only the snippets", async () => {
    const out = join(dir, "executor-1.token");
    const r = await run(["signer", "token", "gen", "--out", out]);
    expect(r.code).toBe(0);
    const token = (await readFile(out, "utf8")).trim();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await stat(out)).mode & 0o777).toBe(0o600);
    expect(r.stdout).not.toContain(token);
    expect(r.stdout).toContain(`"token_file":"${out}"`);
    const again = await run(["signer", "token", "gen", "--out", out]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/EEXIST/);
    expect((await readFile(out, "utf8")).trim()).toBe(token);
  });
});
