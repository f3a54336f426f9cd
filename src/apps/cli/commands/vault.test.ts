import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { Command } from "commander";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CliRun, runCli } from "../../../../test/support/runCli.js";
import { Vault } from "../../../signer/vault/vault.js";
import { CliError, type CliIo } from "./common.js";
import { addVaultCommands, readHiddenLine } from "./vault.js";

const cli = (args: string[], env: Record<string, string> = {}): Promise<CliRun> =>
  runCli(["vault", ...args], env);

const PASS = "cli passphrase 1";
const NEW_PASS = "cli passphrase 2";
const CANARY = "CANARY-cli-hmac-5e1d";
const PK_HEX = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";
const PK_ADDRESS = "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23";

function forms(s: Buffer): string[] {
  return [s.toString("utf8"), s.toString("hex"), s.toString("base64"), s.toString("base64url")];
}
const LEAKS = [...forms(Buffer.from(CANARY)), ...forms(Buffer.from(PK_HEX, "hex")), PASS, NEW_PASS];

function expectNoLeak(...texts: string[]): void {
  for (const t of texts) for (const f of LEAKS) expect(t).not.toContain(f);
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "ig-vault-cli-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("intentgate vault (child process)", () => {
  it("init / add / list / remove / passwd with env and file passphrases", async () => {
    const file = join(dir, "v.json");
    const passFile = join(dir, "pass.txt");
    await writeFile(passFile, `${PASS}\n`, { mode: 0o600 });
    const env = { VAULT_PASS: PASS, HMAC_SECRET: CANARY, PK: `0x${PK_HEX}`, NEW_PASS };
    const runs: CliRun[] = [];
    const run = async (args: string[]) => {
      const r = await cli(args, env);
      runs.push(r);
      return r;
    };

    const init = await run(["init", "--file", file, "--passphrase-env", "VAULT_PASS"]);
    expect(init).toMatchObject({ code: 0, stdout: "" });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await run(["init", "--file", file, "--passphrase-env", "VAULT_PASS"])).code).toBe(1);

    const addH = await run([
      "add",
      "--file",
      file,
      "--passphrase-file",
      passFile,
      "--id",
      "acct-1:binance",
      "--kind",
      "hmac",
      "--secret-env",
      "HMAC_SECRET",
    ]);
    expect(addH.code).toBe(0);
    expect(JSON.parse(addH.stdout)).toMatchObject({ id: "acct-1:binance", kind: "hmac" });

    const addK = await run([
      "add",
      "--file",
      file,
      "--passphrase-env",
      "VAULT_PASS",
      "--id",
      "acct-1:poly",
      "--kind",
      "secp256k1",
      "--secret-env",
      "PK",
    ]);
    expect(addK.code).toBe(0);
    expect(JSON.parse(addK.stdout)).toMatchObject({
      id: "acct-1:poly",
      kind: "secp256k1",
      address: PK_ADDRESS,
    });

    const addG = await run([
      "add",
      "--file",
      file,
      "--passphrase-env",
      "VAULT_PASS",
      "--id",
      "gen",
      "--kind",
      "secp256k1",
      "--generate",
    ]);
    expect(addG.code).toBe(0);
    const gen = JSON.parse(addG.stdout);
    expect(gen.address).toMatch(/^0x[0-9a-fA-F]{40}$/);

    const list = await run(["list", "--file", file, "--passphrase-env", "VAULT_PASS", "--verify"]);
    expect(list.code).toBe(0);
    const lines = list.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.id, l.kind, l.address])).toEqual([
      ["acct-1:binance", "hmac", undefined],
      ["acct-1:poly", "secp256k1", PK_ADDRESS],
      ["gen", "secp256k1", gen.address],
    ]);
    for (const l of lines)
      expect(Object.keys(l).sort()).toEqual(
        l.address ? ["address", "created_at", "id", "kind"] : ["created_at", "id", "kind"],
      );

    const rm1 = await run(["remove", "--file", file, "--passphrase-env", "VAULT_PASS", "--id", "gen"]);
    expect(rm1).toMatchObject({ code: 0, stdout: "" });
    const rm2 = await run(["remove", "--file", file, "--passphrase-env", "VAULT_PASS", "--id", "gen"]);
    expect(rm2.code).toBe(64);
    expect(rm2.stderr).toMatch(/^intentgate: vault entry "gen" not found/);

    const pw = await run([
      "passwd",
      "--file",
      file,
      "--passphrase-env",
      "VAULT_PASS",
      "--new-passphrase-env",
      "NEW_PASS",
    ]);
    expect(pw.code).toBe(0);
    const old = await run(["list", "--file", file, "--passphrase-env", "VAULT_PASS"]);
    expect(old.code).toBe(1);
    expect(old.stderr).toMatch(/^intentgate: vault .*: wrong passphrase\n$/);
    const now = await run(["list", "--file", file, "--passphrase-env", "NEW_PASS"]);
    expect(now.code).toBe(0);
    expect(now.stdout.trim().split("\n")).toHaveLength(2);

    // the secrets survived the passphrase change
    const v = await Vault.open(file, NEW_PASS);
    const h = await v.reveal("acct-1:binance");
    expect(h.kind === "hmac" && h.secret.expose().toString()).toBe(CANARY);
    const k = await v.reveal("acct-1:poly");
    expect(k.kind === "secp256k1" && k.privateKey.expose().toString("hex")).toBe(PK_HEX);

    expectNoLeak(await readFile(file, "utf8"), ...runs.flatMap((r) => [r.stdout, r.stderr]));
    expect((await readdir(dir)).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  }, 120_000);

  it("hmac secrets from a file with --encoding base64 / hex; bad encodings are exit 65 without echo", async () => {
    const file = join(dir, "enc.json");
    const env = { VAULT_PASS: PASS, BAD: `zz${CANARY}` };
    expect((await cli(["init", "--file", file, "--passphrase-env", "VAULT_PASS"], env)).code).toBe(0);
    const raw = Buffer.from([0, 1, 2, 250, 255]);
    const b64File = join(dir, "s.b64");
    await writeFile(b64File, `${raw.toString("base64")}\n`);
    const hexFile = join(dir, "s.hex");
    await writeFile(hexFile, raw.toString("hex"));
    const a = await cli(
      [
        "add",
        "--file",
        file,
        "--passphrase-env",
        "VAULT_PASS",
        "--id",
        "b64",
        "--kind",
        "hmac",
        "--secret-file",
        b64File,
        "--encoding",
        "base64",
      ],
      env,
    );
    expect(a.code).toBe(0);
    const b = await cli(
      [
        "add",
        "--file",
        file,
        "--passphrase-env",
        "VAULT_PASS",
        "--id",
        "hex",
        "--kind",
        "hmac",
        "--secret-file",
        hexFile,
        "--encoding",
        "hex",
      ],
      env,
    );
    expect(b.code).toBe(0);
    const bad = await cli(
      [
        "add",
        "--file",
        file,
        "--passphrase-env",
        "VAULT_PASS",
        "--id",
        "bad",
        "--kind",
        "hmac",
        "--secret-env",
        "BAD",
        "--encoding",
        "hex",
      ],
      env,
    );
    expect(bad.code).toBe(65);
    expect(bad.stderr).toBe("intentgate: --secret-env BAD: not valid hex\n");
    const badKey = await cli(
      [
        "add",
        "--file",
        file,
        "--passphrase-env",
        "VAULT_PASS",
        "--id",
        "k",
        "--kind",
        "secp256k1",
        "--secret-env",
        "BAD",
      ],
      env,
    );
    expect(badKey.code).toBe(65);
    expectNoLeak(bad.stderr, badKey.stderr);

    const v = await Vault.open(file, PASS);
    for (const id of ["b64", "hex"]) {
      const r = await v.reveal(id);
      expect(r.kind === "hmac" && r.secret.expose().equals(raw)).toBe(true);
    }
  }, 60_000);

  it("usage and data errors: no passphrase on a non-TTY, missing env, wrong sources, corrupted and missing files", async () => {
    const file = join(dir, "err.json");
    const env = { VAULT_PASS: PASS, S: CANARY };
    const noPass = await cli(["init", "--file", file], env);
    expect(noPass.code).toBe(64);
    expect(noPass.stderr).toMatch(
      /^intentgate: no passphrase: give --passphrase-env NAME or --passphrase-file PATH/,
    );
    expect((await cli(["init", "--file", file, "--passphrase-env", "UNSET"], env)).code).toBe(78);
    expect(
      (await cli(["init", "--file", file, "--passphrase-env", "VAULT_PASS", "--passphrase-file", "x"], env))
        .code,
    ).toBe(64);
    expect(
      (await cli(["list", "--file", join(dir, "missing.json"), "--passphrase-env", "VAULT_PASS"], env)).code,
    ).toBe(66);
    expect((await cli(["init", "--file", file, "--passphrase-file", join(dir, "no-such")], env)).code).toBe(
      66,
    );

    expect((await cli(["init", "--file", file, "--passphrase-env", "VAULT_PASS"], env)).code).toBe(0);
    const add = (extra: string[]) =>
      cli(["add", "--file", file, "--passphrase-env", "VAULT_PASS", "--id", "x", ...extra], env);
    expect((await add(["--kind", "hmac"])).code).toBe(64); // no source
    expect((await add(["--kind", "hmac", "--secret-env", "S", "--generate"])).code).toBe(64);
    expect((await add(["--kind", "hmac", "--generate"])).code).toBe(64);
    expect((await add(["--kind", "rsa", "--secret-env", "S"])).code).toBe(64);
    expect((await add(["--kind", "hmac", "--secret-env", "S"])).code).toBe(0);
    const dup = await add(["--kind", "hmac", "--secret-env", "S"]);
    expect(dup.code).toBe(64);
    expect(dup.stderr).toBe('intentgate: vault entry "x" already exists\n');

    const doc = JSON.parse(await readFile(file, "utf8"));
    const ct = Buffer.from(doc.entries[0].ct, "base64");
    ct[0] = (ct[0] as number) ^ 0x80;
    doc.entries[0].ct = ct.toString("base64");
    await writeFile(file, JSON.stringify(doc));
    const listed = await cli(["list", "--file", file, "--passphrase-env", "VAULT_PASS"], env);
    expect(listed.code).toBe(0); // list reads metadata only
    const verified = await cli(["list", "--file", file, "--passphrase-env", "VAULT_PASS", "--verify"], env);
    expect(verified.code).toBe(65);
    expect(verified.stderr).toBe(
      'intentgate: vault entry "x" failed authentication (corrupted or tampered)\n',
    );

    await writeFile(file, "{ truncated");
    const garbage = await cli(["list", "--file", file, "--passphrase-env", "VAULT_PASS"], env);
    expect(garbage.code).toBe(65);
    expect(garbage.stderr).toMatch(/^intentgate: vault .*: not valid JSON/);
    expectNoLeak(noPass.stderr, dup.stderr, verified.stderr, garbage.stderr, listed.stdout);
  }, 120_000);
});

describe("vault passphrase prompt (in process)", () => {
  function tty(): PassThrough & { isTTY: boolean } {
    return Object.assign(new PassThrough(), { isTTY: true });
  }
  function sink(): { stream: PassThrough; text: () => string } {
    const stream = new PassThrough();
    const chunks: Buffer[] = [];
    stream.on("data", (c: Buffer) => chunks.push(c));
    return { stream, text: () => Buffer.concat(chunks).toString() };
  }

  it("reads a line without echoing it", async () => {
    const input = tty();
    const out = sink();
    const p = readHiddenLine(input, out.stream, "Passphrase: ");
    input.write("s3cret-typed\r");
    expect(await p).toBe("s3cret-typed");
    expect(out.text()).toBe("Passphrase: \n");
  });

  it("EOF before a line is a usage error", async () => {
    const input = tty();
    const p = readHiddenLine(input, sink().stream, "Passphrase: ");
    input.end();
    await expect(p).rejects.toBeInstanceOf(CliError);
  });

  it("init and list prompt on a terminal (init asks twice)", async () => {
    const file = join(dir, "prompt.json");
    const stdout = sink();
    const stderr = sink();
    const io: CliIo = { stdout: stdout.stream, stderr: stderr.stream, env: {} };
    const run = async (args: string[], lines: string[]) => {
      const input = tty();
      const program = new Command("intentgate").exitOverride();
      addVaultCommands(program, io, { stdin: input });
      const done = program.parseAsync(["vault", ...args], { from: "user" });
      for (const l of lines) {
        await new Promise((r) => setTimeout(r, 20));
        input.write(`${l}\n`);
      }
      await done;
    };
    await run(["init", "--file", file], ["typed pass", "typed pass"]);
    expect((await Vault.open(file, "typed pass")).list()).toEqual([]);
    await expect(run(["init", "--file", join(dir, "p2.json")], ["one", "two"])).rejects.toThrow(
      "the passphrases do not match",
    );
    await run(["list", "--file", file], ["typed pass"]);
    expect(stderr.text()).not.toContain("typed pass");
    expect(stderr.text()).toContain("New passphrase for");
  });
});
