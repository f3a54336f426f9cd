import { appendFile, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuditLogError, openAuditLog } from "./auditLog.js";
import { AUDIT_FIELDS, type AuditEntry, auditHash, canonicalAuditText, GENESIS_HASH } from "./auditRecord.js";
import { verifyAuditFile } from "./verifyAudit.js";

let dir: string;
let n = 0;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "ig-audit-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
const fresh = (): string => join(dir, `audit-${++n}.jsonl`);

function entry(i: number, over: Partial<AuditEntry> = {}): AuditEntry {
  return {
    time: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
    request_id: `r-${i}`,
    caller: "executor-1",
    account: "acct1",
    intent: "cex_api_signer",
    route: "executor.binance-usdm.order",
    target_keys: ["side", "symbol"],
    guard_context_keys: ["plan_id"],
    decision: i % 2 === 0 ? "granted" : "denied",
    reason: i % 2 === 0 ? "ok" : "route_not_allowed",
    ...over,
  };
}

describe("audit log writer", () => {
  it("writes one canonical line per append, chained from the genesis hash", async () => {
    const path = fresh();
    const log = await openAuditLog(path);
    const r1 = await log.append(entry(0));
    const r2 = await log.append(entry(1));
    await log.close();
    expect(r1.seq).toBe(1);
    expect(r1.prev_hash).toBe(GENESIS_HASH);
    expect(r2.seq).toBe(2);
    expect(r2.prev_hash).toBe(r1.hash);
    const lines = (await readFile(path, "utf8")).split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe("");
    const parsed = JSON.parse(lines[0]!);
    expect(Object.keys(parsed)).toEqual([...AUDIT_FIELDS, "hash"]);
    const { hash, ...rest } = parsed;
    expect(hash).toBe(auditHash(rest));
    expect(lines[0]).toBe(`${canonicalAuditText(rest).slice(0, -1)},"hash":"${hash}"}`);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  it("continues the chain after a reopen", async () => {
    const path = fresh();
    let log = await openAuditLog(path, { sync: "never" });
    await log.append(entry(0));
    await log.close();
    log = await openAuditLog(path);
    const r = await log.append(entry(1));
    await log.close();
    expect(r.seq).toBe(2);
    expect(await verifyAuditFile(path)).toEqual({ ok: true, lines: 2 });
  });

  it("finds the last line past a small read window (long lines)", async () => {
    const path = fresh();
    let log = await openAuditLog(path, { sync: "never" });
    const long = Array.from({ length: 64 }, (_, i) => `k${i}`.padEnd(64, "x"));
    for (let i = 0; i < 3; i++) await log.append(entry(i, { target_keys: long }));
    await log.close();
    log = await openAuditLog(path, { sync: "never" });
    expect((await log.append(entry(3))).seq).toBe(4);
    await log.close();
    expect(await verifyAuditFile(path)).toEqual({ ok: true, lines: 4 });
  });

  it("serialises concurrent appends into one chain", async () => {
    const path = fresh();
    const log = await openAuditLog(path, { sync: "never" });
    const records = await Promise.all(Array.from({ length: 50 }, (_, i) => log.append(entry(i))));
    await log.close();
    expect(records.map((r) => r.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(await verifyAuditFile(path)).toEqual({ ok: true, lines: 50 });
  });

  it.each([
    ["a torn last line", '{"v":1'],
    ["a last line that is not JSON", "garbage\n"],
    ["an edited last line", "EDIT"],
  ])("refuses to start on %s", async (_what, tail) => {
    const path = fresh();
    const log = await openAuditLog(path, { sync: "never" });
    await log.append(entry(0));
    await log.close();
    if (tail === "EDIT") {
      const text = await readFile(path, "utf8");
      await writeFile(path, text.replace('"granted"', '"denied"'));
    } else {
      await appendFile(path, tail);
    }
    const err = await openAuditLog(path).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuditLogError);
    expect((err as AuditLogError).code).toBe("corrupt_tail");
    expect((err as Error).message).toContain("intentgate audit verify");
  });

  it.each([
    ["line", "line"],
    ["always (the former name of line)", "always"],
    ["group (the default)", undefined],
    ["group", "group"],
    ["never", "never"],
  ] as const)(
    "policy %s: every line is in the file when append resolves, in chain order",
    async (_, sync) => {
      const path = fresh();
      const log = await openAuditLog(path, sync === undefined ? {} : { sync });
      const written = await Promise.all(Array.from({ length: 40 }, (_, i) => log.append(entry(i))));
      // before close: the lines are already in the file (written before append resolved)
      const text = await readFile(path, "utf8");
      expect(text.split("\n").filter((l) => l !== "")).toHaveLength(40);
      for (let i = 0; i < 60; i++) {
        const r = await log.append(entry(40 + i)); // sequential: each waits (line) or not (group) for a sync
        expect(r.seq).toBe(41 + i);
      }
      await log.close();
      expect(written.map((r) => r.seq)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
      expect(await verifyAuditFile(path)).toEqual({ ok: true, lines: 100 });
    },
  );

  it("refuses an unknown sync policy", async () => {
    await expect(openAuditLog(fresh(), { sync: "sometimes" as "line" })).rejects.toThrow(TypeError);
  });

  it("refuses appends after close", async () => {
    const log = await openAuditLog(fresh());
    await log.close();
    await expect(log.append(entry(0))).rejects.toThrow(AuditLogError);
  });

  it("reports a file it cannot open without its content", async () => {
    const err = await openAuditLog(join(dir, "no-such-dir", "a.jsonl")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuditLogError);
    expect((err as AuditLogError).code).toBe("unreadable");
    expect((err as Error).message).toMatch(/ENOENT/);
  });
});
