import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { parseConfigText } from "../../config/loadConfig.js";
import { RESTART_ONLY_SETTINGS, restartOnlyChanges } from "./restartOnlySettings.js";

const README = readFileSync(resolve(import.meta.dirname, "../../../README.md"), "utf8");

describe("settings a SIGHUP reload does not apply", () => {
  it("names a changed venue, signing or bus setting, and nothing else", async () => {
    const { config: before } = await parseConfigText("{}", "json", {});
    const { config: after } = await parseConfigText(
      JSON.stringify({ batch_size: 7, limits: { max_qty: { BTCUSDT: "1" } } }),
      "json",
      {},
    );
    expect(restartOnlyChanges(before, after)).toEqual(["batch_size"]);
    expect(restartOnlyChanges(before, { ...before, venues: { ...before.venues } })).toEqual([]);
    // the paper venue's reference prices reload; the live venues do not
    expect(
      restartOnlyChanges(before, {
        ...before,
        venues: { paper: { prices: { BTCUSDT: "1" }, rest_limits: false } },
      }),
    ).toEqual([]);
    const liveVenue = { "binance-usdm": { accounts: {} } } as unknown as typeof before.venues;
    expect(restartOnlyChanges(before, { ...before, venues: liveVenue, signing: {} as never })).toEqual([
      "signing",
      "venues",
    ]);
  });

  it("the README's Configuration section lists exactly these as needing a restart", () => {
    const para = README.slice(README.indexOf("it does **not** reopen anything opened at start"));
    const listed = para.slice(0, para.indexOf("need a restart")).match(/`([a-z_]+)`/g) ?? [];
    expect(listed.map((s) => s.slice(1, -1)).sort()).toEqual([...RESTART_ONLY_SETTINGS].sort());
  });
});
