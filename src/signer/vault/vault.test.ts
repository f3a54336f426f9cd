import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SecretBytes } from "../../core/auth/secretBytes.js";
import { KeyStoreError } from "../keyStore.js";
import { Vault, VaultError } from "./vault.js";
import { evmAddress, generateSecp256k1Key, MIN_SCRYPT_N, toChecksumAddress } from "./vaultFile.js";

const FAST = { scrypt: { N: MIN_SCRYPT_N } };
const PASS = "correct horse battery staple";
const CANARY = "CANARY-hmac-secret-7f3a9c";
const CANARY_BYTES = Buffer.from(CANARY, "utf8");
/** The web3.js docs vector. */
const PK_HEX = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";
const PK_ADDRESS = "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23";
const SECP_N = "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141";

let dir: string;
let n = 0;
const fresh = () => join(dir, `vault-${++n}.json`);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "ig-vault-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function expectKeyStoreError(p: Promise<unknown>, code: string): Promise<KeyStoreError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(KeyStoreError);
  expect((err as KeyStoreError).code).toBe(code);
  return err as KeyStoreError;
}

/** Every form of the canary an accidental leak could take. */
function canaryForms(secret: Buffer): string[] {
  return [
    secret.toString("utf8"),
    secret.toString("hex"),
    secret.toString("base64"),
    secret.toString("base64url"),
  ];
}

describe("address derivation", () => {
  it("matches known vectors", () => {
    expect(evmAddress(Buffer.from(PK_HEX, "hex"))).toBe(PK_ADDRESS);
    const one = Buffer.alloc(32);
    one[31] = 1;
    expect(evmAddress(one)).toBe("0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf");
  });

  it("EIP-55 checksums (spec vectors)", () => {
    for (const a of [
      "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
      "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
      "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
      "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
    ]) {
      expect(toChecksumAddress(a.toLowerCase())).toBe(a);
    }
  });
});

describe("Vault", () => {
  it("init writes an empty vault with mode 0600, atomically (no temp file left)", async () => {
    const path = fresh();
    const v = await Vault.init(path, PASS, FAST);
    expect(v.list()).toEqual([]);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const doc = JSON.parse(await readFile(path, "utf8"));
    expect(doc).toMatchObject({
      format: "intentgate-vault",
      version: 1,
      kdf: { name: "scrypt", N: MIN_SCRYPT_N, r: 8, p: 1, dklen: 32 },
      entries: [],
    });
    expect(Object.keys(doc.check).sort()).toEqual(["ct", "iv", "tag"]);
    await v.add("a1", "hmac", Buffer.from("x"));
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await readdir(dir)).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("init refuses to overwrite an existing file", async () => {
    const path = fresh();
    await writeFile(path, "precious");
    const err = await Vault.init(path, PASS, FAST).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VaultError);
    expect((err as VaultError).code).toBe("exists");
    expect(await readFile(path, "utf8")).toBe("precious");
    expect((await readdir(dir)).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("defaults to N = 2^15", async () => {
    const path = fresh();
    (await Vault.init(path, PASS)).close();
    expect(JSON.parse(await readFile(path, "utf8")).kdf.N).toBe(2 ** 15);
  });

  it("round-trips hmac and secp256k1 entries through a reopen", async () => {
    const path = fresh();
    const v = await Vault.init(path, PASS, FAST);
    const h = await v.add("acct-1:binance", "hmac", CANARY_BYTES);
    expect(h).toMatchObject({ id: "acct-1:binance", kind: "hmac" });
    expect(h).not.toHaveProperty("address");
    const s = await v.add("acct-1:polymarket", "secp256k1", new SecretBytes(Buffer.from(PK_HEX, "hex")));
    expect(s).toMatchObject({ id: "acct-1:polymarket", kind: "secp256k1", address: PK_ADDRESS });
    expect(Date.parse(s.created_at)).not.toBeNaN();
    v.close();

    const w = await Vault.open(path, PASS);
    expect(w.list()).toEqual([h, s]);
    const rh = await w.reveal("acct-1:binance");
    expect(rh.kind).toBe("hmac");
    if (rh.kind === "hmac") expect(rh.secret.expose().equals(CANARY_BYTES)).toBe(true);
    const rs = await w.reveal("acct-1:polymarket");
    expect(rs.kind).toBe("secp256k1");
    if (rs.kind === "secp256k1") {
      expect(rs.privateKey.expose().toString("hex")).toBe(PK_HEX);
      expect(rs.address).toBe(PK_ADDRESS);
    }
    await w.verify();
  });

  it("rejects bad input: duplicate id, bad id, out-of-range keys, empty hmac, empty passphrase", async () => {
    const path = fresh();
    const v = await Vault.init(path, PASS, FAST);
    await v.add("a", "hmac", Buffer.from("s"));
    const code = (p: Promise<unknown>) =>
      p.then(
        () => "ok",
        (e: VaultError) => e.code,
      );
    expect(await code(v.add("a", "hmac", Buffer.from("t")))).toBe("duplicate_id");
    expect(await code(v.add("bad id", "hmac", Buffer.from("t")))).toBe("invalid_id");
    expect(await code(v.add("z", "secp256k1", Buffer.alloc(32)))).toBe("invalid_secret");
    expect(await code(v.add("z", "secp256k1", Buffer.from(SECP_N, "hex")))).toBe("invalid_secret");
    expect(await code(v.add("z", "secp256k1", Buffer.alloc(31, 1)))).toBe("invalid_secret");
    expect(await code(v.add("z", "hmac", Buffer.alloc(0)))).toBe("invalid_secret");
    expect(await code(v.add("z", "rsa" as "hmac", Buffer.from("t")))).toBe("invalid_kind");
    expect(await code(Vault.init(fresh(), "", FAST))).toBe("invalid_passphrase");
    expect(v.list().map((e) => e.id)).toEqual(["a"]);
  });

  it("generated secp256k1 keys are valid and distinct", async () => {
    const a = generateSecp256k1Key();
    const b = generateSecp256k1Key();
    expect(a.length).toBe(32);
    expect(a.equals(b)).toBe(false);
    expect(evmAddress(a)).toMatch(/^0x[0-9a-fA-F]{40}$/);
  });

  it("remove deletes an entry; unknown ids are not_found", async () => {
    const path = fresh();
    const v = await Vault.init(path, PASS, FAST);
    await v.add("a", "hmac", Buffer.from("s"));
    await v.add("b", "hmac", Buffer.from("t"));
    await v.remove("a");
    await expectKeyStoreError(v.remove("a"), "not_found");
    await expectKeyStoreError(v.reveal("a"), "not_found");
    expect((await Vault.open(path, PASS)).list().map((e) => e.id)).toEqual(["b"]);
  });

  it("a wrong passphrase is bad_passphrase", async () => {
    const path = fresh();
    (await Vault.init(path, PASS, FAST)).close();
    const err = await expectKeyStoreError(Vault.open(path, "Tr0ub4dor&3"), "bad_passphrase");
    expect(err.message).not.toContain("Tr0ub4dor");
    expect(err.message).toContain("wrong passphrase");
    expect(err.message).not.toContain(PASS);
    await expectKeyStoreError(Vault.open(path, ""), "bad_passphrase");
  });

  it("a missing file is unreadable; garbage, truncated or malformed files are corrupted", async () => {
    await expectKeyStoreError(Vault.open(join(dir, "nope.json"), PASS), "unreadable");
    const path = fresh();
    const v = await Vault.init(path, PASS, FAST);
    await v.add("a", "hmac", CANARY_BYTES);
    const text = await readFile(path, "utf8");
    const cases: string[] = [
      "",
      "\u0000\u0001garbage",
      text.slice(0, Math.floor(text.length / 2)),
      JSON.stringify({ format: "something-else" }),
      text.replace('"version": 1', '"version": 2'),
      text.replace(/"N": \d+/, '"N": 1000'),
      text.replace(/"iv": "[^"]+"/, '"iv": "AAAA"'),
      text.replace('"kind": "hmac"', '"kind": "secp256k1"'),
    ];
    for (const c of cases) {
      const p = fresh();
      await writeFile(p, c);
      const err = await expectKeyStoreError(Vault.open(p, PASS), "corrupted");
      for (const f of canaryForms(CANARY_BYTES)) expect(err.message).not.toContain(f);
    }
  });

  it("a flipped byte in an entry is corrupted, naming the entry id and nothing of its content", async () => {
    const path = fresh();
    const v = await Vault.init(path, PASS, FAST);
    await v.add("good", "hmac", Buffer.from("fine"));
    await v.add("acct-9", "hmac", CANARY_BYTES);
    v.close();
    const doc = JSON.parse(await readFile(path, "utf8"));
    for (const field of ["ct", "tag", "iv"] as const) {
      const tampered = structuredClone(doc);
      const raw = Buffer.from(tampered.entries[1][field], "base64");
      raw[0] = (raw[0] as number) ^ 0x01;
      tampered.entries[1][field] = raw.toString("base64");
      const p = fresh();
      await writeFile(p, JSON.stringify(tampered));
      const w = await Vault.open(p, PASS);
      expect((await w.reveal("good")).kind).toBe("hmac");
      const err = await expectKeyStoreError(w.reveal("acct-9"), "corrupted");
      expect(err.message).toContain('"acct-9"');
      for (const f of canaryForms(CANARY_BYTES)) expect(err.message).not.toContain(f);
      await expectKeyStoreError(w.verify(), "corrupted");
      await expectKeyStoreError(w.passwd("other", FAST), "corrupted");
      // passwd left the file alone
      expect((await Vault.open(p, PASS)).list().length).toBe(2);
    }
  });

  it("edited metadata or swapped ciphertexts fail authentication", async () => {
    const path = fresh();
    const v = await Vault.init(path, PASS, FAST);
    await v.add("a", "secp256k1", Buffer.from(PK_HEX, "hex"));
    await v.add("b", "secp256k1", generateSecp256k1Key());
    const doc = JSON.parse(await readFile(path, "utf8"));

    const edited = structuredClone(doc);
    edited.entries[0].address = doc.entries[1].address;
    const p1 = fresh();
    await writeFile(p1, JSON.stringify(edited));
    await expectKeyStoreError((await Vault.open(p1, PASS)).reveal("a"), "corrupted");

    const swapped = structuredClone(doc);
    for (const f of ["iv", "ct", "tag"]) swapped.entries[0][f] = doc.entries[1][f];
    const p2 = fresh();
    await writeFile(p2, JSON.stringify(swapped));
    await expectKeyStoreError((await Vault.open(p2, PASS)).reveal("a"), "corrupted");
  });

  it("passwd re-encrypts everything: the new passphrase opens it, the old does not", async () => {
    const path = fresh();
    const v = await Vault.init(path, PASS, FAST);
    await v.add("h", "hmac", CANARY_BYTES);
    await v.add("k", "secp256k1", Buffer.from(PK_HEX, "hex"));
    const before = JSON.parse(await readFile(path, "utf8"));
    await v.passwd("new passphrase", FAST);
    const after = JSON.parse(await readFile(path, "utf8"));
    expect(after.kdf.salt).not.toBe(before.kdf.salt);
    expect(after.entries[0].ct).not.toBe(before.entries[0].ct);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await readdir(dir)).filter((f) => f.endsWith(".tmp"))).toEqual([]);
    // the same instance keeps working under the new key
    const r = await v.reveal("h");
    if (r.kind === "hmac") expect(r.secret.expose().equals(CANARY_BYTES)).toBe(true);
    await v.add("h2", "hmac", Buffer.from("more"));

    await expectKeyStoreError(Vault.open(path, PASS), "bad_passphrase");
    const w = await Vault.open(path, "new passphrase");
    expect(w.list().map((e) => e.id)).toEqual(["h", "k", "h2"]);
    const rk = await w.reveal("k");
    if (rk.kind === "secp256k1") expect(rk.privateKey.expose().toString("hex")).toBe(PK_HEX);
  });

  it("refuses to write over a file changed by someone else since open", async () => {
    const path = fresh();
    (await Vault.init(path, PASS, FAST)).close();
    const a = await Vault.open(path, PASS);
    const b = await Vault.open(path, PASS);
    await a.add("from-a", "hmac", Buffer.from("x"));
    const err = await b.add("from-b", "hmac", Buffer.from("y")).catch((e: unknown) => e);
    expect((err as VaultError).code).toBe("changed_on_disk");
    expect((await Vault.open(path, PASS)).list().map((e) => e.id)).toEqual(["from-a"]);
  });

  it("concurrent adds on one instance are serialised", async () => {
    const path = fresh();
    const v = await Vault.init(path, PASS, FAST);
    await Promise.all(["a", "b", "c", "d"].map((id) => v.add(id, "hmac", Buffer.from(id))));
    expect(
      (await Vault.open(path, PASS))
        .list()
        .map((e) => e.id)
        .sort(),
    ).toEqual(["a", "b", "c", "d"]);
  });

  it("a closed vault refuses to work", async () => {
    const v = await Vault.init(fresh(), PASS, FAST);
    await v.add("a", "hmac", Buffer.from("x"));
    v.close();
    await expect(v.reveal("a")).rejects.toMatchObject({ code: "closed" });
  });

  it("canary: never in the file in clear, nor in list, inspect or JSON output", async () => {
    const path = fresh();
    const v = await Vault.init(path, PASS, FAST);
    const pk = Buffer.from(PK_HEX, "hex");
    await v.add("h", "hmac", CANARY_BYTES);
    await v.add("k", "secp256k1", pk);
    const revealed = await v.reveal("h");
    const file = await readFile(path, "utf8");
    const shown = [
      file,
      JSON.stringify(v.list()),
      inspect(v, { showHidden: true, depth: 10 }),
      JSON.stringify(v),
      String(v),
      inspect(revealed, { showHidden: true, depth: 10 }),
      JSON.stringify(revealed),
    ];
    for (const s of shown) {
      for (const f of [...canaryForms(CANARY_BYTES), ...canaryForms(pk), PASS]) expect(s).not.toContain(f);
    }
    expect(inspect(v)).toContain("Vault(");
    expect(JSON.stringify(revealed)).toContain("[REDACTED]");
  });
});
