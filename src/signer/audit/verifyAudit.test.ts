import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AuditEntry, type AuditRecord, auditMac, formatAuditLine, GENESIS_MAC } from "./auditRecord.js";
import { verifyAuditFile, verifyAuditText } from "./verifyAudit.js";

const KEY = randomBytes(32);
const OTHER_KEY = randomBytes(32);

function entry(i: number): AuditEntry {
  return {
    time: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
    request_id: `r-${i}`,
    caller: "executor-1",
    account: i % 3 === 0 ? null : "acct1",
    intent: "cex_api_signer",
    route: "executor.binance-usdm.order",
    action: "order",
    target: { symbol: "BTCUSDT", side: "BUY", qty: "0.01" },
    guard_context: { plan_id: `p-${i}` },
    key: i % 2 === 0 ? "trade" : null,
    cancel_capable: false,
    notional: i % 2 === 0 ? "650" : null,
    reference_price: i % 2 === 0 ? "65000" : null,
    decision: i % 2 === 0 ? "granted" : "denied",
    reason: i % 2 === 0 ? "ok" : "missing_target",
  };
}

/** A good chain of `n` records under `key`. */
function chain(n: number, key: Buffer = KEY): AuditRecord[] {
  const out: AuditRecord[] = [];
  let prev = GENESIS_MAC;
  for (let i = 0; i < n; i++) {
    const unsigned = { v: 2 as const, seq: i + 1, ...entry(i), prev_mac: prev };
    const rec = { ...unsigned, mac: auditMac(key, unsigned) };
    out.push(rec);
    prev = rec.mac;
  }
  return out;
}
const text = (records: readonly AuditRecord[]): string =>
  records.map((r) => `${formatAuditLine(r)}\n`).join("");
const lines = (records: readonly AuditRecord[]): string[] => records.map(formatAuditLine);
const join_ = (ls: readonly string[]): string => ls.map((l) => `${l}\n`).join("");
/** Re-MACs a record after editing it under `key` (a forger holding some key, not necessarily the signer's). */
function remac(rec: AuditRecord, over: Partial<AuditRecord>, key: Buffer): AuditRecord {
  const { mac: _m, ...rest } = { ...rec, ...over };
  return { ...rest, mac: auditMac(key, rest) };
}
/** What a forger without the key might try: a plain SHA-256 over the canonical text, as the unkeyed format had. */
function rehashUnkeyed(rec: AuditRecord, over: Partial<AuditRecord>): AuditRecord {
  const { mac: _m, ...rest } = { ...rec, ...over };
  const line = formatAuditLine({ ...rest, mac: "0".repeat(64) });
  return { ...rest, mac: createHash("sha256").update(line).digest("hex") };
}

describe("verifyAuditText (keyed chain)", () => {
  it("accepts an empty log and a good chain", () => {
    expect(verifyAuditText("", KEY)).toEqual({ ok: true, lines: 0 });
    expect(verifyAuditText(text(chain(5)), KEY)).toEqual({ ok: true, lines: 5 });
  });

  it("edited line (MAC not recomputed) → mac at that line", () => {
    const ls = lines(chain(5));
    ls[2] = ls[2]!.replace('"granted"', '"denied"');
    expect(verifyAuditText(join_(ls), KEY)).toEqual({ ok: false, line: 3, problem: "mac" });
  });

  it("edited line and every later one re-chained without the key → mac at the edited line", () => {
    // The forgery: granted → denied, and every later hash recomputed.
    const recs = chain(5);
    let prev = recs[1]!.mac;
    recs[2] = rehashUnkeyed(recs[2]!, { decision: "denied", reason: "policy:max_notional" });
    for (let i = 2; i < recs.length; i++) {
      recs[i] = rehashUnkeyed(recs[i]!, { prev_mac: prev });
      prev = recs[i]!.mac;
    }
    expect(verifyAuditText(text(recs), KEY)).toEqual({ ok: false, line: 3, problem: "mac" });
  });

  it("a whole file re-chained under another key → mac at line 1", () => {
    expect(verifyAuditText(text(chain(4, OTHER_KEY)), KEY)).toEqual({ ok: false, line: 1, problem: "mac" });
  });

  it("deleted line → seq at the line after the gap", () => {
    const recs = chain(5);
    recs.splice(2, 1);
    expect(verifyAuditText(text(recs), KEY)).toEqual({ ok: false, line: 3, problem: "seq" });
  });

  it("deleted first line → seq at line 1", () => {
    expect(verifyAuditText(text(chain(3).slice(1)), KEY)).toEqual({ ok: false, line: 1, problem: "seq" });
  });

  it("inserted line (a copy of a real one) → seq at the inserted line", () => {
    const recs = chain(5);
    recs.splice(3, 0, recs[1]!);
    expect(verifyAuditText(text(recs), KEY)).toEqual({ ok: false, line: 4, problem: "seq" });
  });

  it("inserted forged line with a fitting seq and prev_mac → mac at it", () => {
    const recs = chain(5);
    recs.splice(2, 0, remac(recs[2]!, { request_id: "forged" }, OTHER_KEY));
    expect(verifyAuditText(text(recs), KEY)).toEqual({ ok: false, line: 3, problem: "mac" });
  });

  it("reordered lines → seq at the first moved line", () => {
    const recs = chain(5);
    [recs[1], recs[2]] = [recs[2]!, recs[1]!];
    expect(verifyAuditText(text(recs), KEY)).toEqual({ ok: false, line: 2, problem: "seq" });
  });

  it("a line spliced in from another chain under the same key → prev_mac", () => {
    const a = chain(4);
    const b = chain(4).map((r, i) => (i === 2 ? remac(r, { request_id: "other" }, KEY) : r));
    const spliced = [a[0]!, a[1]!, remac(b[2]!, { prev_mac: GENESIS_MAC }, KEY), a[3]!];
    expect(verifyAuditText(text(spliced), KEY)).toEqual({ ok: false, line: 3, problem: "prev_mac" });
  });

  it("a line of the old unkeyed format → version", () => {
    const ls = lines(chain(2));
    ls[0] = JSON.stringify({ ...JSON.parse(ls[0]!), v: 1 });
    expect(verifyAuditText(join_(ls), KEY)).toEqual({ ok: false, line: 1, problem: "version" });
  });

  it.each([
    ["not JSON", "{oops"],
    ["a blank line", ""],
    ["an extra field", "EXTRA"],
    ["a missing field", "MISSING"],
    ["a wrong type", "TYPE"],
  ])("%s → json", (_what, kind) => {
    const ls = lines(chain(3));
    const obj = JSON.parse(ls[1]!);
    if (kind === "EXTRA") ls[1] = JSON.stringify({ ...obj, payload: "symbol=BTCUSDT" });
    else if (kind === "MISSING") {
      delete obj.route;
      ls[1] = JSON.stringify(obj);
    } else if (kind === "TYPE") ls[1] = JSON.stringify({ ...obj, seq: "2" });
    else ls[1] = kind;
    expect(verifyAuditText(join_(ls), KEY)).toEqual({ ok: false, line: 2, problem: "json" });
  });

  it("a torn last line (no final break) → json at that line", () => {
    const t = text(chain(3));
    expect(verifyAuditText(t.slice(0, -1), KEY)).toEqual({ ok: false, line: 3, problem: "json" });
    expect(verifyAuditText(t.slice(0, -20), KEY)).toEqual({ ok: false, line: 3, problem: "json" });
  });

  it("key order in a line does not matter for the MAC (the canonical form is rebuilt)", () => {
    const ls = lines(chain(2));
    const obj = JSON.parse(ls[0]!);
    ls[0] = JSON.stringify(Object.fromEntries(Object.entries(obj).reverse()));
    expect(verifyAuditText(join_(ls), KEY)).toEqual({ ok: true, lines: 2 });
  });
});

describe("verifyAuditFile", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "ig-verify-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("agrees with verifyAuditText on good, tampered, torn and non-UTF-8 files", async () => {
    const good = text(chain(200));
    const tampered = good.replace('"request_id":"r-150"', '"request_id":"r-999"');
    const cases: [string, Buffer][] = [
      ["good", Buffer.from(good)],
      ["empty", Buffer.alloc(0)],
      ["tampered", Buffer.from(tampered)],
      ["torn", Buffer.from(good.slice(0, -5))],
    ];
    for (const [name, bytes] of cases) {
      const path = join(dir, `${name}.jsonl`);
      await writeFile(path, bytes);
      expect(await verifyAuditFile(path, KEY)).toEqual(verifyAuditText(bytes.toString("utf8"), KEY));
    }
    const badUtf8 = Buffer.concat([Buffer.from(text(chain(1))), Buffer.from([0xff, 0xfe, 0x0a])]);
    const path = join(dir, "bad-utf8.jsonl");
    await writeFile(path, badUtf8);
    expect(await verifyAuditFile(path, KEY)).toEqual({ ok: false, line: 2, problem: "json" });
  });

  it("rejects when the file cannot be read", async () => {
    await expect(verifyAuditFile(join(dir, "missing.jsonl"), KEY)).rejects.toThrow(/ENOENT/);
  });
});
