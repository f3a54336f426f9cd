import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT } from "../support/executorHarness.js";
import { runCli } from "../support/runCli.js";

/** `intentgate emulator binance|polymarket` as a child process; its start line, and a stopper. */
async function startEmulator(args: string[], env: Record<string, string>) {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", join(ROOT, "src/apps/cli/main.ts"), "emulator", ...args],
    { cwd: ROOT, env: { PATH: process.env.PATH ?? "", ...env }, stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  child.stdout.on("data", (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on("data", (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<number | null>((r) => child.once("exit", r));
  const t0 = Date.now();
  while (!out.includes("\n")) {
    if (Date.now() - t0 > 20_000 || child.exitCode !== null) throw new Error(`no start line: ${out}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const line = JSON.parse(out.split("\n")[0]!) as { venue: string; url: string; admin: string };
  const stop = () => {
    child.kill("SIGTERM");
    return exited;
  };
  return { line, output: () => out, stop };
}

const dir = mkdtempSync(join(tmpdir(), "ig-emu-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("intentgate emulator book / price (operator CLI) and --request-log", () => {
  it("binance: price moves the mark, book sets the depth; the request log has no key or secret", async () => {
    const key = "CANARYkeyCLI".padEnd(64, "q");
    const secret = "CANARY-cli-secret";
    const log = join(dir, "binance.jsonl");
    const emu = await startEmulator(
      ["binance", "--account", "a1", "--api-key-env", "K", "--secret-env", "S", "--request-log", log],
      { K: key, S: secret },
    );
    try {
      expect(emu.line.admin).toMatch(/^http:\/\/127\.0\.0\.1:[0-9]+$/);
      const price = await runCli([
        "emulator",
        "price",
        "--admin",
        emu.line.admin,
        "--symbol",
        "BTCUSDT",
        "--price",
        "71000",
      ]);
      expect(price.code, price.stderr).toBe(0);
      expect(JSON.parse(price.stdout)).toEqual({ symbol: "BTCUSDT", markPrice: "71000" });
      const ticker = await (await fetch(`${emu.line.url}/fapi/v1/ticker/24hr?symbol=BTCUSDT`)).json();
      expect(ticker).toMatchObject({ lastPrice: "71000.00" });
      const book = await runCli([
        "emulator",
        "book",
        "--admin",
        emu.line.admin,
        "--symbol",
        "BTCUSDT",
        "--bid",
        "70990:1.2",
        "--ask",
        "71010:0.5",
        "--ask",
        "71020:3",
      ]);
      expect(book.code, book.stderr).toBe(0);
      const depth = await (await fetch(`${emu.line.url}/fapi/v1/depth?symbol=BTCUSDT`)).json();
      expect(depth).toMatchObject({
        bids: [["70990.00", "1.200"]],
        asks: [
          ["71010.00", "0.500"],
          ["71020.00", "3.000"],
        ],
      });
      const bad = await runCli([
        "emulator",
        "price",
        "--admin",
        emu.line.admin,
        "--symbol",
        "NOPE",
        "--price",
        "1",
      ]);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain("symbol NOPE is not listed");
      // a signed request with the key, and a badly signed one
      await fetch(`${emu.line.url}/fapi/v3/account?timestamp=${Date.now()}&signature=${"0".repeat(64)}`, {
        headers: { "X-MBX-APIKEY": key },
      });
    } finally {
      expect(await emu.stop()).toBe(0);
    }
    const lines = readFileSync(log, "utf8").trim().split("\n");
    expect(lines.map((l) => JSON.parse(l).path)).toEqual(
      expect.arrayContaining(["/fapi/v1/ticker/24hr", "/fapi/v1/depth", "/fapi/v3/account"]),
    );
    const text = readFileSync(log, "utf8");
    expect(text).not.toContain("CANARY");
    expect(text).not.toMatch(/signature|0{64}/);
    expect(emu.output()).not.toContain(secret);
  }, 60_000);

  it("polymarket: a market starts with an empty book; price and book set it", async () => {
    const emu = await startEmulator(
      [
        "polymarket",
        "--address",
        "0x0000000000000000000000000000000000000001",
        "--api-key-env",
        "K",
        "--secret-env",
        "S",
        "--passphrase-env",
        "P",
        "--market",
        "555:0.01",
      ],
      { K: "key-1", S: Buffer.from("l2-secret").toString("base64"), P: "pass" },
    );
    try {
      const book = async () =>
        (await (await fetch(`${emu.line.url}/book?token_id=555`)).json()) as Record<string, unknown>;
      expect(await book()).toMatchObject({ bids: [], asks: [] });
      const price = await runCli([
        "emulator",
        "price",
        "--admin",
        emu.line.admin,
        "--symbol",
        "555",
        "--price",
        "0.42",
        "--size",
        "10",
      ]);
      expect(price.code, price.stderr).toBe(0);
      expect(await book()).toMatchObject({
        bids: [{ price: "0.41", size: "10" }],
        asks: [{ price: "0.42", size: "10" }],
      });
      const set = await runCli([
        "emulator",
        "book",
        "--admin",
        emu.line.admin,
        "--symbol",
        "555",
        "--bid",
        "0.3:7",
      ]);
      expect(set.code, set.stderr).toBe(0);
      expect(await book()).toMatchObject({ bids: [{ price: "0.3", size: "7" }], asks: [] });
    } finally {
      expect(await emu.stop()).toBe(0);
    }
  }, 60_000);
});
