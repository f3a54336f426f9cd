import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../support/executorHarness.js";

/** Starts `intentgate emulator …`, waits for its URL line, returns it and a stopper. */
async function startCli(args: string[], env: Record<string, string>) {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", join(ROOT, "src/apps/cli/main.ts"), "emulator", ...args],
    {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    },
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
    if (Date.now() - t0 > 20_000 || child.exitCode !== null) throw new Error(`no URL line: ${out}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const line = JSON.parse(out.split("\n")[0]!) as { venue: string; url: string };
  return {
    line,
    output: () => out,
    async stop() {
      child.kill("SIGTERM");
      return exited;
    },
  };
}

describe("intentgate emulator (dry runs)", () => {
  it("binance: serves the venue's API on the printed URL, keeps the secret out of its output, exits 0 on SIGTERM", async () => {
    const secret = "cli-emulator-secret-CANARY";
    const emu = await startCli(["binance", "--account", "a1", "--api-key-env", "K", "--secret-env", "S"], {
      K: "k".repeat(64),
      S: secret,
    });
    expect(emu.line.venue).toBe("binance-usdm");
    const time = (await (await fetch(`${emu.line.url}/fapi/v1/time`)).json()) as { serverTime: number };
    expect(typeof time.serverTime).toBe("number");
    // an unsigned order is refused as Binance refuses it
    const res = await fetch(`${emu.line.url}/fapi/v1/order?symbol=BTCUSDT`, {
      method: "POST",
      headers: { "X-MBX-APIKEY": "k".repeat(64) },
    });
    expect(res.status).toBe(400);
    expect(await emu.stop()).toBe(0);
    expect(emu.output()).not.toContain(secret);
  }, 30_000);

  it("polymarket: serves tick sizes for its markets", async () => {
    const emu = await startCli(
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
        "123:0.001",
      ],
      { K: "key-1", S: Buffer.from("l2-secret").toString("base64"), P: "pass" },
    );
    const tick = (await (await fetch(`${emu.line.url}/tick-size?token_id=123`)).json()) as Record<
      string,
      unknown
    >;
    expect(JSON.stringify(tick)).toContain("0.001");
    expect(await emu.stop()).toBe(0);
  }, 30_000);
});
