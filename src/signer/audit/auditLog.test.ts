import { randomBytes } from "node:crypto";
import { appendFile, chmod, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuditLogError, openAuditLog } from "./auditLog.js";
import {
  AUDIT_FIELDS,
  type AuditEntry,
  type AuditRecord,
  auditMac,
  canonicalAuditText,
  GENESIS_MAC,
} from "./auditRecord.js";
import { verifyAuditFile } from "./verifyAudit.js";

const KEY = randomBytes(32);
let dir: string;
let n = 0;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "ig-audit-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
const fresh = (): string => join(dir, `audit-${++n}.jsonl`);
const open = (path: string, over: Partial<Parameters<typeof openAuditLog>[1]> = {}) =>
  openAuditLog(path, { key: KEY, sync: "never", ...over });

function entry(i: number, over: Partial<AuditEntry> = {}): AuditEntry {
  return {
    time: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
    request_id: `r-${i}`,
    caller: "executor-1",
    account: "acct1",
    intent: "cex_api_signer",
    route: "executor.binance-usdm.order",
    action: "order",
    target: { symbol: "BTCUSDT", side: "BUY" },
    guard_context: { plan_id: `p-${i}` },
    key: i % 2 === 0 ? "trade" : null,
    cancel_capable: false,
    notional: null,
    reference_price: null,
    decision: i % 2 === 0 ? "granted" : "denied",
    reason: i % 2 === 0 ? "ok" : "route_not_allowed",
    ...over,
  };
}

describe("audit log writer", () => {
  it("writes one canonical line per append, MAC-chained from the genesis", async () => {
    const path = fresh();
    const log = await open(path, { sync: "group" });
    const r1 = await log.append(entry(0));
    const r2 = await log.append(entry(1));
    await log.close();
    expect(r1.seq).toBe(1);
    expect(r1.prev_mac).toBe(GENESIS_MAC);
    expect(r2.seq).toBe(2);
    expect(r2.prev_mac).toBe(r1.mac);
    const lines = (await readFile(path, "utf8")).split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe("");
    const parsed = JSON.parse(lines[0]!);
    expect(Object.keys(parsed)).toEqual([...AUDIT_FIELDS, "mac"]);
    const { mac, ...rest } = parsed;
    expect(mac).toBe(auditMac(KEY, rest));
    expect(lines[0]).toBe(`${canonicalAuditText(rest).slice(0, -1)},"mac":"${mac}"}`);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  it("continues the chain after a reopen, verifying every line and handing each to onRecord", async () => {
    const path = fresh();
    let log = await open(path);
    for (let i = 0; i < 3; i++) await log.append(entry(i));
    await log.close();
    const seen: AuditRecord[] = [];
    log = await open(path, { onRecord: (r) => seen.push(r) });
    const r = await log.append(entry(3));
    await log.close();
    expect(seen.map((x) => x.seq)).toEqual([1, 2, 3]);
    expect(r.seq).toBe(4);
    expect(await verifyAuditFile(path, KEY)).toEqual({ ok: true, lines: 4 });
  });

  it("serialises concurrent appends into one chain", async () => {
    const path = fresh();
    const log = await open(path);
    const records = await Promise.all(Array.from({ length: 50 }, (_, i) => log.append(entry(i))));
    await log.close();
    expect(records.map((r) => r.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(await verifyAuditFile(path, KEY)).toEqual({ ok: true, lines: 50 });
  });

  it("a second writer on the same log is refused while the first holds it, and let in after", async () => {
    const path = fresh();
    const first = await open(path);
    await first.append(entry(0));
    const err = await open(path).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuditLogError);
    expect((err as AuditLogError).code).toBe("locked");
    expect((err as Error).message).toMatch(/held by another signer process/);
    await first.close();
    const second = await open(path);
    expect((await second.append(entry(1))).seq).toBe(2);
    await second.close();
  });

  it.each([0o644, 0o640, 0o606, 0o660])(
    "refuses a log file with mode %o, naming it and the mode to set",
    async (mode) => {
      const path = fresh();
      const log = await open(path);
      await log.append(entry(0));
      await log.close();
      await chmod(path, mode);
      const err = await open(path).catch((e: unknown) => e);
      expect((err as AuditLogError).code).toBe("permissions");
      expect((err as Error).message).toContain(path);
      expect((err as Error).message).toContain(`chmod 600 ${path}`);
    },
  );

  it.each([
    ["a torn last line", '{"v":2', "corrupt_tail", undefined],
    ["a last line that is not JSON", "garbage\n", "corrupt", 3],
    ["an edited last line", "EDIT_LAST", "corrupt", 2],
    ["an edited first line", "EDIT_FIRST", "corrupt", 1],
    ["a file written under another key", "OTHER_KEY", "corrupt", 1],
  ] as const)("refuses to start on %s", async (_what, tamper, code, line) => {
    const path = fresh();
    const log = await openAuditLog(path, {
      key: tamper === "OTHER_KEY" ? randomBytes(32) : KEY,
      sync: "never",
    });
    await log.append(entry(0));
    await log.append(entry(1));
    await log.close();
    const text = await readFile(path, "utf8");
    if (tamper === "EDIT_LAST") {
      const ls = text.split("\n");
      ls[1] = ls[1]!.replace('"denied"', '"granted"');
      await writeFile(path, ls.join("\n"));
    } else if (tamper === "EDIT_FIRST") {
      await writeFile(path, text.replace('"granted"', '"denied"'));
    } else if (tamper !== "OTHER_KEY") {
      await appendFile(path, tamper);
    }
    const err = await open(path).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuditLogError);
    expect((err as AuditLogError).code).toBe(code);
    expect((err as Error).message).toContain("intentgate audit verify");
    if (line !== undefined) expect((err as Error).message).toContain(`line ${line} does not verify`);
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
      const log = await openAuditLog(path, sync === undefined ? { key: KEY } : { key: KEY, sync });
      const written = await Promise.all(Array.from({ length: 40 }, (_, i) => log.append(entry(i))));
      // before close: the lines are already in the file (written before append resolved)
      const text = await readFile(path, "utf8");
      expect(text.split("\n").filter((l) => l !== "")).toHaveLength(40);
      for (let i = 0; i < 60; i++) {
        const r = await log.append(entry(40 + i), { durable: i % 2 === 0 }); // durable: waits for a sync
        expect(r.seq).toBe(41 + i);
      }
      await log.close();
      expect(written.map((r) => r.seq)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
      expect(await verifyAuditFile(path, KEY)).toEqual({ ok: true, lines: 100 });
    },
  );

  it("refuses an unknown sync policy and an empty key", async () => {
    await expect(openAuditLog(fresh(), { key: KEY, sync: "sometimes" as "line" })).rejects.toThrow(TypeError);
    await expect(openAuditLog(fresh(), { key: Buffer.alloc(0) })).rejects.toThrow(TypeError);
  });

  it("refuses appends after close", async () => {
    const log = await open(fresh());
    await log.close();
    await expect(log.append(entry(0))).rejects.toThrow(AuditLogError);
  });

  it("reports a file it cannot open without its content", async () => {
    const err = await open(join(dir, "no-such-dir", "a.jsonl")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuditLogError);
    expect((err as AuditLogError).code).toBe("unreadable");
    expect((err as Error).message).toMatch(/ENOENT/);
  });
});
