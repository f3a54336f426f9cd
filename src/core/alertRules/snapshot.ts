import { z } from "zod";
import { LANES } from "../plan.js";
import { REASON_REGISTRY, type ReasonCode } from "../reasons.js";
import { denyBurstKey } from "./alert.js";
import type { CooldownState } from "./cooldowns.js";
import type { DenyBurstState } from "./denyBurst.js";
import { KEPT_TEXT_RE } from "./resultFacts.js";
import { SOURCE_NAME_RE } from "./settings.js";
import type { SourceSeenState } from "./sourceSilent.js";
import type { OpenUnknownState } from "./unknownOpen.js";

/**
 * The rule engine's state as JSON: what a watcher stores (after acknowledging
 * the results it counted) and hands back to `AlertRuleEngine.restore`. Each
 * list is in its map's order, oldest first, so a restored engine drops and
 * prunes exactly as the one that was stopped would have.
 */
export interface AlertRuleSnapshot {
  readonly v: 1;
  /** The engine's clock: the latest time it was given; null before the first. */
  readonly clock: number | null;
  readonly deny_burst: readonly DenyBurstState[];
  readonly source_silent: readonly SourceSeenState[];
  readonly unknown_open: readonly OpenUnknownState[];
  readonly cooldowns: readonly CooldownState[];
}

/** A snapshot that cannot be restored; names the first field at fault. */
export class AlertRuleSnapshotError extends Error {
  override readonly name = "AlertRuleSnapshotError";
  /** Dotted path of the first offending field, `<snapshot>` for the whole value. */
  readonly field: string;

  constructor(field: string, problem: string) {
    super(`invalid alert-rule snapshot: ${field}: ${problem}`);
    this.field = field;
  }
}

const BASE_CODES = Object.keys(REASON_REGISTRY) as [ReasonCode, ...ReasonCode[]];
/** A time in ms (zod refuses NaN and infinities). */
const time = z.number();
const source = z.string().regex(SOURCE_NAME_RE);
const text = z.string().regex(KEPT_TEXT_RE);

const ascending = (xs: readonly number[]) => xs.every((x, i) => i === 0 || xs[i - 1]! <= x);
const distinct =
  <T>(key: (x: T) => string) =>
  (xs: readonly T[]) =>
    new Set(xs.map(key)).size === xs.length;

const snapshotSchema = z.strictObject({
  v: z.literal(1),
  clock: time.nullable(),
  deny_burst: z
    .array(
      z.strictObject({
        code: z.enum(BASE_CODES),
        source: source.nullable(),
        times: z.array(time).min(1).refine(ascending, { error: "must be ascending" }),
      }),
    )
    .refine(
      distinct((w: DenyBurstState) => denyBurstKey(w.code, w.source)),
      { error: "must not repeat a (code, source)" },
    ),
  source_silent: z.array(z.strictObject({ source, last_seen: time })).refine(
    distinct((s: SourceSeenState) => s.source),
    { error: "must not repeat a source" },
  ),
  unknown_open: z
    .array(
      z.strictObject({
        lane: z.enum(LANES as [string, ...string[]] as ["main", "manual"]),
        stream_id: text,
        plan_id: text.nullable(),
        source: source.nullable(),
        venue: text.nullable(),
        client_order_id: text.nullable(),
        opened_at: time,
      }),
    )
    .refine(
      distinct((u: OpenUnknownState) => `${u.lane}:${u.stream_id}`),
      { error: "must not repeat an entry" },
    ),
  cooldowns: z.array(z.strictObject({ dedup_key: z.string().min(1).max(1024), until: time })).refine(
    distinct((c: CooldownState) => c.dedup_key),
    { error: "must not repeat a dedup_key" },
  ),
});

/**
 * Checks a value (e.g. `JSON.parse` of a stored snapshot) is a snapshot;
 * throws {@link AlertRuleSnapshotError} naming the field when it is not, so a
 * bad snapshot is refused at restore and cannot fail the engine later.
 */
export function parseAlertRuleSnapshot(value: unknown): AlertRuleSnapshot {
  const parsed = snapshotSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const path = [...issue.path, ...(issue.code === "unrecognized_keys" ? issue.keys.slice(0, 1) : [])];
  throw new AlertRuleSnapshotError(
    path.length === 0 ? "<snapshot>" : path.map(String).join("."),
    issue.message,
  );
}
