/**
 * Several real processes on ONE SQLite file: 2 producers publish 2,000
 * entries, 3 consumers read/decide/commit concurrently (all moving one shared
 * position under a position check, so they conflict and re-decide), and one
 * consumer dies holding entries, which the others must reclaim once the lease
 * lapses. Asserts: every published entry gets exactly one result, nothing is
 * lost or left pending, the shared position equals the number of entries
 * (no lost update), and no SQLITE_BUSY escapes any process.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, expect, it } from "vitest";
import { openSqliteBackend } from "../../src/adapters/sqlite/sqliteBackend.js";
import type { ResultEntry } from "../../src/ports/bus.js";
import { uniquePrefix } from "../support/uniquePrefix.js";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const dir = mkdtempSync(join(tmpdir(), "ig-sqlite-mp-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Child {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(fixture: string, args: string[]): Promise<Child> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", join(here, "fixtures", fixture), ...args], {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString("utf8");
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString("utf8");
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

const lastJson = <T>(c: Child): T => JSON.parse(c.stdout.trim().split("\n").at(-1)!) as T;

interface ConsumerStats {
  name: string;
  handedOut: string[];
  reclaimed: Array<[string, number]>;
  committed: string[];
  duplicates: number;
  conflicts: number;
}

it("2 producers, 3 consumers and a crashing consumer share one file without loss or double results", async () => {
  const url = `sqlite:${join(dir, "bus.db")}`;
  const prefix = uniquePrefix();
  const perProducer = 1000;
  const total = 2 * perProducer;

  // First, deterministically, a consumer takes 20 entries and dies holding them.
  const setup = await openSqliteBackend({ url, prefix, create: "file" });
  await setup.initDeployment({ state: "ACTIVE", who: "test" });
  const early: string[] = [];
  for (let i = 0; i < 20; i++) {
    const lane = i % 2 === 0 ? "main" : "manual";
    const id = await setup.publish(lane, [
      ["plan", JSON.stringify({ v: 1, plan_id: `early-${i}`, source: "load", symbol: "SYM" })],
    ]);
    early.push(`${lane}/${id}`);
  }
  await setup.close();
  const crashed = await run("sqliteConsumer.ts", [url, prefix, "crasher", "0", "crash"]);
  expect(crashed.code, crashed.stderr).toBe(0);
  const held = lastJson<{ held: string[] }>(crashed).held;
  expect(new Set(held)).toEqual(new Set(early));

  const t0 = Date.now();
  const producers = ["pa", "pb"].map((tag) =>
    run("sqliteProducer.ts", [url, prefix, String(perProducer), tag]),
  );
  const consumers = ["c1", "c2", "c3"].map((n) =>
    run("sqliteConsumer.ts", [url, prefix, n, String(total + early.length), "work"]),
  );
  const children = await Promise.all([...producers, ...consumers]);
  const elapsedMs = Date.now() - t0;

  for (const c of children) {
    expect(c.stderr).not.toMatch(/SQLITE_BUSY|database is locked/i);
    expect(c.code, c.stderr).toBe(0);
  }
  const [pa, pb, ...workers] = children as [Child, Child, ...Child[]];
  const produced = [
    ...lastJson<{ published: string[] }>(pa).published,
    ...lastJson<{ published: string[] }>(pb).published,
  ];
  expect(new Set(produced).size).toBe(total);
  const published = [...early, ...produced];
  const stats = workers.map((w) => lastJson<ConsumerStats>(w));

  // Each entry handed out as new exactly once across all consumers (the crasher included).
  const handedOut = [...held, ...stats.flatMap((s) => s.handedOut)];
  expect(handedOut.length).toBe(published.length);
  expect(new Set(handedOut)).toEqual(new Set(published));

  // Each entry committed exactly once; the crasher's entries were reclaimed with deliveries >= 2.
  const committed = stats.flatMap((s) => s.committed);
  expect(committed.length).toBe(published.length);
  expect(new Set(committed)).toEqual(new Set(published));
  const reclaimed = new Map(stats.flatMap((s) => s.reclaimed));
  for (const k of held) expect(reclaimed.get(k) ?? 0).toBeGreaterThanOrEqual(2);

  // The result stream: exactly one result per entry, ids strictly increasing.
  const bus = await openSqliteBackend({ url, prefix });
  try {
    const results: ResultEntry[] = [];
    for (let cursor = "0"; ; ) {
      const page = await bus.readResults(cursor, 500, 0);
      if (page.length === 0) break;
      results.push(...page);
      cursor = page[page.length - 1]!.id;
    }
    expect(results.length).toBe(published.length);
    const answered = results.map((r) => `${r.result.lane}/${r.result.stream_id}`);
    expect(new Set(answered)).toEqual(new Set(published));
    const ids = results.map((r) => r.id.split("-").map(Number) as [number, number]);
    for (let i = 1; i < ids.length; i++) {
      const [a, b] = [ids[i - 1]!, ids[i]!];
      expect(b[0] > a[0] || (b[0] === a[0] && b[1] > a[1])).toBe(true);
    }
    expect(await bus.pendingCount()).toBe(0);
    expect(await bus.dlqLength()).toBe(0);
    // Every decision moved the one shared position by 1 under a position check: no lost update.
    expect(await bus.positions()).toEqual([
      { venue: "paper", mode: "paper", account: "acct", symbol: "SYM", qty: String(published.length) },
    ]);
  } finally {
    await bus.close();
  }

  const conflicts = stats.reduce((n, s) => n + s.conflicts, 0);
  const duplicates = stats.reduce((n, s) => n + s.duplicates, 0);
  console.log(
    `sqlite multi-process: ${total} produced entries + ${early.length} early in ${elapsedMs} ms (incl. process start-up), ` +
      `${conflicts} conflicts re-decided, ${duplicates} duplicates, ${held.length} reclaimed from the crashed consumer`,
  );
}, 120_000);
