import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type AuditEntry,
  type AuditRecord,
  auditHash,
  formatAuditLine,
  GENESIS_HASH,
} from "./auditRecord.js";
import { verifyAuditFile, verifyAuditText } from "./verifyAudit.js";

function entry(i: number): AuditEntry {
  return {
    time: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
    request_id: `r-${i}`,
    caller: "executor-1",
    account: i % 3 === 0 ? null : "acct1",
    intent: "cex_api_signer",
    route: "executor.binance-usdm.order",
    target_keys: ["side", "symbol"],
    guard_context_keys: ["plan_id"],
    decision: i % 2 === 0 ? "granted" : "denied",
    reason: i % 2 === 0 ? "ok" : "missing_target",
  };
}

/** A good chain of `n` records. */
function chain(n: number): AuditRecord[] {
  const out: AuditRecord[] = [];
  let prev = GENESIS_HASH;
  for (let i = 0; i < n; i++) {
    const unsigned = { v: 1 as const, seq: i + 1, ...entry(i), prev_hash: prev };
    const rec = { ...unsigned, hash: auditHash(unsigned) };
    out.push(rec);
    prev = rec.hash;
  }
  return out;
}
const text = (records: readonly AuditRecord[]): string =>
  records.map((r) => `${formatAuditLine(r)}\n`).join("");
const lines = (records: readonly AuditRecord[]): string[] => records.map(formatAuditLine);
const join_ = (ls: readonly string[]): string => ls.map((l) => `${l}\n`).join("");
/** Re-hashes a record after editing it (what a forger who knows the format would do). */
function rehash(rec: AuditRecord, over: Partial<AuditRecord>): AuditRecord {
  const { hash: _h, ...rest } = { ...rec, ...over };
  return { ...rest, hash: auditHash(rest) };
}

describe("verifyAuditText", () => {
  it("accepts an empty log and a good chain", () => {
    expect(verifyAuditText("")).toEqual({ ok: true, lines: 0 });
    expect(verifyAuditText(text(chain(5)))).toEqual({ ok: true, lines: 5 });
  });

  it("edited line (hash not recomputed) → hash at that line", () => {
    const ls = lines(chain(5));
    ls[2] = ls[2]!.replace('"granted"', '"denied"');
    expect(verifyAuditText(join_(ls))).toEqual({ ok: false, line: 3, problem: "hash" });
  });

  it("edited line with its hash recomputed → prev_hash at the next line", () => {
    const recs = chain(5);
    recs[1] = rehash(recs[1]!, { reason: "ok", decision: "granted" });
    expect(verifyAuditText(text(recs))).toEqual({ ok: false, line: 3, problem: "prev_hash" });
  });

  it("deleted line → seq at the line after the gap", () => {
    const recs = chain(5);
    recs.splice(2, 1);
    expect(verifyAuditText(text(recs))).toEqual({ ok: false, line: 3, problem: "seq" });
  });

  it("deleted first line → seq at line 1", () => {
    expect(verifyAuditText(text(chain(3).slice(1)))).toEqual({ ok: false, line: 1, problem: "seq" });
  });

  it("inserted line (copied) → seq at the inserted line", () => {
    const recs = chain(5);
    recs.splice(3, 0, recs[1]!);
    expect(verifyAuditText(text(recs))).toEqual({ ok: false, line: 4, problem: "seq" });
  });

  it("inserted forged line with a fitting seq and its own hash → prev_hash, or seq at the line after it", () => {
    const recs = chain(5);
    recs.splice(2, 0, rehash(recs[2]!, { seq: 3, prev_hash: GENESIS_HASH, request_id: "forged" }));
    expect(verifyAuditText(text(recs))).toEqual({ ok: false, line: 3, problem: "prev_hash" });
    // With the right prev_hash too, the original line after it no longer fits.
    const recs2 = chain(5);
    recs2.splice(2, 0, rehash(recs2[2]!, { request_id: "forged" }));
    expect(verifyAuditText(text(recs2))).toEqual({ ok: false, line: 4, problem: "seq" });
  });

  it("reordered lines → seq at the first moved line", () => {
    const recs = chain(5);
    [recs[1], recs[2]] = [recs[2]!, recs[1]!];
    expect(verifyAuditText(text(recs))).toEqual({ ok: false, line: 2, problem: "seq" });
  });

  it("renumbered and re-hashed all the way down from an edit still breaks at the next line", () => {
    // Rewriting a whole suffix is possible for anyone holding the file; the chain catches only the seam.
    const recs = chain(4);
    recs[1] = rehash(recs[1]!, { reason: "edited" });
    expect(verifyAuditText(text(recs))).toEqual({ ok: false, line: 3, problem: "prev_hash" });
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
    expect(verifyAuditText(join_(ls))).toEqual({ ok: false, line: 2, problem: "json" });
  });

  it("a torn last line (no final break) → json at that line", () => {
    const t = text(chain(3));
    expect(verifyAuditText(t.slice(0, -1))).toEqual({ ok: false, line: 3, problem: "json" });
    expect(verifyAuditText(t.slice(0, -20))).toEqual({ ok: false, line: 3, problem: "json" });
  });

  it("key order in a line does not matter for the hash (the canonical form is rebuilt)", () => {
    const ls = lines(chain(2));
    const obj = JSON.parse(ls[0]!);
    ls[0] = JSON.stringify(Object.fromEntries(Object.entries(obj).reverse()));
    expect(verifyAuditText(join_(ls))).toEqual({ ok: true, lines: 2 });
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
      expect(await verifyAuditFile(path)).toEqual(verifyAuditText(bytes.toString("utf8")));
    }
    const badUtf8 = Buffer.concat([Buffer.from(text(chain(1))), Buffer.from([0xff, 0xfe, 0x0a])]);
    const path = join(dir, "bad-utf8.jsonl");
    await writeFile(path, badUtf8);
    expect(await verifyAuditFile(path)).toEqual({ ok: false, line: 2, problem: "json" });
  });

  it("rejects when the file cannot be read", async () => {
    await expect(verifyAuditFile(join(dir, "missing.jsonl"))).rejects.toThrow(/ENOENT/);
  });
});
