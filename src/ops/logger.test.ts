import { spawnSync } from "node:child_process";
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger, flushLogger } from "./logger.js";

function collector(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  });
  return {
    stream,
    lines: () =>
      chunks
        .join("")
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe("createLogger", () => {
  it("writes JSON lines at or above its level", async () => {
    const c = collector();
    const log = createLogger({ level: "info", destination: c.stream });
    log.debug("hidden");
    log.info({ plan_id: "p1" }, "decided");
    await flushLogger(log);
    const lines = c.lines();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 30, msg: "decided", plan_id: "p1" });
    expect(typeof lines[0]?.time).toBe("number");
  });

  it("redacts secret and auth fields at the top level and one level down", async () => {
    const c = collector();
    const log = createLogger({ level: "trace", destination: c.stream });
    log.info(
      { secret: "s1", auth: "hmac-sha256:k:sig1", entry: { auth: "a2", secret: "s2", other: "kept" } },
      "x",
    );
    await flushLogger(log);
    const text = JSON.stringify(c.lines());
    for (const s of ["s1", "sig1", "a2", "s2"]) expect(text).not.toContain(`"${s}`);
    expect(c.lines()[0]).toMatchObject({
      secret: "[REDACTED]",
      auth: "[REDACTED]",
      entry: { auth: "[REDACTED]", secret: "[REDACTED]", other: "kept" },
    });
  });

  it("silent logs nothing", async () => {
    const c = collector();
    const log = createLogger({ level: "silent", destination: c.stream });
    log.fatal("nope");
    await flushLogger(log);
    expect(c.lines()).toHaveLength(0);
  });

  it("writes to stdout by default and flushes before exit", () => {
    const script = `
      const { createLogger, flushLogger } = await import(${JSON.stringify(new URL("./logger.ts", import.meta.url).href)});
      const log = createLogger({ level: "info" });
      for (let i = 0; i < 1000; i++) log.info({ i, secret: "zz" }, "line");
      await flushLogger(log);
      process.exit(0);
    `;
    const r = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      encoding: "utf8",
      cwd: new URL("../..", import.meta.url).pathname,
    });
    expect(r.stderr).toBe("");
    const lines = r.stdout.trim().split("\n");
    expect(lines).toHaveLength(1000);
    expect(JSON.parse(lines[999] ?? "{}")).toMatchObject({ i: 999, secret: "[REDACTED]" });
  });
});
