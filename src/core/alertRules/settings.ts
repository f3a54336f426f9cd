import { z } from "zod";
import { REASON_REGISTRY, type ReasonCode } from "../reasons.js";

/**
 * Settings of the streaming alert rules (issue 12; docs/alert-rules.md):
 * thresholds, windows and cooldowns, every one with a default. Parsed
 * strictly: an unknown key at any level is refused, so a typo never silently
 * leaves a rule on its default.
 */

/** Settings of the `deny_burst` rule. */
export interface DenyBurstSettings {
  /** Base reason codes watched (wire §6); a result counts when its `error`'s base code is one of them. Empty: off. */
  readonly codes: readonly ReasonCode[];
  /** Matching results of one (code, source) within `window_ms` that make a burst. */
  readonly threshold: number;
  /** Width of the sliding window, on the results' own timestamps. */
  readonly window_ms: number;
  /** No second alert with the same dedup_key within this long. */
  readonly cooldown_ms: number;
}

/** Settings of the `source_silent` rule. */
export interface SourceSilentSettings {
  /** A watched source with no result for this long is silent; 0 turns the rule off. */
  readonly after_ms: number;
  readonly cooldown_ms: number;
  /** The sources watched; `null`: every source seen on lane `main` past gate 3. */
  readonly sources: readonly string[] | null;
}

/** Settings of the `unknown_open` rule. */
export interface UnknownOpenSettings {
  /** An `UNKNOWN` without its reconciled follow-up for this long alerts; 0 turns the rule off. */
  readonly after_ms: number;
  /** Also the reminder interval while it stays open. */
  readonly cooldown_ms: number;
}

/** Settings of the `dead_letter` rule (DLQ entries). */
export interface DeadLetterSettings {
  readonly enabled: boolean;
  readonly cooldown_ms: number;
}

/** Every alert-rule setting; {@link DEFAULT_ALERT_RULES} holds the defaults. */
export interface AlertRuleSettings {
  readonly deny_burst: DenyBurstSettings;
  readonly source_silent: SourceSilentSettings;
  readonly unknown_open: UnknownOpenSettings;
  readonly dlq: DeadLetterSettings;
  /** Most keys each piece of state tracks (burst keys, sources, open UNKNOWNs, cooldowns); the oldest go first. */
  readonly max_tracked_keys: number;
}

/** Every base code of the registry, for the `codes` enum. */
const BASE_CODES = Object.keys(REASON_REGISTRY) as [ReasonCode, ...ReasonCode[]];

/** A source name as plans carry it: 1–128 characters, no control characters (wire §3). */
export const SOURCE_NAME_RE = /^[^\u0000-\u001f\u007f]{1,128}$/;

/** The defaults: what `alertRulesSchema.parse({})` returns. */
export const DEFAULT_ALERT_RULES: AlertRuleSettings = Object.freeze({
  deny_burst: Object.freeze({
    codes: Object.freeze([
      "NOT_EXIT_OWNER",
      "unauthenticated",
      "permit_invalid",
      "signer_denied",
      "venue_not_ready",
    ] as const satisfies readonly ReasonCode[]),
    threshold: 10,
    window_ms: 60_000,
    cooldown_ms: 300_000,
  }),
  source_silent: Object.freeze({ after_ms: 300_000, cooldown_ms: 3_600_000, sources: null }),
  unknown_open: Object.freeze({ after_ms: 60_000, cooldown_ms: 3_600_000 }),
  dlq: Object.freeze({ enabled: true, cooldown_ms: 86_400_000 }),
  max_tracked_keys: 10_000,
});

const ms = z.int({ error: "must be an integer number of milliseconds" }).nonnegative({
  error: "must be a non-negative integer number of milliseconds",
});
const positiveMs = ms.positive({ error: "must be a positive integer number of milliseconds" });
const posInt = z.int({ error: "must be an integer" }).positive({ error: "must be a positive integer" });
const unique = <T>(list: readonly T[]) => new Set(list).size === list.length;

const D = DEFAULT_ALERT_RULES;

/**
 * Zod schema of {@link AlertRuleSettings}: every key optional with its
 * default, unknown keys refused; an issue's `path` names the field.
 */
export const alertRulesSchema = z
  .strictObject({
    deny_burst: z
      .strictObject({
        codes: z
          .array(z.enum(BASE_CODES, { error: "must be a registered base reason code (wire §6)" }))
          .refine(unique, { error: "must not repeat a code" })
          .default([...D.deny_burst.codes]),
        threshold: posInt.default(D.deny_burst.threshold),
        window_ms: positiveMs.default(D.deny_burst.window_ms),
        cooldown_ms: ms.default(D.deny_burst.cooldown_ms),
      })
      .prefault({}),
    source_silent: z
      .strictObject({
        after_ms: ms.default(D.source_silent.after_ms),
        cooldown_ms: ms.default(D.source_silent.cooldown_ms),
        sources: z
          .array(
            z.string().regex(SOURCE_NAME_RE, { error: "must be 1–128 characters, no control characters" }),
          )
          .refine(unique, { error: "must not repeat a source" })
          .nullable()
          .default(null),
      })
      .prefault({}),
    unknown_open: z
      .strictObject({
        after_ms: ms.default(D.unknown_open.after_ms),
        cooldown_ms: ms.default(D.unknown_open.cooldown_ms),
      })
      .prefault({}),
    dlq: z
      .strictObject({
        enabled: z.boolean({ error: "must be true or false" }).default(D.dlq.enabled),
        cooldown_ms: ms.default(D.dlq.cooldown_ms),
      })
      .prefault({}),
    max_tracked_keys: posInt.default(D.max_tracked_keys),
  })
  .prefault({}) satisfies z.ZodType<AlertRuleSettings, unknown>;

/** One problem with alert-rule settings, located by its dotted field path. */
export interface AlertRuleSettingsIssue {
  /** Dotted path, e.g. `deny_burst.threshold`; `<settings>` for the whole value. */
  readonly field: string;
  readonly message: string;
}

/** Alert-rule settings that do not parse; the message names every field at fault. */
export class AlertRuleSettingsError extends Error {
  override readonly name = "AlertRuleSettingsError";
  /** The first offending field. */
  readonly field: string;
  readonly issues: readonly AlertRuleSettingsIssue[];

  constructor(issues: readonly AlertRuleSettingsIssue[]) {
    super(`invalid alert rules: ${issues.map((i) => `${i.field}: ${i.message}`).join("; ")}`);
    this.field = issues[0]?.field ?? "<settings>";
    this.issues = Object.freeze([...issues]);
  }
}

/** Parses settings (e.g. the watcher's config section); throws {@link AlertRuleSettingsError}. */
export function parseAlertRules(input: unknown): AlertRuleSettings {
  const parsed = alertRulesSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  throw new AlertRuleSettingsError(
    parsed.error.issues.map((i) => {
      const unknownKeys = i.code === "unrecognized_keys" ? i.keys : [];
      const path = [...i.path, ...(unknownKeys.length === 1 ? unknownKeys : [])];
      return {
        field: path.length === 0 ? "<settings>" : path.map(String).join("."),
        message: i.code === "unrecognized_keys" ? `unknown key(s) ${unknownKeys.join(", ")}` : i.message,
      };
    }),
  );
}
