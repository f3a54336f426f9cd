import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ownUid, socketProblem } from "./socketCheck.js";

const UID = ownUid()!;
/** Handing a file to another uid (chown) needs root. */
const ROOT = UID === 0;
let dir: string;
const servers: Server[] = [];

async function socketAt(path: string, mode = 0o600): Promise<string> {
  const server = createServer();
  servers.push(server);
  await new Promise<void>((r) => server.listen(path, r));
  chmodSync(path, mode);
  return path;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "ig-sockcheck-"));
});
afterAll(async () => {
  for (const s of servers) await new Promise<void>((r) => s.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

describe("the client's socket check (signing-plane-v1 §5)", () => {
  it("accepts a 0600 socket of the expected uid in a folder only its owner writes", async () => {
    const d = mkdtempSync(join(dir, "ok-"));
    expect(await socketProblem(await socketAt(join(d, "s.sock")), UID)).toBeUndefined();
  });

  it.skipIf(!ROOT)("refuses a socket owned by another uid (an impostor's)", async () => {
    const d = mkdtempSync(join(dir, "owner-"));
    const path = await socketAt(join(d, "s.sock"));
    chownSync(path, UID + 4242, UID + 4242);
    expect(await socketProblem(path, UID)).toMatch(/owned by uid \d+, not \d+/);
    // … unless that uid is the one configured as the signer's.
    expect(await socketProblem(path, UID + 4242)).toBeUndefined();
  });

  it.each([0o666, 0o660, 0o604])("refuses a socket with mode %o", async (mode) => {
    const d = mkdtempSync(join(dir, "mode-"));
    expect(await socketProblem(await socketAt(join(d, "s.sock"), mode), UID)).toMatch(/not 0600/);
  });

  it("refuses a path that is not a socket, or a symlink to one", async () => {
    const d = mkdtempSync(join(dir, "kind-"));
    writeFileSync(join(d, "file"), "");
    chmodSync(join(d, "file"), 0o600);
    expect(await socketProblem(join(d, "file"), UID)).toMatch(/not a socket/);
    const real = await socketAt(join(d, "real.sock"));
    symlinkSync(real, join(d, "link.sock"));
    expect(await socketProblem(join(d, "link.sock"), UID)).toMatch(/not a socket/);
    expect(await socketProblem(join(d, "missing.sock"), UID)).toMatch(/ENOENT/);
  });

  it.each([0o777, 0o1777, 0o770])(
    "refuses a socket in a folder with mode %o (group/others may write, sticky or not)",
    async (mode) => {
      const d = mkdtempSync(join(dir, "folder-"));
      const path = await socketAt(join(d, "s.sock"));
      chmodSync(d, mode);
      expect(await socketProblem(path, UID)).toMatch(/its folder .* writable by group or others/);
    },
  );

  it("refuses a socket not of the expected uid (the uid a client is configured to expect)", async () => {
    const d = mkdtempSync(join(dir, "expect-"));
    expect(await socketProblem(await socketAt(join(d, "s.sock")), UID + 4242)).toMatch(
      new RegExp(`owned by uid ${UID}, not ${UID + 4242}`),
    );
  });

  it.skipIf(!ROOT)("refuses a folder owned by another uid", async () => {
    const d = mkdtempSync(join(dir, "theirs-"));
    const path = await socketAt(join(d, "s.sock"));
    chownSync(d, UID + 4242, UID + 4242);
    expect(await socketProblem(path, UID)).toMatch(/its folder .* owned by uid/);
  });

  it("refuses a socket under a folder others may write", async () => {
    const open = mkdtempSync(join(dir, "open-"));
    chmodSync(open, 0o777);
    mkdirSync(join(open, "inner"), { mode: 0o700 });
    const inner = await socketAt(join(open, "inner", "s.sock"));
    expect(await socketProblem(inner, UID)).toMatch(/above the socket\) has mode 0777/);
  });
});
