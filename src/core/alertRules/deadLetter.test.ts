import { describe, expect, it } from "vitest";
import { dlqEntryFromFields } from "./deadLetter.js";
import { AlertRuleEngine } from "./engine.js";
import { parseAlertRules } from "./settings.js";

const T0 = 1_700_000_000_000;
const DLQ_FIELDS: [string, string][] = [
  ["plan", '{"plan_id":"p-1","source":"bot_a","secret_looking":"sk-123"}'],
  ["auth", "hmac-sha256:k1:c2lnbmF0dXJl"],
  ["lane", "main"],
  ["stream_id", "1700000000000-3"],
  ["deliveries", "10"],
  ["error", "internal_error:delivery_limit"],
];

describe("dead_letter", () => {
  it("alerts each DLQ entry with the executor's fields and dedup_key, and nothing of the plan", () => {
    const entry = dlqEntryFromFields(DLQ_FIELDS)!;
    const alerts = new AlertRuleEngine().observeDlq(entry, T0);
    expect(alerts).toEqual([
      {
        v: 1,
        timestamp: T0,
        kind: "dead_letter",
        severity: "warning",
        dedup_key: "dead_letter:main:1700000000000-3",
        lane: "main",
        stream_id: "1700000000000-3",
        plan_id: null,
        source: null,
        deliveries: 10,
        error: "internal_error:delivery_limit",
      },
    ]);
    const text = JSON.stringify(alerts);
    for (const secret of ["sk-123", "c2lnbmF0dXJl", 'plan_id\\":\\"p-1']) expect(text).not.toContain(secret);
  });

  it("the same entry read again within the cooldown alerts once; another entry alerts", () => {
    const engine = new AlertRuleEngine();
    const entry = dlqEntryFromFields(DLQ_FIELDS)!;
    expect(engine.observeDlq(entry, T0)).toHaveLength(1);
    expect(engine.observeDlq(entry, T0 + 1000)).toEqual([]);
    expect(engine.observeDlq({ ...entry, stream_id: "1700000000000-4" }, T0 + 1000)).toHaveLength(1);
    expect(engine.observeDlq(entry, T0 + 86_400_000)).toHaveLength(1);
  });

  it("enabled: false turns it off", () => {
    const engine = new AlertRuleEngine(parseAlertRules({ dlq: { enabled: false } }));
    expect(engine.observeDlq(dlqEntryFromFields(DLQ_FIELDS)!, T0)).toEqual([]);
  });

  it("reads the executor's fields, which come last, over the entry's own fields of the same name", () => {
    const fields: [string, string | Uint8Array][] = [
      ["lane", "manual"],
      ["stream_id", "1-1"],
      ...DLQ_FIELDS.slice(2),
    ];
    fields[3] = ["stream_id", new TextEncoder().encode("1700000000000-3")];
    expect(dlqEntryFromFields(fields)).toEqual({
      lane: "main",
      stream_id: "1700000000000-3",
      deliveries: 10,
      error: "internal_error:delivery_limit",
    });
  });

  it.each([
    ["no lane", DLQ_FIELDS.filter(([n]) => n !== "lane")],
    ["an unknown lane", [...DLQ_FIELDS, ["lane", "side"]]],
    ["no stream_id", DLQ_FIELDS.filter(([n]) => n !== "stream_id")],
    ["a stream_id that is not an id", [...DLQ_FIELDS, ["stream_id", "x\ny"]]],
  ] as [string, [string, string][]][])("%s: not a DLQ entry", (_name, fields) => {
    expect(dlqEntryFromFields(fields)).toBeNull();
  });

  it("reads unreadable deliveries and error as null", () => {
    const fields: [string, string][] = [...DLQ_FIELDS, ["deliveries", "ten"], ["error", "made_up"]];
    expect(dlqEntryFromFields(fields)).toMatchObject({ deliveries: null, error: null });
  });
});
