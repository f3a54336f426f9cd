import { describe, expect, it } from "vitest";
import { REASON_REGISTRY } from "../reasons.js";
import {
  AlertRuleSettingsError,
  alertRulesSchema,
  DEFAULT_ALERT_RULES,
  parseAlertRules,
} from "./settings.js";

describe("alert-rule settings", () => {
  it("defaults every key, and {} and undefined parse to DEFAULT_ALERT_RULES", () => {
    expect(alertRulesSchema.parse({})).toEqual(DEFAULT_ALERT_RULES);
    expect(alertRulesSchema.parse(undefined)).toEqual(DEFAULT_ALERT_RULES);
    expect(parseAlertRules({})).toEqual({
      deny_burst: {
        codes: ["NOT_EXIT_OWNER", "unauthenticated", "permit_invalid", "signer_denied", "venue_not_ready"],
        threshold: 10,
        window_ms: 60_000,
        cooldown_ms: 300_000,
      },
      source_silent: { after_ms: 300_000, cooldown_ms: 3_600_000, sources: null },
      unknown_open: { after_ms: 60_000, cooldown_ms: 3_600_000 },
      dlq: { enabled: true, cooldown_ms: 86_400_000 },
      max_tracked_keys: 10_000,
    });
  });

  it("the default codes are registered base codes", () => {
    for (const code of DEFAULT_ALERT_RULES.deny_burst.codes)
      expect(Object.hasOwn(REASON_REGISTRY, code)).toBe(true);
  });

  it("keeps the defaults beside a partial override", () => {
    const s = parseAlertRules({ deny_burst: { threshold: 3 }, source_silent: { sources: ["bot_a"] } });
    expect(s.deny_burst).toEqual({ ...DEFAULT_ALERT_RULES.deny_burst, threshold: 3 });
    expect(s.source_silent).toEqual({ ...DEFAULT_ALERT_RULES.source_silent, sources: ["bot_a"] });
    expect(s.unknown_open).toEqual(DEFAULT_ALERT_RULES.unknown_open);
  });

  it("accepts 0 to turn source_silent and unknown_open off, and an empty code list", () => {
    const s = parseAlertRules({
      source_silent: { after_ms: 0 },
      unknown_open: { after_ms: 0 },
      deny_burst: { codes: [] },
    });
    expect([s.source_silent.after_ms, s.unknown_open.after_ms, s.deny_burst.codes]).toEqual([0, 0, []]);
  });

  it.each([
    [{ deny_burst: { threshold: 0 } }, "deny_burst.threshold"],
    [{ deny_burst: { threshold: 2.5 } }, "deny_burst.threshold"],
    [{ deny_burst: { window_ms: 0 } }, "deny_burst.window_ms"],
    [{ deny_burst: { cooldown_ms: -1 } }, "deny_burst.cooldown_ms"],
    [{ deny_burst: { codes: ["not_exit_owner"] } }, "deny_burst.codes.0"],
    [{ deny_burst: { codes: ["unauthenticated", "unauthenticated"] } }, "deny_burst.codes"],
    [{ deny_burst: { treshold: 5 } }, "deny_burst.treshold"],
    [{ source_silent: { after_ms: "5m" } }, "source_silent.after_ms"],
    [{ source_silent: { sources: ["bad\nname"] } }, "source_silent.sources.0"],
    [{ unknown_open: { after_ms: Number.POSITIVE_INFINITY } }, "unknown_open.after_ms"],
    [{ dlq: { enabled: "yes" } }, "dlq.enabled"],
    [{ max_tracked_keys: 0 }, "max_tracked_keys"],
    [{ watcher: {} }, "watcher"],
    ["text", "<settings>"],
  ])("refuses %j naming %s", (input, field) => {
    const parsed = alertRulesSchema.safeParse(input);
    expect(parsed.success).toBe(false);
    let error: unknown;
    try {
      parseAlertRules(input);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AlertRuleSettingsError);
    expect((error as AlertRuleSettingsError).field).toBe(field);
    expect((error as AlertRuleSettingsError).message).toContain(field);
  });
});
