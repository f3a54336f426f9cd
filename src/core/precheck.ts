import type { BusEntry } from "./busEntry.js";
import { classifyEntry, decideEntry } from "./decide.js";
import type { Facts } from "./facts.js";
import { peekPermitIssuer } from "./permit/permitToken.js";
import type { Policy } from "./policy.js";
import { baseCode, REASON_CODES, type Reason, type ReasonCode } from "./reasons.js";

/**
 * What a pre-check says of a plan (layer 1, wire-v1 §8 `check`). Passing is
 * NOT a decision: only the executor decides, with the facts of the moment it
 * reads the plan (a plan_id claimed meanwhile, a state change, the venue).
 */
export type PrecheckOutcome =
  /** Nothing found that would certainly deny it. */
  | { readonly ok: true; readonly uncertain?: UncertainDenial }
  /** The executor would deny it with `reason` at `gate`, given the same facts. */
  | { readonly ok: false; readonly reason: Reason; readonly gate: number };

/** A denial the pre-check saw but cannot be sure of, and why. */
export interface UncertainDenial {
  readonly reason: Reason;
  readonly why: string;
}

/** What {@link precheck} is given besides the entry. */
export interface PrecheckContext {
  readonly policy: Policy;
  /** The shared state the gates read (trading state, claims, rates, working orders), read without claiming anything. */
  readonly facts: Facts;
  /** Keys left out of `policy` because their secrets were not available: denials that hinge on them are uncertain. */
  readonly omittedKeys?: ReadonlySet<string>;
  readonly now: number;
}

/** Gates whose denials depend on the moment or on what only the executor knows. */
/**
 * Denials that pass with time: a rate limit, a duplicate whose window runs
 * out, a price not read yet, a daily cap that resets at 00:00 UTC, open
 * orders that close, positions and exposure that shrink.
 */
const TRANSIENT: ReadonlySet<string> = new Set([
  "limit:rate",
  "limit:duplicate_order",
  "limit:stale_price",
  "limit:daily_notional",
  "limit:open_orders",
  "limit:max_position",
  "limit:max_gross_notional",
]);
/** The last gate a pre-check judges: gate 10 (venue and signer) and 11 (execution) are the executor's. */
const LAST_JUDGED_GATE = 9;

/**
 * Runs the executor's own gates (`decideEntry`: schema, authentication,
 * source and lane, exit ownership, trading state, freshness, idempotency,
 * permit, static limits) on an entry against `facts`, and reports a denial
 * only when it is certain: a denial at gate 10 or 11, a rate limit or a
 * duplicate order (they pass with time), or one that hinges on a key the producer could not
 * load is reported as `uncertain`, with the plan still passing. Pure: it
 * claims and writes nothing.
 */
export function precheck(entry: Pick<BusEntry, "lane" | "fields">, ctx: PrecheckContext): PrecheckOutcome {
  const bus: BusEntry = { lane: entry.lane, id: "0-1", fields: entry.fields, deliveries: 1 };
  const classified = classifyEntry(bus);
  const { result } = decideEntry(classified, ctx.policy, ctx.facts, ctx.now);
  if (result.decision !== "DENIED" || result.error === null) {
    if (result.decision === "FAILED" && result.error !== null)
      return { ok: true, uncertain: { reason: result.error, why: "decided at execution, by the executor" } };
    return { ok: true };
  }
  const error = result.error;
  const gate = REASON_CODES[baseCode(error) as ReasonCode] ?? 0;
  const why = uncertainty(error, gate, bus, ctx.omittedKeys);
  if (why !== undefined) return { ok: true, uncertain: { reason: error, why } };
  return { ok: false, reason: error, gate };
}

function uncertainty(
  error: Reason,
  gate: number,
  entry: BusEntry,
  omitted: ReadonlySet<string> | undefined,
): string | undefined {
  if (gate > LAST_JUDGED_GATE) return "the venue and signer are the executor's to judge";
  if (TRANSIENT.has(error))
    return "it passes with time (a rate window, a duplicate window, a price read, a cap that frees up)";
  if (omitted === undefined || omitted.size === 0) return undefined;
  const code = baseCode(error);
  if (code === "unauthenticated") {
    const keyId = authKeyId(entry);
    if (keyId !== undefined && omitted.has(keyId)) return `key ${keyId} was not available to the pre-check`;
  }
  if (code === "permit_invalid") {
    const issuer = permitIssuer(entry);
    if (issuer !== undefined && omitted.has(issuer))
      return `issuer key ${issuer} was not available to the pre-check`;
  }
  return undefined;
}

/** The key id of the entry's `auth` field (`<alg>:<key_id>:<sig>`), if readable. */
function authKeyId(entry: BusEntry): string | undefined {
  const auth = entry.fields.find(([name]) => name === "auth")?.[1].toString("latin1");
  return auth?.split(":")[1];
}

/** The issuer of the plan's permit, if the plan and permit are readable. */
function permitIssuer(entry: BusEntry): string | undefined {
  const plan = entry.fields.find(([name]) => name === "plan")?.[1].toString("utf8");
  try {
    const permit = (JSON.parse(plan ?? "") as { permit?: unknown }).permit;
    return typeof permit === "string" ? peekPermitIssuer(permit) : undefined;
  } catch {
    return undefined;
  }
}
