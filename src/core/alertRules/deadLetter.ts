import { LANES, type Lane } from "../plan.js";
import { isRegisteredReason } from "../reasons.js";
import { type DeadLetterAlert, deadLetterKey } from "./alert.js";
import type { Cooldowns } from "./cooldowns.js";
import type { DeadLetterSettings } from "./settings.js";

/** What the rules read from one DLQ entry: the fields the executor adds, never the copied plan fields. */
export interface DlqEntry {
  readonly lane: Lane;
  /** The plan entry's id on its lane's stream. */
  readonly stream_id: string;
  /** How many times the entry was handed out, when readable. */
  readonly deliveries: number | null;
  /** The registered reason its result carries (`internal_error:delivery_limit`), when readable. */
  readonly error: string | null;
}

/** A stream entry id, `<ms>-<seq>`. */
const STREAM_ID_RE = /^\d{1,20}-\d{1,20}$/;

/**
 * Reads a DLQ entry's fields (wire §1: the entry's own fields, then `lane`,
 * `stream_id`, `deliveries`, `error` added by the executor). The executor's
 * fields come last, so the last occurrence of each name is taken: an entry
 * that itself carried a field named `lane` cannot pose as another entry.
 * Every other field (the plan text, its signature) is ignored, so nothing of
 * it can reach an alert. Returns null when `lane` or `stream_id` is missing
 * or not valid.
 */
export function dlqEntryFromFields(
  fields: ReadonlyArray<readonly [string, string | Uint8Array]>,
): DlqEntry | null {
  const last = new Map<string, string>();
  const decoder = new TextDecoder();
  for (const [name, value] of fields) {
    if (name === "lane" || name === "stream_id" || name === "deliveries" || name === "error") {
      last.set(name, typeof value === "string" ? value : decoder.decode(value));
    }
  }
  const lane = last.get("lane");
  const streamId = last.get("stream_id");
  if (!LANES.includes(lane as Lane) || streamId === undefined || !STREAM_ID_RE.test(streamId)) return null;
  const deliveries = Number(last.get("deliveries") ?? Number.NaN);
  const error = last.get("error");
  return {
    lane: lane as Lane,
    stream_id: streamId,
    deliveries: Number.isSafeInteger(deliveries) && deliveries > 0 ? deliveries : null,
    error: error !== undefined && isRegisteredReason(error) ? error : null,
  };
}

/**
 * The `dead_letter` rule: every DLQ entry alerts, with the executor's own
 * `dead_letter` fields and dedup_key (`dead_letter:<lane>:<stream_id>`). The
 * executor already sends that alert after its commit, but a lost alert is
 * only logged there; this rule is the watcher's backstop, and a consumer
 * de-duplicates the two by dedup_key. Reading the same entry again within
 * the cooldown (a DLQ re-read after a restart) does not alert twice.
 */
export class DeadLetterRule {
  readonly #settings: DeadLetterSettings;

  /** Stateless but for the engine's cooldowns. */
  constructor(settings: DeadLetterSettings) {
    this.#settings = settings;
  }

  /** The alert for one DLQ entry, unless off or cooling down. */
  observe(entry: DlqEntry, clock: number, cooldowns: Cooldowns): DeadLetterAlert | undefined {
    if (!this.#settings.enabled) return undefined;
    const key = deadLetterKey(entry.lane, entry.stream_id);
    if (!cooldowns.claim(key, clock, this.#settings.cooldown_ms)) return undefined;
    return {
      v: 1,
      timestamp: clock,
      kind: "dead_letter",
      severity: "warning",
      dedup_key: key,
      lane: entry.lane,
      stream_id: entry.stream_id,
      plan_id: null,
      source: null,
      deliveries: entry.deliveries,
      error: entry.error,
    };
  }
}
