import { describe, expect, it } from "vitest";
import { parseAlertEntry, UNREADABLE_ALERT_KIND } from "./alertRecord.js";
import { alertSummary, MAX_SUMMARY_CHARS } from "./alertSummary.js";

describe("parseAlertEntry", () => {
  it("parses an alert and bounds its labels", () => {
    const r = parseAlertEntry(
      "5-1",
      '{"v":1,"kind":"deployment_lost","severity":"critical","dedup_key":"d","expected":"dep-1","found":null}',
    );
    expect(r).toMatchObject({ id: "5-1", kind: "deployment_lost", severity: "critical", dedupKey: "d" });
    expect(parseAlertEntry("5-2", '{"kind":"Weird Kind!","severity":"loud"}')).toMatchObject({
      kind: "other",
      severity: "unknown",
      dedupKey: undefined,
    });
  });

  it("turns an entry without a readable alert into an unreadable_alert, never dropping it", () => {
    for (const [text, error] of [
      [undefined, "the entry has no alert field"],
      ["{oops", "the alert field is not valid JSON"],
      ["[1,2]", "the alert field is not a JSON object"],
    ] as const) {
      const r = parseAlertEntry("1700000000000-3", text);
      expect(r.kind).toBe(UNREADABLE_ALERT_KIND);
      expect(r.severity).toBe("warning");
      expect(JSON.parse(r.text)).toEqual({
        v: 1,
        timestamp: 1700000000000,
        kind: UNREADABLE_ALERT_KIND,
        severity: "warning",
        dedup_key: "unreadable_alert:1700000000000-3",
        stream_id: "1700000000000-3",
        error,
      });
    }
  });
});

describe("alertSummary", () => {
  it("is one bounded line: severity, kind, the alert's own fields, its id", () => {
    const r = parseAlertEntry(
      "9-0",
      JSON.stringify({
        v: 1,
        timestamp: 1,
        kind: "deployment_lost",
        severity: "critical",
        dedup_key: "x",
        expected: "dep-1",
        found: null,
        nested: { a: 1 },
      }),
    );
    expect(alertSummary(r)).toBe(
      '[CRITICAL] deployment_lost: expected=dep-1 found=null nested={"a":1} (alert 9-0)',
    );
    const long = parseAlertEntry(
      "9-1",
      JSON.stringify({
        kind: "k",
        severity: "info",
        error: `a\nb${"x".repeat(2000)}`,
        more: "y".repeat(500),
      }),
    );
    const line = alertSummary(long);
    expect(line.length).toBeLessThanOrEqual(MAX_SUMMARY_CHARS);
    expect(line).not.toContain("\n");
    expect(line.endsWith("(alert 9-1)")).toBe(true);
  });
});
