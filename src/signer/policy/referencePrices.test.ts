import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseDecimal } from "../../core/decimal.js";
import { openReferencePrices, ReferencePriceFileError, ReferencePrices } from "./referencePrices.js";

const NOW = 1_764_864_000_000;
const d = (s: string) => parseDecimal(s)!;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "ig-prices-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const file = (entries: Record<string, Record<string, { price: string; as_of_ms: number }>>) =>
  JSON.stringify(entries);

describe("the signer's reference prices", () => {
  it("static prices from the config, by venue and symbol; never aged", () => {
    const p = ReferencePrices.fromConfig({
      max_age_ms: 1000,
      reload_ms: 1000,
      prices: { "binance-usdm": { BTCUSDT: "65000" }, polymarket: { "42": "0.6" } },
    });
    expect(p.reference("binance-usdm", "BTCUSDT", NOW)).toBe(d("65000"));
    expect(p.reference("polymarket", "42", NOW * 2)).toBe(d("0.6"));
    expect(p.reference("binance-usdm", "ETHUSDT", NOW)).toBeUndefined();
    expect(p.reference("polymarket", "BTCUSDT", NOW)).toBeUndefined();
  });

  it("a file's price is a reference while younger than max_age_ms, and wins over a static one", async () => {
    const path = join(dir, "prices.json");
    await writeFile(path, file({ "binance-usdm": { BTCUSDT: { price: "70000", as_of_ms: NOW } } }), {
      mode: 0o644,
    });
    const p = await openReferencePrices({
      max_age_ms: 60_000,
      reload_ms: 100,
      file: path,
      prices: { "binance-usdm": { BTCUSDT: "65000" } },
    });
    try {
      expect(p.reference("binance-usdm", "BTCUSDT", NOW + 60_000)).toBe(d("70000"));
      expect(p.reference("binance-usdm", "BTCUSDT", NOW + 60_001)).toBe(d("65000")); // too old: the static one
      // Re-read when it changes.
      await writeFile(path, file({ "binance-usdm": { BTCUSDT: { price: "71000", as_of_ms: NOW + 5000 } } }));
      for (
        let i = 0;
        i < 100 && p.reference("binance-usdm", "BTCUSDT", NOW + 5000)?.valueOf() !== d("71000");
        i++
      )
        await new Promise((r) => setTimeout(r, 50));
      expect(p.reference("binance-usdm", "BTCUSDT", NOW + 5000)).toBe(d("71000"));
      // A file that stops parsing is ignored: the prices read before stay (and age out).
      await writeFile(path, "{not json");
      await new Promise((r) => setTimeout(r, 300));
      expect(p.reference("binance-usdm", "BTCUSDT", NOW + 5000)).toBe(d("71000"));
    } finally {
      p.close();
    }
  });

  it.each([
    ["not JSON", "{x", /not valid JSON/],
    ["an unknown venue", file({ kraken: {} } as never), /unknown venue/],
    [
      "a price that is not a positive decimal",
      file({ "binance-usdm": { X: { price: "-1", as_of_ms: NOW } } }),
      /price/,
    ],
    [
      "a Polymarket price above 1",
      file({ polymarket: { "1": { price: "1.5", as_of_ms: NOW } } }),
      /at most 1/,
    ],
    ["no time", JSON.stringify({ "binance-usdm": { X: { price: "1" } } }), /as_of_ms/],
  ])("refuses to start on a file with %s", async (_what, text, message) => {
    const path = join(dir, `bad-${Math.random()}.json`);
    await writeFile(path, text, { mode: 0o600 });
    const err = await openReferencePrices({ max_age_ms: 1, reload_ms: 1000, file: path, prices: {} }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ReferencePriceFileError);
    expect((err as Error).message).toMatch(message);
  });

  it("refuses a file group or others may write (they could lower the signer's limits)", async () => {
    const path = join(dir, "shared.json");
    await writeFile(path, file({}));
    await chmod(path, 0o664);
    const err = await openReferencePrices({ max_age_ms: 1, reload_ms: 1000, file: path, prices: {} }).catch(
      (e: unknown) => e,
    );
    expect((err as Error).message).toContain(`${path} has mode 0664`);
  });
});
