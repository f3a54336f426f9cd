import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError } from "./configError.js";
import {
  CredentialError,
  type CredentialRef,
  readConfigCredential,
  readSecret,
  withCredential,
} from "./readCredential.js";

const CANARY = "cred-canary-7f3a9c1e5b";
const FIELDS = { envField: "x.secret_env", fileField: "x.secret_file" } as const;
const isRoot = typeof process.getuid === "function" && process.getuid() === 0;

/** Runs `fn` with the effective uid of `nobody` when this process is root, then takes root back. */
async function asNobodyIfRoot<T>(fn: () => Promise<T>): Promise<T> {
  if (!isRoot || process.seteuid === undefined) return fn();
  process.seteuid(65534);
  try {
    return await fn();
  } finally {
    process.seteuid(0);
  }
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "ig-cred-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The error `ref` fails with (the test fails when it reads). */
async function failure(ref: CredentialRef): Promise<CredentialError> {
  const err = await withCredential(ref, () => "read").catch((e: unknown) => e);
  expect(err).toBeInstanceOf(CredentialError);
  return err as CredentialError;
}

function expectNoCanary(err: Error): void {
  expect(err.message).not.toContain(CANARY);
  expect(inspect(err)).not.toContain(CANARY);
  expect(JSON.stringify(err)).not.toContain(CANARY);
}

describe("withCredential", () => {
  it("reads an environment variable", async () => {
    const text = await withCredential({ ...FIELDS, envVar: "S", env: { S: CANARY } }, (b) => b.toString());
    expect(text).toBe(CANARY);
  });

  it.each([
    ["\\n", `${CANARY}\n`, CANARY],
    ["\\r\\n", `${CANARY}\r\n`, CANARY],
    ["no line break", CANARY, CANARY],
    ["only one of two line breaks", `${CANARY}\n\n`, `${CANARY}\n`],
    ["a lone \\r (not a line break)", `${CANARY}\r`, `${CANARY}\r`],
  ])("reads a file, dropping one trailing line break (%s)", async (_name, content, expected) => {
    await writeFile(join(dir, "s.txt"), content);
    const text = await withCredential({ ...FIELDS, file: "s.txt", baseDir: dir, env: {} }, (b) =>
      b.toString(),
    );
    expect(text).toBe(expected);
  });

  it("hands over the file's bytes as they are (no text decoding)", async () => {
    const bytes = Buffer.from([0xff, 0x00, 0xfe, 0x80]);
    await writeFile(join(dir, "bin.key"), bytes);
    const got = await withCredential({ ...FIELDS, file: join(dir, "bin.key"), env: {} }, (b) =>
      Buffer.from(b),
    );
    expect(got.equals(bytes)).toBe(true);
  });

  it("zeroes the buffer once the callback returns (env and file)", async () => {
    let seen: Buffer | undefined;
    const len = await withCredential({ ...FIELDS, envVar: "S", env: { S: CANARY } }, (b) => {
      seen = b;
      expect(b.toString()).toBe(CANARY);
      return b.length;
    });
    expect(len).toBe(CANARY.length);
    expect(seen?.every((byte) => byte === 0)).toBe(true);

    await writeFile(join(dir, "z.txt"), `${CANARY}\n`);
    let fromFile: Buffer | undefined;
    await withCredential({ ...FIELDS, file: join(dir, "z.txt"), env: {} }, async (b) => {
      fromFile = b;
      await new Promise((r) => setTimeout(r, 5));
      expect(b.toString()).toBe(CANARY);
    });
    expect(fromFile?.length).toBe(CANARY.length);
    expect(fromFile?.every((byte) => byte === 0)).toBe(true);
    // The trailing line break outside the view is zeroed too: the whole buffer read.
    const whole = Buffer.from(fromFile!.buffer, fromFile!.byteOffset, CANARY.length + 1);
    expect(whole.every((byte) => byte === 0)).toBe(true);
  });

  it("zeroes the buffer when the callback throws, and passes the error on", async () => {
    let seen: Buffer | undefined;
    const boom = new Error("boom");
    await expect(
      withCredential({ ...FIELDS, envVar: "S", env: { S: CANARY } }, (b) => {
        seen = b;
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect(seen?.every((byte) => byte === 0)).toBe(true);
  });

  it("readSecret keeps its own copy as SecretBytes (redacted when printed)", async () => {
    const secret = await readSecret({ ...FIELDS, envVar: "S", env: { S: CANARY } });
    expect(secret.expose().toString()).toBe(CANARY);
    expect(inspect(secret)).not.toContain(CANARY);
    expect(JSON.stringify({ secret })).not.toContain(CANARY);
  });

  it("neither source is `missing`, both are `ambiguous`", async () => {
    const none = await failure({ ...FIELDS, env: {} });
    expect(none).toMatchObject({ code: "missing", field: "x.secret_env" });
    expect(none.message).toBe("x.secret_env: give exactly one of x.secret_env and x.secret_file");
    await writeFile(join(dir, "both.txt"), CANARY);
    const both = await failure({ ...FIELDS, envVar: "S", file: join(dir, "both.txt"), env: { S: CANARY } });
    expect(both).toMatchObject({ code: "ambiguous", field: "x.secret_file" });
    expectNoCanary(both);
  });

  it("an unset variable is `unset`, an empty one `empty`, naming the variable", async () => {
    const unset = await failure({ ...FIELDS, envVar: "NOPE", env: {} });
    expect(unset).toMatchObject({ code: "unset", field: "x.secret_env" });
    expect(unset.message).toBe("x.secret_env: environment variable NOPE is not set");
    const empty = await failure({ ...FIELDS, envVar: "E", env: { E: "", S: CANARY } });
    expect(empty).toMatchObject({ code: "empty", field: "x.secret_env" });
    expect(empty.message).toBe("x.secret_env: environment variable E is empty");
  });

  it.each([
    ["empty", ""],
    ["a line break only", "\n"],
    ["CRLF only", "\r\n"],
  ])("a file holding %s is `empty`", async (_name, content) => {
    const path = join(dir, "empty.txt");
    await writeFile(path, content);
    const err = await failure({ ...FIELDS, file: path, env: {} });
    expect(err).toMatchObject({ code: "empty", field: "x.secret_file" });
    expect(err.message).toBe(`x.secret_file: ${path} is empty`);
  });

  it("a missing file is `unreadable` with its errno code", async () => {
    const path = join(dir, "missing.txt");
    const err = await failure({ ...FIELDS, file: path, env: { S: CANARY } });
    expect(err).toMatchObject({ code: "unreadable", field: "x.secret_file" });
    expect(err.message).toBe(`x.secret_file: cannot read ${path} (ENOENT)`);
  });

  it("a directory is `unreadable`", async () => {
    const err = await failure({ ...FIELDS, file: dir, env: {} });
    expect(err).toMatchObject({ code: "unreadable" });
    expect(err.message).toMatch(/\(EISDIR\)$/);
  });

  it("a file without read permission is `unreadable` (EACCES), never quoting it", async () => {
    const path = join(dir, "noread.txt");
    await writeFile(path, CANARY, { mode: 0o600 });
    await chmod(path, 0o000);
    // Root reads any file: as root (CI), read it with the effective uid of `nobody`
    // (this worker is a forked process, so only it changes, and only for this read).
    const err = await asNobodyIfRoot(() => failure({ ...FIELDS, file: path, env: {} }));
    expect(err).toMatchObject({ code: "unreadable" });
    expect(err.message).toMatch(/\(EACCES\)$/);
    expectNoCanary(err);
  });

  it("with requirePrivate, a file open to group or others is `exposed`; 0600 and 0400 are read", async () => {
    const path = join(dir, "shared.txt");
    await writeFile(path, CANARY);
    for (const mode of [0o644, 0o640, 0o604, 0o620, 0o602]) {
      await chmod(path, mode);
      const err = await failure({ ...FIELDS, file: path, env: {}, requirePrivate: true });
      expect(err).toMatchObject({ code: "exposed", field: "x.secret_file" });
      expect(err.message).toBe(
        `x.secret_file: ${path} has mode 0${mode.toString(8)}: readable or writable by group or others; run chmod 600 ${path}`,
      );
      expectNoCanary(err);
      // Without it the same file is read (the executor's files, the CLI's options).
      expect(await withCredential({ ...FIELDS, file: path, env: {} }, (b) => b.toString())).toBe(CANARY);
    }
    for (const mode of [0o600, 0o400]) {
      await chmod(path, mode);
      const ok = await withCredential({ ...FIELDS, file: path, env: {}, requirePrivate: true }, (b) =>
        b.toString(),
      );
      expect(ok).toBe(CANARY);
    }
  });

  it("no error holds the secret: message, inspect, JSON", async () => {
    const path = join(dir, "canary.txt");
    await writeFile(path, CANARY, { mode: 0o644 });
    await chmod(path, 0o644);
    const errors = [
      await failure({ ...FIELDS, file: path, env: {}, requirePrivate: true }),
      await failure({ ...FIELDS, envVar: "S", file: path, env: { S: CANARY } }),
      await failure({ ...FIELDS, envVar: "T", env: { S: CANARY } }),
    ];
    for (const err of errors) {
      expectNoCanary(err);
      expect(err.name).toBe("CredentialError");
    }
  });
});

describe("readConfigCredential", () => {
  it("reads <name>_env / <name>_file of a section; a failure is a ConfigError on that field", async () => {
    await writeFile(join(dir, "api.key"), `${CANARY}\n`);
    const fromFile = await readConfigCredential({
      holder: { api_key_file: "api.key" },
      name: "api_key",
      field: "venues.v.accounts.a",
      env: {},
      baseDir: dir,
    });
    expect(fromFile.expose().toString()).toBe(CANARY);
    const fromEnv = await readConfigCredential({
      holder: { api_key_env: "K" },
      name: "api_key",
      field: "f",
      env: { K: CANARY },
    });
    expect(fromEnv.expose().toString()).toBe(CANARY);

    const err = await readConfigCredential({
      holder: { token_env: "T" },
      name: "token",
      field: "signing",
      env: {},
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err).toMatchObject({
      field: "signing.token_env",
      message: "invalid config: signing.token_env: environment variable T is not set",
    });
    const none = await readConfigCredential({ holder: {}, name: "pin", field: "pkcs11", env: {} }).catch(
      (e: unknown) => e,
    );
    expect(none).toMatchObject({ field: "pkcs11.pin_env" });
    expect((none as Error).message).toMatch(/give exactly one of pkcs11.pin_env and pkcs11.pin_file/);
  });

  it("passes requirePrivate on", async () => {
    const path = join(dir, "pass.txt");
    await writeFile(path, CANARY);
    await chmod(path, 0o644);
    const err = await readConfigCredential({
      holder: { passphrase_file: path },
      name: "passphrase",
      field: "vault",
      env: {},
      requirePrivate: true,
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: "ConfigError", field: "vault.passphrase_file" });
    expectNoCanary(err as Error);
  });
});
