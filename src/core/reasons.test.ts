import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { baseCode, REASON_CODES, reason } from "./reasons.js";

/** The README's reason-code table, as `code → gate number`. */
function readmeReasonTable(): Map<string, number> {
  const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
  const section = readme.slice(readme.indexOf("## Reason codes"), readme.indexOf("## Configuration"));
  const rows = new Map<string, number>();
  for (const match of section.matchAll(/^\| `([A-Za-z_]+)` \| (\d+) /gm))
    rows.set(match[1] as string, Number(match[2]));
  return rows;
}

describe("reason codes", () => {
  it("every code is documented in the README with its gate, and the README documents no other", () => {
    expect(Object.fromEntries(readmeReasonTable())).toEqual(REASON_CODES);
  });

  it("builds and splits codes with details", () => {
    expect(reason("limit", "max_qty")).toBe("limit:max_qty");
    expect(reason("trading_halted")).toBe("trading_halted");
    expect(baseCode("NOT_EXIT_OWNER:source=a:b")).toBe("NOT_EXIT_OWNER");
    expect(baseCode("stale_plan")).toBe("stale_plan");
  });
});
