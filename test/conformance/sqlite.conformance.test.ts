import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach } from "vitest";
import { openSqliteBackend } from "../../src/adapters/sqlite/sqliteBackend.js";
import { describeBackendConformance } from "./backendConformance.js";

// A fresh database file per test; every backend a test opens (e.g. two
// prefixes in the isolation test) shares that test's file, so prefix isolation
// is tested within one file.
let dir: string | undefined;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "ig-sqlite-conf-"));
});

afterEach(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

const busFile = () => {
  if (dir === undefined) throw new Error("no temp dir for this test");
  return join(dir, "nested", "bus.db");
};

describeBackendConformance(
  "sqlite",
  (prefix) => openSqliteBackend({ url: `sqlite:${busFile()}`, prefix, create: "file" }),
  {
    // A data loss on the embedded bus: the file is deleted (and re-created by whoever creates it next).
    wipe: async () => {
      for (const suffix of ["", "-wal", "-shm"]) rmSync(`${busFile()}${suffix}`, { force: true });
      const fresh = await openSqliteBackend({ url: `sqlite:${busFile()}`, prefix: "x:", create: "file" });
      await fresh.close();
    },
  },
);
